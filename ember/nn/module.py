"""``Module``: the base class of every layer and model, with PyTorch's API.

A Module keeps its learnable ``Parameter``s, its buffers (non-learned state such as running means) and its
sub-modules in three ordered dicts, filled by plain attribute assignment (``self.fc = nn.Linear(3, 4)``).
Everything else walks that tree: ``parameters()``, ``state_dict()`` (PyTorch's exact key names, so weights
move between the two libraries), ``train()/eval()``, ``to(dtype)``, hooks and the ``repr`` tree.
"""
from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import Iterator, NamedTuple

from ..backend import xp
from ..backend import dtypes as _dt
from ..tensor import Tensor, device as _device, _check_device
from ..backend.device import to_device as _to_device, device_of as _device_of
from .._tensor_device import to_args as _to_args
from ..autograd.grad_mode import no_grad
from ..autograd.function import Function
from .parameter import Parameter, Buffer

__all__ = ["Module"]


class _IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"

    __str__ = __repr__


class _RemovableHandle:
    """Returned by ``register_*_hook``: ``handle.remove()`` unregisters the hook."""
    _next_id = itertools.count()

    def __init__(self, hooks_dict: OrderedDict, extra: tuple = ()):
        self.id = next(self._next_id)
        self._dicts = (hooks_dict,) + tuple(extra)

    def remove(self) -> None:
        for d in self._dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_RAW_DATA = Tensor.__dict__["_data"]    # the slot itself (lazy modules' placeholders hide it)


def _addindent(s: str, n: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(" " * n + line for line in lines)


def _as_array(value, key: str):
    """State-dict values may be ember Tensors, NumPy arrays, torch tensors or nested lists."""
    if isinstance(value, Tensor):
        if getattr(type(value), "cls_to_become", None) is not None:
            value.shape     # an UninitializedParameter/Buffer: PyTorch's "Can't access the shape" error
        return value._data
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):   # a torch tensor
        return value.detach().cpu().numpy()
    try:
        return xp.asarray(value)
    except Exception:  # noqa: BLE001
        raise TypeError(f"load_state_dict: the value for key '{key}' must be a Tensor or array, got "
                        f"{type(value).__name__}") from None


# While load_state_dict walks the tree, _load_from_state_dict only records the copies it would make here;
# they are applied once the whole tree has been validated, so a refused load changes nothing.
_PENDING: list = []


