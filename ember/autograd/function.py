"""The op contract.  Every differentiable op is a ``Function`` subclass; an instance is both the ``ctx`` its
forward writes into and the graph node (``grad_fn``) that backward runs.

Internal ops (``ember.ops``) work on raw backend arrays in ``forward`` and return arrays; their ``backward``
receives and returns Tensors, written with ember ops, so that ``create_graph=True`` records it and second
derivatives work.  Broadcasting is undone in one place, the engine, which sums each gradient back to its
input's shape.  The user-facing ``ember.autograd.Function`` (below, PyTorch's API) instead hands Tensors to
``forward``.
"""
from __future__ import annotations

import functools

from .grad_mode import state as _grad


class Function:
    """Base of every differentiable op.  Subclasses define static ``forward(ctx, *inputs, **params)`` and
    ``backward(ctx, *grad_outputs)``; call them through ``Cls.apply(*inputs, **params)``.

    ``backward`` returns one gradient per positional input (``None`` where not needed or not differentiable).
    """

    # Instance slots hold the node's state; kept lean because one node is made per recorded op.
    __slots__ = ("next_edges", "_in_meta", "_out_meta", "_saved", "_freed", "_pre_hooks", "needs_input_grad",
                 "__dict__", "__weakref__")

    _raw_forward = True       # internal ops: forward sees arrays.  The public Function flips this.
    # rare per-node state, set in the instance's __dict__ only when used (reading them never creates the dict)
    _nondiff = ()             # mark_non_differentiable
    _post_hooks = None        # register_hook
    _node_prehooks = None     # register_prehook

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - interface
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):  # pragma: no cover - interface
        raise NotImplementedError

    # -- ctx API -------------------------------------------------------------------------------------------
    def save_for_backward(self, *items) -> None:
        """Keep arrays (or Tensors) for backward; inputs and outputs are version-checked at unpack time."""
        self._saved = items

    @property
    def saved_tensors(self) -> tuple:
        """The saved values as Tensors; raises if one was modified in place since it was saved, or if the
        graph was already freed by a previous backward."""
        if self._freed:
            raise RuntimeError(_freed_message(self))
        return tuple(s.unpack(self) if isinstance(s, _Saved) else s for s in self._saved)

    def _saved_arrays(self) -> tuple:
        """The saved values as raw arrays (scalars and None as saved), with ``saved_tensors``' checks: for the
        backward formulas the engine runs on arrays when no graph is recorded (``ember.ops._raw_backward``)."""
        if self._freed:
            raise RuntimeError(_freed_message(self))
        out = []
        for s in self._saved:
            if type(s) is _Saved:
                t = s.unpack(self) if s.version_box[0] != s.version else s.tensor   # unpack raises
                out.append(s.array if t is None else t._data)
            elif isinstance(s, Tensor):
                out.append(s._data)
            else:
                out.append(s)
        return tuple(out)

    def mark_non_differentiable(self, *outputs) -> None:
        self.__dict__["_nondiff"] = {id(o) for o in outputs}

    def set_materialize_grads(self, value: bool) -> None:
        self.__dict__["_materialize"] = bool(value)

    # -- graph introspection (PyTorch's Node API) ----------------------------------------------------------
    def name(self) -> str:
        """PyTorch 2.13's name for this node (``"MulBackward0"``, ``"MmBackward0"``, ``"NllLossBackward0"``...):
        the table in ``ember.autograd._torch_names`` maps ember's op classes to PyTorch's ops."""
        return _torch_name(self)

    @property
    def next_functions(self) -> tuple:
        """One ``(node, output_index)`` pair per forward input: the node that produced it (an
        ``AccumulateGrad`` for a leaf that requires grad), or ``(None, 0)`` for inputs outside the graph."""
        try:
            edges, meta = self.next_edges, self._in_meta
        except AttributeError:      # a node made without recording (no graph)
            return ()
        return tuple(e if e is not None else (None, 0) for e, m in zip(edges, meta) if m is not False)

    @property
    def metadata(self) -> dict:
        return self.__dict__.setdefault("_metadata", {})

    def register_hook(self, fn):
        """Run ``fn(grad_inputs, grad_outputs)`` after this node's backward (as PyTorch's Node hooks); a
        returned tuple replaces ``grad_inputs``.  Returns a handle with ``.remove()``."""
        self.__dict__.setdefault("_post_hooks", []).append(fn)
        return _Handle(self.__dict__["_post_hooks"], fn)

    def register_prehook(self, fn):
        """Run ``fn(grad_outputs)`` before this node's backward (after the output tensors' own hooks); a
        returned tuple replaces ``grad_outputs``.  Returns a handle with ``.remove()``."""
        self.__dict__.setdefault("_node_prehooks", []).append(fn)
        return _Handle(self.__dict__["_node_prehooks"], fn)

    def release(self) -> None:
        self._saved = ()
        self._freed = True

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    # -- apply ---------------------------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args, **kwargs):
        if _tracer is not None and not _tracer.busy:    # ember.jit.trace is recording (one global check)
            return _tracer.record(cls, args, kwargs)
        ctx = cls.__new__(cls)
        ctx._saved = ()
        ctx._freed = False
        ctx._pre_hooks = None
        needs = False
        if _grad.enabled:
            # one pass over the inputs: the arrays forward sees, which inputs need a gradient, the graph edges
            # and the input metadata
            raw = []
            flags = []
            edges = []
            meta = []
            for a in args:
                if type(a) is Tensor or isinstance(a, Tensor):
                    if a._vw is not None and a._vw[2] != a._version[0]:
                        _refresh_view(a)     # a view whose base was modified in place: re-derive its history
                    d = a._data
                    raw.append(d)
                    if a._rg:
                        needs = True
                        fn = a.grad_fn
                        if fn is not None:
                            edges.append((fn, a._oi))
                        else:
                            acc = a._acc
                            edges.append((acc if acc is not None else a._accumulator(), 0))
                        meta.append((d.shape, d.dtype))
                        flags.append(True)
                        continue
                    meta.append(None)
                else:
                    raw.append(a)
                    meta.append(False)      # False: not a tensor (next_functions)
                edges.append(None)
                flags.append(False)
        else:
            raw = [a._data if type(a) is Tensor or isinstance(a, Tensor) else a for a in args]
        if _devices.active:             # a CUDA module is loaded: the op's tensors must share one device
            _same_device(cls, args, raw)
        if needs:
            ctx.needs_input_grad = tuple(flags)
        else:
            ctx.needs_input_grad = _NO_GRADS[len(args)] if len(args) < 8 else (False,) * len(args)
        if cls._raw_forward:
            out = cls.forward(ctx, *raw, **kwargs)
        else:
            with _NoGrad():
                out = cls.forward(ctx, *[a.detach() if isinstance(a, Tensor) else a for a in args], **kwargs)
        multi = type(out) is tuple
        if not needs:                   # the common no-graph path (inference, and every op inside a backward)
            if not multi:
                return Tensor._make(out) if type(out) is _ndarray else _wrap(out)
            return tuple(_wrap(o) for o in out)
        ctx.next_edges = edges
        ctx._in_meta = meta
        nondiff = ctx._nondiff
        if not multi:                   # one output (most ops): no loop
            t = Tensor._make(out) if type(out) is _ndarray else _wrap(out)
            d = t._data
            if d.dtype.kind in "fc" and (not nondiff or id(out) not in nondiff):
                t._rg = True
                t.grad_fn = ctx
                t._oi = 0
            ctx._out_meta = [(d.shape, d.dtype)]
            if ctx._saved:
                ctx._saved = _resolve_saved(ctx._saved, args, (t,), cls._raw_forward, (out,), raw)
            return t
        results = []
        out_meta = []
        for i, o in enumerate(out):
            t = _wrap(o)
            if id(o) not in nondiff and t._data.dtype.kind in "fc":
                t._rg = True
                t.grad_fn = ctx
                t._oi = i
            results.append(t)
            out_meta.append((t._data.shape, t._data.dtype))
        ctx._out_meta = out_meta
        if ctx._saved:
            ctx._saved = _resolve_saved(ctx._saved, args, results, cls._raw_forward, out, raw)
        return tuple(results)


