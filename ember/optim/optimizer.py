"""``Optimizer``: the base class of every optimizer in ``ember.optim``, with PyTorch's layout and semantics.

An optimizer holds ``param_groups`` (a list of dicts: ``'params'`` plus that group's options, filled from
``defaults``) and ``state`` (a dict keyed by parameter tensor).  ``step()`` walks every parameter that has a
gradient and hands its raw arrays to the subclass's ``_update``; the math then runs in place on NumPy arrays,
outside any graph, and the parameter's version counter is bumped so that a stale saved tensor is detected.

``state_dict()`` has PyTorch's layout::

    {'state': {0: {'step': 3.0, 'exp_avg': tensor(...)}, ...},
     'param_groups': [{'lr': 0.001, ..., 'params': [0, 1]}]}

so a checkpoint holds only tensors, numbers, strings and lists (JSON-able once the tensors are taken out).
"""
from __future__ import annotations

import copy
import math
import numbers
from collections import defaultdict
from typing import Any, Callable, Iterable

from ..backend import xp
from ..backend.device import device_of as _device_of, to_device as _to_device
from ..tensor import Tensor
from ..autograd.grad_mode import enable_grad

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marker for an option with no default (``SGD(params)`` without ``lr`` in old PyTorch)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _scalar(v) -> float:
    """A learning rate or coefficient as a Python number (a one-element tensor is accepted, as in PyTorch)."""
    if isinstance(v, Tensor):
        return float(v._data.reshape(-1)[0])
    if hasattr(v, "item") and not isinstance(v, numbers.Number):   # a torch tensor or NumPy scalar
        return float(v.item())
    return v


def _lerp_(a, b, w: float, t=None) -> None:
    """``a.lerp_(b, w)`` on arrays, with PyTorch's two-branch formula (it keeps the end points exact); ``t``:
    a scratch array of ``a``'s shape for the difference (no temporaries)."""
    if t is None:
        t = xp.empty_like(a)
    xp.subtract(b, a, out=t)
    if abs(w) < 0.5:
        t *= w
        a += t
    else:
        t *= 1 - w
        xp.subtract(b, t, out=a)


def _as_array_like(value, like):
    """A state value loaded from a checkpoint as an ember tensor with ``like``'s dtype, on ``like``'s device
    (as PyTorch's ``load_state_dict`` moves the state to its parameter's device; torch tensors and NumPy arrays
    are accepted too)."""
    if isinstance(value, Tensor):
        arr = value._data
    elif hasattr(value, "detach") and hasattr(value, "numpy"):   # a torch tensor
        arr = value.detach().cpu().numpy()
    else:
        arr = xp.asarray(value)
    if arr.dtype.kind == "f" and like is not None:
        arr = arr.astype(like._data.dtype, copy=True)
    else:
        arr = arr.copy()
    if like is not None:
        arr = _to_device(arr, *_device_of(like._data))
    return Tensor._make(arr)