class Module:
    """Base class for all neural network modules (``torch.nn.Module``).

    Subclass it, assign layers and ``Parameter``s in ``__init__`` (after ``super().__init__()``), and write
    ``forward``; call the module (not ``forward``) so that hooks run::

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 128)
                self.fc2 = nn.Linear(128, 10)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))
    """

    training: bool
    _version: int = 1
    call_super_init: bool = False

    def __init__(self, *args, **kwargs) -> None:
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments {args} {kwargs}; "
                            f"Module.__init__ takes none")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = {}
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = {}
        d["_forward_hooks_always_called"] = {}
        d["_backward_hooks"] = OrderedDict()
        d["_load_state_dict_pre_hooks"] = OrderedDict()
        d["_state_dict_hooks"] = OrderedDict()

    # -- forward and hooks ---------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        """The computation; every subclass defines it.  Call the module itself, not ``forward``."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if not (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"]):
            return self.forward(*args, **kwargs)     # the fast path: no hooks
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hid, hook in list(self._forward_pre_hooks.items()):
            if self._forward_pre_hooks_with_kwargs.get(hid):
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError(f"forward pre-hook with kwargs must return None or a tuple of "
                                           f"(new_args, new_kwargs), got {res!r}")
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        bw = self._backward_hooks
        state = None
        if bw:
            state = _BackwardHookState(self)
            args = state.wrap_inputs(args)
        try:
            out = self.forward(*args, **kwargs)
        except Exception:
            for hid, hook in list(self._forward_hooks.items()):
                if self._forward_hooks_always_called.get(hid):
                    try:
                        hook(self, args, None)
                    except Exception:  # noqa: BLE001 - the original error matters more
                        pass
            raise
        for hid, hook in list(self._forward_hooks.items()):
            if self._forward_hooks_with_kwargs.get(hid):
                res = hook(self, args, kwargs, out)
            else:
                res = hook(self, args, out)
            if res is not None:
                out = res
        if state is not None:
            out = state.wrap_outputs(out)
        return out

    def register_forward_pre_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False):
        """Call ``hook(module, args)`` before each forward; a non-None result replaces the positional args
        (a single value is wrapped in a tuple).  With ``with_kwargs=True`` the hook is
        ``hook(module, args, kwargs)`` and returns ``(args, kwargs)`` or None.  Returns a removable handle."""
        h = _RemovableHandle(self._forward_pre_hooks, (self._forward_pre_hooks_with_kwargs,))
        self._forward_pre_hooks[h.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[h.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(h.id, last=False)
        return h

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False):
        """Call ``hook(module, args, output)`` after each forward; a non-None result replaces the output.
        Returns a handle with ``.remove()``.

        >>> h = layer.register_forward_hook(lambda m, i, o: print(o.shape)); h.remove()
        """
        h = _RemovableHandle(self._forward_hooks, (self._forward_hooks_with_kwargs,
                                                   self._forward_hooks_always_called))
        self._forward_hooks[h.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[h.id] = True
        if always_call:
            self._forward_hooks_always_called[h.id] = True
        if prepend:
            self._forward_hooks.move_to_end(h.id, last=False)
        return h

    def register_full_backward_hook(self, hook, prepend: bool = False):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients w.r.t. the module's tensor inputs
        are computed (tuples, None for inputs that need no grad); a non-None result replaces grad_input."""
        h = _RemovableHandle(self._backward_hooks)
        self._backward_hooks[h.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(h.id, last=False)
        return h

    # -- registration --------------------------------------------------------------------------------------
    def register_parameter(self, name: str, param) -> None:
        """Add a parameter (a ``Parameter`` or None) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            f"(ember.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Add a buffer: module state saved in ``state_dict`` (unless ``persistent=False``) but not learned,
        e.g. BatchNorm's ``running_mean``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"buffer name should be a string. Got {type(name).__name__}")
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            f"(ember Tensor or None required)")
        if isinstance(tensor, Buffer):
            persistent = getattr(tensor, "persistent", persistent)
            plain = Tensor._make(tensor._data)
            plain._version = tensor._version
            tensor = plain
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module) -> None:
        """Add a child module (or None) under ``name``; it becomes an attribute."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._check_name(name, "module")
        self._modules[name] = module

    register_module = add_module

    @staticmethod
    def _check_name(name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')

    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove_from(self, name, keep="_parameters")     # a re-assigned parameter keeps its position
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(ember.nn.Parameter or None expected)")
            params[name] = None
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _remove_from(self, name, keep="_modules")        # a re-assigned child keeps its position
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                f"(ember.nn.Module or None expected)")
            modules[name] = None
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if buffers is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(ember Tensor or None expected)")
            if isinstance(value, Buffer):
                persistent = value.persistent
            else:
                persistent = name not in self._non_persistent_buffers_set
            if name not in buffers:
                _remove_from(self, name)
            self.register_buffer(name, value, persistent)   # an existing entry is overwritten in place (its position)
            return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # only called when normal lookup fails: parameters, buffers and modules live in the three dicts
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        if name in d.get("_parameters", ()):
            del self._parameters[name]
        elif name in d.get("_buffers", ()):
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in d.get("_modules", ()):
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        attrs = list(object.__dir__(self))
        keys = list(self._parameters) + list(self._modules) + list(self._buffers)
        return sorted(set(a for a in attrs + keys if not (isinstance(a, str) and a[:1].isdigit())))

    def __setstate__(self, state):
        self.__dict__.update(state)

    # -- traversal -----------------------------------------------------------------------------------------
    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mod_prefix, mod in modules:
            for k, v in get_members(mod):
                if v is None:
                    continue
                if remove_duplicate:
                    if id(v) in memo:
                        continue
                    memo.add(id(v))
                yield (mod_prefix + ("." if mod_prefix else "") + k), v

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every learnable parameter (each shared one once), in registration order; pass to an optimizer."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """``(name, parameter)`` pairs with dotted names as in ``state_dict`` (``"0.weight"``)."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (persistent or not)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """``(name, buffer)`` pairs."""
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def children(self) -> Iterator["Module"]:
        """The direct sub-modules."""
        for _, m in self.named_children():
            yield m

    def named_children(self):
        """``(name, module)`` for each direct sub-module (each object once)."""
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def modules(self) -> Iterator["Module"]:
        """This module and every sub-module, depth first (each object once)."""
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """``(name, module)`` for this module (name ``prefix``) and every descendant, depth first.
        Iterative, so very deep models do not hit Python's recursion limit."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if remove_duplicate:
                if id(mod) in memo:
                    continue
                memo.add(id(mod))
            yield name, mod
            kids = [(name + ("." if name else "") + k, m) for k, m in mod._modules.items() if m is not None]
            stack.extend(reversed(kids))

    def get_submodule(self, target: str) -> "Module":
        """The sub-module at a dotted path (``"encoder.layers.0"``); ``""`` is this module."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item) or not isinstance(getattr(mod, item), Module):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}` that is an nn.Module "
                                     f"(looking up '{target}')")
            mod = getattr(mod, item)
        return mod

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path (``"0.weight"``)."""
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{mod._get_name()} has no parameter `{name}` (looking up '{target}')")
        return mod._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path (``"bn.running_mean"``)."""
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._buffers:
            raise AttributeError(f"{mod._get_name()} has no buffer `{name}` (looking up '{target}')")
        return mod._buffers[name]

    # -- modes and gradients -------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (dropout active, batch norm uses batch statistics) on this module and its
        descendants; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> "Module":
        """``train(False)``: dropout off, batch norm uses running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Turn gradient recording on or off for every parameter (freezing layers); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad``: to None (the default) or, as PyTorch, zero the same tensor in place
        (detached from any graph ``create_graph`` left on it)."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g._data[...] = 0
                    g._version[0] += 1

    def apply(self, fn) -> "Module":
        """Call ``fn(module)`` on every sub-module (children first) and then on self; used for custom init."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # -- dtype / device ------------------------------------------------------------------------------------
    def _apply(self, fn) -> "Module":
        """Replace each parameter's and buffer's array by ``fn(array)`` in place, keeping the objects (so an
        optimizer built before still holds the same parameters)."""
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                old = _RAW_DATA.__get__(p, Tensor)     # (an uninitialized parameter's placeholder too)
                new = fn(old)
                if new is not old:
                    p._data = new
                    p._version[0] += 1
                if p.grad is not None:
                    g = fn(p.grad._data)
                    if g is not p.grad._data:
                        p.grad = Tensor._make(g)
            for k, b in m._buffers.items():
                if b is not None:
                    old = _RAW_DATA.__get__(b, Tensor)
                    new = fn(old)
                    if new is not old:
                        b._data = new
                        b._version[0] += 1
        return self

    def to(self, *args, **kwargs) -> "Module":
        """Move parameters and buffers to a device and/or cast the floating-point ones to a dtype
        (``model.to("cuda")``, ``model.to(ember.float64)``, ``model.to(device, dtype)``, ``model.to(tensor)``).
        In place, keeping the parameter objects (an optimizer made before still holds them); returns self."""
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"Module.to() got unexpected keyword arguments {sorted(kwargs)}")
        dtype, dev = _to_args(args, dtype, dev)
        if dtype is not None:
            dtype = _dt.to_dtype(dtype)
            if dtype.kind not in "fc":
                raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        if dev is not None:
            dv = _check_device(dev)
            self._apply(lambda a: _to_device(a, dv.type, dv.index))
        if dtype is None:
            return self
        return self._apply(lambda a: a.astype(dtype) if a.dtype.kind == "f" and a.dtype != dtype else a)

    def float(self) -> "Module":
        """Cast floating-point parameters and buffers to float32."""
        return self.to(_dt.float32)

    def double(self) -> "Module":
        """Cast floating-point parameters and buffers to float64."""
        return self.to(_dt.float64)

    def half(self) -> "Module":
        """Cast floating-point parameters and buffers to float16."""
        return self.to(_dt.float16)

    def type(self, dst_type) -> "Module":
        """Cast every parameter and buffer (integer ones included) to ``dst_type``."""
        dtype = _dt.to_dtype(dst_type)
        return self._apply(lambda a: a.astype(dtype) if a.dtype != dtype else a)

    def cpu(self) -> "Module":
        """Move every parameter and buffer to the CPU (in place); returns self."""
        return self.to("cpu")

    def cuda(self, device=None) -> "Module":
        """Move every parameter and buffer to a CUDA device (``cuda:0`` by default; in place); returns self."""
        return self.to(f"cuda:{device}" if isinstance(device, int) else "cuda:0" if device is None else device)

    def share_memory(self) -> "Module":
        """Move every parameter, gradient and buffer into shared memory (``Tensor.share_memory_()``), so that
        processes started afterwards (``ember.multiprocessing``) train the same weights.  Returns self."""
        for t in itertools.chain(self.parameters(), self.buffers()):
            t.share_memory_()
            if t.grad is not None:
                t.grad.share_memory_()
        return self

    # -- state dict ----------------------------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        """Write this module's own parameters and persistent buffers (not its children's) into
        ``destination``; layers with special state override it."""
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ``OrderedDict`` from dotted names (PyTorch's exactly: ``"0.weight"``, ``"bn.running_mean"``) to
        detached tensors sharing memory with the module; non-persistent buffers are left out.

        >>> nn.Linear(2, 3).state_dict().keys()
        odict_keys(['weight', 'bias'])
        """
        if args:    # PyTorch's deprecated positional form state_dict(destination, prefix, keep_vars)
            from .._deprecation import warn
            warn("state_dict_args", once=False, category=FutureWarning)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        meta = getattr(destination, "_metadata", None)
        if meta is not None:
            meta[prefix[:-1]] = {"version": self._version}
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            res = hook(self, destination, prefix, {"version": self._version})
            if res is not None:
                destination = res
        return destination

    def register_state_dict_post_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata)`` after ``state_dict`` fills its entries."""
        h = _RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[h.id] = hook
        return h

    def register_load_state_dict_pre_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)`` before this module loads its entries (it may rename keys in ``state_dict``)."""
        h = _RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[h.id] = hook
        return h

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Check this module's own entries (PyTorch's hook point, same signature): record missing keys,
        unexpected keys and shape mismatches; the copies themselves are queued and applied by
        ``load_state_dict`` only when nothing is wrong anywhere in the model.  Layers with special state
        (BatchNorm's ``num_batches_tracked``) override it and call ``super()``."""
        for hook in self._load_state_dict_pre_hooks.values():
            hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local = itertools.chain(self._parameters.items(), persistent.items())
        local_state = {k: v for k, v in local if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            arr = _as_array(state_dict[key], key)
            if tuple(arr.shape) != tuple(param.shape):
                error_msgs.append(f"size mismatch for {key}: copying a param with shape {tuple(arr.shape)} from "
                                  f"checkpoint, the shape in current model is {tuple(param.shape)}.")
                continue
            _PENDING.append((self, name, param, arr, assign))
        if strict:
            for key in state_dict:
                if key.startswith(prefix):
                    input_name = key[len(prefix):].split(".", 1)[0]
                    if input_name not in self._modules and input_name not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy parameters and buffers from ``state_dict`` (values: ember Tensors, NumPy arrays, or torch
        tensors) into this module, casting to each parameter's dtype.

        Returns ``(missing_keys, unexpected_keys)``.  With ``strict=True`` any missing or unexpected key is an
        error; a shape mismatch is always an error.  The error names every bad key, and the module is left
        exactly as it was: everything is validated before anything is copied.  ``assign=True`` replaces the
        parameters by (Parameters wrapping) the given tensors instead of copying into them.

        >>> model.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})
        <All keys matched successfully>
        """
        if not isinstance(state_dict, dict) and not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        missing, unexpected, errors = [], [], []
        saved_pending = list(_PENDING)
        _PENDING.clear()
        try:
            for prefix_name, mod in self.named_modules(remove_duplicate=False):
                prefix = prefix_name + "." if prefix_name else ""
                meta = dict(metadata.get(prefix[:-1], {})) if metadata is not None else {}
                if assign:
                    meta["assign_to_params_buffers"] = True
                sub = {k: v for k, v in state_dict.items() if k.startswith(prefix)} if prefix else state_dict
                mod._load_from_state_dict(sub, prefix, meta, True, missing, unexpected, errors)
                if prefix:      # write back keys a hook may have added or renamed
                    for k in list(state_dict):
                        if k.startswith(prefix) and k not in sub:
                            del state_dict[k]
                    state_dict.update(sub)
            pending = list(_PENDING)
        finally:
            _PENDING.clear()
            _PENDING.extend(saved_pending)
        # a key is unexpected only if no module in the tree claimed it
        unexpected = list(OrderedDict.fromkeys(unexpected))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self._get_name(), "\n\t".join(errors)))
        with no_grad():
            for mod, name, param, arr, do_assign in pending:
                if do_assign:
                    if isinstance(param, Parameter):
                        t = Tensor._make(arr.astype(param.dtype, copy=False) if param.dtype.kind == "f" and
                                         arr.dtype.kind != "f" else arr)
                        mod._parameters[name] = Parameter(t, requires_grad=param.requires_grad)
                    else:
                        mod._buffers[name] = Tensor._make(arr)
                else:               # copy_ semantics: the values move to the parameter's device
                    xp.copyto(param._data, _to_device(arr, *_device_of(param._data)), casting="unsafe")
                    param._version[0] += 1
        return _IncompatibleKeys(missing, unexpected)

    # -- printing ------------------------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside ``Name(...)`` in the repr (e.g. ``in_features=3, out_features=4, bias=True``);
        override it in layers."""
        return ""

    def __repr__(self) -> str:
        extra_lines = []
        extra = self.extra_repr()
        if extra:
            extra_lines = extra.split("\n")
        child_lines = []
        for key, module in self._modules.items():
            mod_str = _addindent(repr(module), 2)
            child_lines.append("(" + key + "): " + mod_str)
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _remove_from(module: Module, name: str, keep: str | None = None) -> None:
    """Forget ``name`` everywhere except in the store ``keep``, where a re-assignment overwrites the entry
    in place, so it keeps its position in ``named_children()``, ``parameters()`` and ``state_dict()``."""
    d = module.__dict__
    if name in d:
        del d[name]
    for key in ("_parameters", "_buffers", "_modules"):
        if key == keep:
            continue
        store = d.get(key)
        if store is not None and name in store:
            del store[name]
    nps = d.get("_non_persistent_buffers_set")
    if nps is not None:
        nps.discard(name)