class _Saved:
    """A saved value with the version of the tensor it came from, checked when backward unpacks it."""
    __slots__ = ("tensor", "array", "out_index", "version_box", "version")

    def __init__(self, tensor, array, out_index, box):
        self.tensor = tensor
        self.array = array
        self.out_index = out_index
        self.version_box = box
        self.version = box[0]

    def unpack(self, node):
        if self.version_box[0] != self.version:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: the tensor of shape {tuple(self.array.shape)} saved by {type(node).__name__} is at "
                f"version {self.version_box[0]}; expected version {self.version} instead. Use an out-of-place "
                f"op (or .clone()) before modifying it.")
        if self.tensor is not None:
            return self.tensor
        # a saved output: rebuild it pointing at this node (no reference cycle while the graph is alive)
        t = Tensor._make(self.array)
        t._version = self.version_box
        t._rg = True
        t.grad_fn = node
        t._oi = self.out_index
        return t


def _resolve_saved(saved, args, results, raw, raw_outs=(), raw_args=None):
    out = []
    for s in saved:
        item = s
        if s is None:
            out.append(None)
            continue
        if type(s) is _ndarray and raw_args is not None:
            # the common case, an array of an internal op's forward: an input's array (raw_args[i] is args[i]
            # for a non-tensor input, which is not a match), else an output's
            i = 0
            for x in raw_args:
                if x is s and args[i] is not s:
                    a = args[i]
                    sv = _new(_Saved)       # _Saved(a, s, 0, a._version) without the __init__ call
                    sv.tensor, sv.array, sv.out_index, sv.version_box = a, s, 0, a._version
                    sv.version = a._version[0]
                    out.append(sv)
                    break
                i += 1
            else:
                out.append(_saved_output(s, s, results, raw_outs))
            continue
        arr = s._data if isinstance(s, Tensor) else s
        if arr is None or not hasattr(arr, "shape"):
            out.append(s)
            continue
        for a in args:
            if isinstance(a, Tensor) and (a._data is arr or a is s):
                item = _Saved(a, arr, 0, a._version)
                break
        else:
            item = _saved_output(s, arr, results, raw_outs)
        out.append(item)
    return tuple(out)