class Optimizer:
    """Base class for all optimizers, like ``torch.optim.Optimizer``.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (parameter groups with
    their own options); ``defaults`` fills each group's missing options.  Subclasses implement
    ``_init_state(p, state, group)`` and ``_update(p, g, state, group)`` on raw arrays, or override ``step``.

    >>> opt = ember.optim.SGD([w], lr=0.1)
    >>> loss = (w * w).sum(); opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._step_pre_hooks: dict[int, Callable] = {}
        self._step_post_hooks: dict[int, Callable] = {}
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params argument given to the optimizer should be an iterable of Tensors "
                            f"or dicts, but got a Tensor")
        if isinstance(params, dict):
            raise TypeError(f"{name}: params argument should be an iterable of Tensors or dicts, got a dict; "
                            f"wrap a single parameter group in a list")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"{name} got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(dict(group))

    # -- groups ------------------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group (a dict with ``'params'`` and optional options) to ``param_groups``.

        Useful for fine-tuning: unfreeze layers and add them with their own learning rate.

        >>> opt.add_param_group({'params': head.parameters(), 'lr': 1e-3})
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: optimizer parameters need to be organized in ordered collections, but the "
                            f"ordering of tensors in sets will change between runs; use a list instead")
        else:
            param_group["params"] = list(params)
        plist = param_group["params"]
        # named parameters: [(name, tensor), ...] as given by model.named_parameters()
        if plist and isinstance(plist[0], tuple):
            param_group["param_names"] = [n for n, _ in plist]
            param_group["params"] = plist = [p for _, p in plist]
        for p in plist:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (detach it or make it a Parameter)")
        for key, default in self.defaults.items():
            if default is required and key not in param_group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required optimization "
                                 f"parameter {key}")
            param_group.setdefault(key, default)
        ids = [id(p) for p in plist]
        if len(set(ids)) != len(ids):
            import warnings
            warnings.warn(f"{name}: a parameter group contains duplicate parameters; in future this will cause "
                          f"an error", UserWarning, stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if seen.intersection(ids):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- the update --------------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors: ``None`` (the default) or zero-filled in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad
                    if g.grad_fn is not None:      # a gradient left with a graph by create_graph: detach, as PyTorch
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g._data[...] = 0
                    g._version[0] += 1

    def step(self, closure: Callable | None = None):
        """Perform one optimization step; ``closure`` (re-evaluates the model and returns the loss) is optional
        for every optimizer but LBFGS.  Returns the closure's loss (or None)."""
        for hook in list(self._step_pre_hooks.values()):
            hook(self, (), {})
        self._opt_called = True   # read by LRScheduler to warn about a scheduler stepped first
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._group_step(group)
        for hook in list(self._step_post_hooks.values()):
            hook(self, (), {})
        return loss

    # the ``_update`` of this class when it is elementwise (a step may then run on several threads: see
    # _split_update.py); a subclass that overrides ``_update`` no longer matches it and runs on one thread
    _split_update = None
    _split_cost = 1             # Adam's work per element over this update's (SGD: 2, splits from 2x the size)

    def _chunkable(self, state: dict, group: dict) -> bool:
        """Whether ``_update`` may run on chunks of this parameter's flat views (its state then holds every
        tensor it touches; subclasses that set ``_split_update``)."""
        return True

    def _group_step(self, group: dict[str, Any]) -> None:
        cls = type(self)
        work = [] if cls._update is cls._split_update else None
        for p in group["params"]:
            if p.grad is None:
                continue
            g = p.grad._data
            if g.dtype != p._data.dtype:
                g = g.astype(p._data.dtype)
            if group.get("maximize", False):
                g = -g
            state = self.state[p]
            if len(state) == 0:
                self._init_state(p, state, group)
            if work is None:
                self._update(p._data, g, state, group)
                p._version[0] += 1
            else:
                work.append((p, g, state))
        if work:
            from ._split_update import split_step, update_all
            arrays = [(p._data, g, s) for p, g, s in work]
            if not split_step(self, arrays, group):
                update_all(self, arrays, group)
            for p, _, _ in work:
                p._version[0] += 1

    def _init_state(self, p: Tensor, state: dict, group: dict) -> None:
        """Fill ``state`` for a parameter on its first step (subclasses)."""

    def _update(self, p, g, state: dict, group: dict) -> None:  # pragma: no cover - abstract
        """Update the raw array ``p`` in place from the raw gradient ``g`` (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    # -- hooks -------------------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook: Callable):
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``; returns a handle with ``remove()``."""
        return _Handle(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable):
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``; returns a handle with ``remove()``."""
        return _Handle(self._step_post_hooks, hook)

    # -- checkpoints -------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as ``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index]}]}``.

        Parameters are replaced by their position across all groups, so the dict can be loaded into a fresh
        optimizer built over the same parameters.  Like PyTorch, the state tensors are returned by reference:
        ``copy.deepcopy`` the result to keep a snapshot while training goes on.

        >>> ckpt = opt.state_dict(); opt2.load_state_dict(ckpt)
        """
        index: dict[int, int] = {}
        start = 0
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                if id(p) not in index:
                    index[id(p)] = start
                    start += 1
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if isinstance(p, Tensor) and id(p) in index and len(s) > 0:
                state[index[id(p)]] = s
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state produced by ``state_dict()`` (ember's, or PyTorch's with its tensors).

        The number of groups and each group's size must match this optimizer's; the saved options (``lr``,
        ...) replace the current ones.  Integer keys that became strings in JSON are accepted.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups' keys")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has {len(saved_groups)} parameter "
                             f"groups but the optimizer has {len(groups)}")
        for i, (g, sg) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(f"{name}.load_state_dict: loaded state dict contains a parameter group of size "
                                 f"{len(sg['params'])} that doesn't match the size of optimizer's group {i} "
                                 f"({len(g['params'])} parameters)")
        id_map = {}
        for g, sg in zip(groups, saved_groups):
            for saved_id, p in zip(sg["params"], g["params"]):
                id_map[int(saved_id)] = p

        def cast(param, value, key=None):
            if isinstance(value, Tensor) or (hasattr(value, "detach") and hasattr(value, "numpy")):
                # 'step' keeps its own dtype (a count); buffers take the parameter's dtype
                t = _as_array_like(value, None if key == "step" else param)
                if key == "step" and t._data.ndim == 0:
                    return float(t._data)
                return t
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return copy.deepcopy(value)

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            key = int(k) if isinstance(k, str) and k.lstrip("-").isdigit() else k
            if key in id_map:
                state[id_map[key]] = cast(id_map[key], v)
            else:
                state[key] = v
        new_groups = []
        for g, sg in zip(groups, saved_groups):
            sg["params"] = g["params"]
            if "param_names" in g and "param_names" not in sg:
                sg["param_names"] = g["param_names"]
            if "betas" in sg and isinstance(sg["betas"], list):   # JSON turns tuples into lists
                sg["betas"] = tuple(sg["betas"])
            new_groups.append(sg)
        self.__setstate__({"state": state, "param_groups": new_groups})

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if not hasattr(self, "_step_pre_hooks"):
            self._step_pre_hooks = {}
            self._step_post_hooks = {}

    def __repr__(self) -> str:
        s = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"\n    {key}: {group[key]}"
        return s + "\n)"


class _Handle:
    """A removable hook registration."""
    _next = 0

    def __init__(self, table: dict, hook: Callable) -> None:
        _Handle._next += 1
        self.id = _Handle._next
        self.table = table
        table[self.id] = hook

    def remove(self) -> None:
        self.table.pop(self.id, None)


def _check(cond: bool, name: str, what: str, value, expected: str) -> None:
    """Raise PyTorch's "Invalid ..." ValueError, naming the optimizer and the range expected."""
    if not cond:
        raise ValueError(f"{name}: invalid {what}: {value} (expected {expected})")


def _check_lr(name: str, lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError(f"{name}: Tensor lr must be 1-element, got shape {tuple(lr.shape)}")
    v = _scalar(lr)
    if not isinstance(v, numbers.Real) or math.isnan(v) or not v >= 0.0:
        raise ValueError(f"{name}: invalid learning rate: {lr} (expected a number >= 0)")