# -- full backward hooks -------------------------------------------------------------------------------------
class _BackwardHookFn(Function):
    """Identity on several tensors whose backward calls a callback with all their gradients at once: wrapped
    around a module's outputs it captures grad_output, around its inputs grad_input."""

    @staticmethod
    def forward(ctx, *arrays, callback=None):
        ctx.callback = callback
        return tuple(arrays)

    @staticmethod
    def backward(ctx, *grads):
        res = ctx.callback(grads)
        return tuple(res) if res is not None else grads


class _BackwardHookState:
    def __init__(self, module: Module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0
        self.wrapped_inputs = False

    def wrap_inputs(self, args):
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.n_inputs = sum(isinstance(a, Tensor) for a in args)
        if not idx:
            return args
        self.wrapped_inputs = True
        outs = _BackwardHookFn.apply(*[args[i] for i in idx], callback=self._on_inputs)
        args = list(args)
        for i, o in zip(idx, outs):
            args[i] = o
        return tuple(args)

    def wrap_outputs(self, out):
        single = isinstance(out, Tensor)
        seq = [out] if single else list(out) if isinstance(out, (tuple, list)) else None
        if seq is None:
            return out
        idx = [i for i, o in enumerate(seq) if isinstance(o, Tensor) and o.requires_grad]
        if not idx:
            return out
        wrapped = _BackwardHookFn.apply(*[seq[i] for i in idx], callback=self._on_outputs)
        for i, w in zip(idx, wrapped):
            seq[i] = w
        return seq[0] if single else type(out)(seq)

    def _on_outputs(self, grads):
        self.grad_output = tuple(grads)
        if not self.wrapped_inputs:     # no input needs grad: PyTorch still calls the hook, with Nones
            self._on_inputs((None,) * max(self.n_inputs, 1))
        return None

    def _on_inputs(self, grads):
        grad_input = tuple(grads)
        for hook in list(self.module._backward_hooks.values()):
            res = hook(self.module, grad_input, self.grad_output)
            if res is not None:
                grad_input = tuple(res)
        return grad_input