def _saved_output(s, arr, results, raw_outs):
    for i, r in enumerate(results):
        # a forward on 0-d arrays may return (and save) a NumPy scalar that _wrap turned into an array
        if r._data is arr or r is s or (i < len(raw_outs) and raw_outs[i] is arr):
            return _Saved(None, r._data, i, r._version) if r._rg else r
    return s if isinstance(s, Tensor) else Tensor._make(arr)


def _freed_message(node) -> str:
    return (f"Trying to backward through the graph a second time (or to read saved tensors after they were "
            f"freed) at {type(node).__name__}. Saved buffers are freed after .backward(); pass "
            f"retain_graph=True to the first backward if you need to backward twice.")


class _Handle:
    """Returned by ``register_hook``; ``remove()`` detaches the hook."""

    def __init__(self, container, item):
        self._c, self._item = container, item

    def remove(self) -> None:
        try:
            self._c.remove(self._item)
        except ValueError:
            pass


class _NoGrad:
    def __enter__(self):
        self.prev = _grad.enabled
        _grad.enabled = False

    def __exit__(self, *exc):
        _grad.enabled = self.prev


_NO_GRADS = tuple((False,) * n for n in range(8))     # needs_input_grad of a call without a graph


def _wrap(o):
    if type(o) is _xp.ndarray:
        return Tensor._make(o)
    if isinstance(o, Tensor):
        return o
    # NumPy returns scalars (immutable) from ops on 0-d arrays: keep every tensor an array
    return Tensor._make(_devices.as_array(o))


def _same_device(cls, args, raw) -> None:
    """Refuse an op whose tensors live on different devices, naming both, as PyTorch does; a 0-d CPU tensor
    (a scalar) joins the others' device, as PyTorch allows.  ``raw`` (the arrays forward sees) is updated."""
    where = None
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            dv = _devices.device_of(raw[i])
            if where is None:
                where = (dv, i)
            elif dv != where[0]:
                break
    else:
        return
    # two devices: 0-d CPU tensors follow the device tensors; anything else is an error
    dev = next((_devices.device_of(raw[i]) for i, a in enumerate(args) if isinstance(a, Tensor)
                and (_devices.device_of(raw[i])[0] != "cpu" or raw[i].ndim > 0)), where[0])
    seen = []
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            continue
        dv = _devices.device_of(raw[i])
        if dv == dev:
            continue
        if dv[0] == "cpu" and raw[i].ndim == 0:
            raw[i] = _devices.to_device(raw[i], *dev)
            continue
        seen.append((dv, i))
    if seen:
        dv, i = seen[0]
        name = lambda d: d[0] if d[1] is None else f"{d[0]}:{d[1]}"       # noqa: E731
        op = getattr(cls, "__name__", "op").lstrip("_")
        raise _devices.DeviceError(
            f"{op}: expected all tensors to be on the same device, but found at least two devices, {name(dev)} "
            f"and {name(dv)} (argument {i}, shape {tuple(raw[i].shape)}, is on {name(dv)}); move them with "
            f".to(device)")


def once_differentiable(backward):
    """Decorator for a ``backward`` written on raw arrays: it refuses ``create_graph=True`` with a clear error
    instead of silently returning gradients that cannot be differentiated again."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        if _grad.create_graph:
            raise RuntimeError(f"{type(ctx).__name__} is once-differentiable: its backward is a fused kernel "
                               f"on raw arrays and cannot be differentiated again (create_graph=True).")
        return backward(ctx, *grads)
    return wrapper


class UserFunction(Function):
    """PyTorch's ``torch.autograd.Function`` for user-defined ops: ``forward(ctx, *args)`` receives Tensors
    (run without recording), ``backward(ctx, *grads)`` receives and returns Tensors::

        class Cube(ember.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3
            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * x ** 2 * g
    """
    _raw_forward = False

    def name(self) -> str:
        return type(self).__name__ + "Backward"      # PyTorch names a custom Function's node "<Name>Backward"


class AccumulateGrad:
    """The graph node at a leaf: adds the incoming gradient into ``leaf.grad`` (after the leaf's hooks)."""
    __slots__ = ("_var", "next_edges", "__weakref__")

    def __init__(self, var) -> None:
        import weakref
        self._var = weakref.ref(var)
        self.next_edges = ()

    @property
    def variable(self):
        return self._var()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"     # PyTorch's name for this node

    @property
    def next_functions(self) -> tuple:
        return ()

    @property
    def metadata(self) -> dict:
        return {}

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


from ..backend import xp as _xp  # noqa: E402
from ..backend import device as _devices  # noqa: E402

_ndarray = _xp.ndarray
_new = object.__new__

from ._torch_names import torch_name as _torch_name  # noqa: E402

_tracer = None  # the active ember.jit tracer (ember/jit/_trace.py sets and clears it)
_hooked = False  # Function.apply is replaced (ember.profiler is recording): every op goes through it
Tensor = None   # bound by ember.tensor once the class exists (the two modules need each other)
_refresh_view = None    # likewise (ember.tensor._refresh_view)
