"""``Tensor``: a backend array plus autograd metadata.

A Tensor owns one array (``_data``, a NumPy ndarray on CPU) and, when it takes part in a graph, the node
that made it (``grad_fn``) and the slot it fills among that node's outputs (``_oi``).  Every operator and
method delegates to a function in ``ember.ops``; this file holds no math of its own.

Views (``reshape``, ``transpose``, basic indexing, ``detach``) share the array and the version counter
(``_version``, a one-element list), so that an in-place change through any view is seen by the graph's
saved-tensor check.
"""
from __future__ import annotations

import numbers

import numpy as _np

from .backend import dtypes as _dt
from ._dtype import _BY_NP as _EDTYPE_OF, from_numpy_dtype as _edtype_of
from .backend import xp
from .autograd.grad_mode import state as _grad
from .autograd import function as _fn
from . import _tensor_inplace, _tensor_operators
from ._tensor_inplace import (_InplaceMethods, _view_fns_known, _check_overlap, _move_retain,  # noqa: F401
                              _refresh_view, _check_inplace_cast, _NoGradCtx)
from ._tensor_operators import _OperatorMethods
from ._tensor_device import _DeviceMethods, move as _move_to, _CPU, to_args as _to_args
from .backend import device as _backend_device
from ._tensor_format import _format, _formatter, _body, _summarized  # noqa: F401
from .sparse._layout import strided as _strided

from ._tensor_support import (Size, device, _check_device, max_return, _wrap_dim, _to_array, _check_int_literal, _bad_literal_leaf, _numpy_scalar_leaf, _flat_first, _tensors_to_lists)  # noqa: F401 - re-exported
from . import _tensor_support

_ndarray = _np.ndarray


class Tensor(_InplaceMethods, _OperatorMethods, _DeviceMethods):
    """A multi-dimensional array that can record the operations applied to it, like ``torch.Tensor``.

    ``Tensor(data)`` copies ``data`` (a list, a NumPy array or another Tensor) as float32, as PyTorch's legacy
    constructor does; prefer ``ember.tensor(data)``, which infers the dtype.

    >>> x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ("_data", "_rg", "_gradval", "grad_fn", "_oi", "_version", "_acc", "_hooks", "_retains", "_name",
                 "__weakref__", "__dict__")
    __array_priority__ = 1000   # make NumPy defer to Tensor's reflected operators
    # views only (set in the instance dict): [parent, replay fn (None when made without grad mode), the version
    # counter's value when grad_fn was last derived from the parent]; see _refresh_view
    _vw = None

    def __init__(self, *args, dtype=None, requires_grad: bool = False):
        if len(args) == 1 and not isinstance(args[0], numbers.Number):
            data = args[0]
            arr = _to_array(data, _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype(), copy=True)
        else:   # Tensor(2, 3): an uninitialized tensor of that shape, like torch.Tensor(2, 3)
            arr = xp.zeros(tuple(int(a) for a in args), _dt.to_dtype(dtype))
        _init(self, arr)
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, arr) -> "Tensor":
        """Wrap an array without copying (internal; no checks beyond turning a NumPy scalar, which some NumPy
        functions return for 0-d inputs, into a writable 0-d array)."""
        t = object.__new__(cls)
        if type(arr) is not _ndarray and not isinstance(arr, _ndarray):
            arr = _backend_device.as_array(arr)
        t._data = arr
        t._rg = False
        t._gradval = None
        t.grad_fn = None
        t._oi = 0
        t._version = [0]
        t._acc = None
        t._hooks = None
        t._retains = False
        return t

    # -- metadata ------------------------------------------------------------------------------------------
    @property
    def shape(self) -> "Size":
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape as a ``Size`` (a tuple), or one dimension's length."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def dtype(self):
        """The ``ember.dtype`` of the elements (prints as ``torch.float32``; equals NumPy's ``float32``)."""
        d = self._data.dtype
        try:
            return _EDTYPE_OF[d]
        except KeyError:
            return _edtype_of(d)

    # the other devices and layouts PyTorch asks about (device, is_cuda, is_cpu: _tensor_device)
    is_xpu = is_mps = is_meta = is_mkldnn = is_ipu = is_maia = is_mtia = is_vulkan = is_xla = property(
        lambda self: False, doc="False: ember tensors live on 'cpu' or 'cuda'.")
    is_sparse = is_sparse_csr = is_quantized = is_nested = property(
        lambda self: False, doc="False: a dense tensor (ember/sparse's SparseTensor says True), unquantized "
                                "and not nested.")
    layout = property(lambda self: _strided, doc="torch.strided (sparse COO tensors: torch.sparse_coo).")

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        """The non-zero entries as a sparse COO tensor (``torch.Tensor.to_sparse(sparse_dim=None)``)."""
        from .sparse._ops import to_sparse
        return to_sparse(self, sparse_dim, layout=layout, blocksize=blocksize, dense_dim=dense_dim)

    def to_sparse_coo(self):
        return self.to_sparse()

    def to_dense(self, dtype=None, *, masked_grad=None) -> "Tensor":
        """A dense tensor is its own dense form (``torch.Tensor.to_dense``); with ``dtype``, converted."""
        return self if dtype is None else self.to(dtype)

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def stride(self, dim: int | None = None):
        a = self._data
        st = tuple(s // a.itemsize for s in a.strides)
        if a.size == 0 and a.ndim and not any(st):     # NumPy leaves a fresh empty array's strides 0
            st = tuple(int(_np.prod([max(s, 1) for s in a.shape[i + 1:]], dtype=_np.int64)) for i in range(a.ndim))
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim, "stride")]

    def is_contiguous(self, memory_format=None) -> bool:
        """Row-major contiguity, or with ``memory_format=channels_last`` (4-D) / ``channels_last_3d`` (5-D)
        PyTorch's channels-last check (strides of size-1 dims ignored)."""
        fmt = str(memory_format).split(".")[-1] if memory_format is not None else "contiguous_format"
        if fmt in ("contiguous_format", "preserve_format"):
            return bool(self._data.flags.c_contiguous)
        order = {"channels_last": (1, 3, 2, 0), "channels_last_3d": (1, 4, 3, 2, 0)}.get(fmt)
        if order is None:
            raise RuntimeError(f"is_contiguous(): unknown memory_format {memory_format!r}")
        if self._data.ndim != len(order):
            return False
        shape, strides = self._data.shape, self.stride()
        expected = 1
        for d in order:
            if shape[d] != 1:
                if strides[d] != expected:
                    return False
                expected *= shape[d]
        return True

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def untyped_storage(self):
        """The memory this tensor lives in (shared by its views), as PyTorch's ``UntypedStorage``."""
        from ._storage import UntypedStorage
        return UntypedStorage._of(self)

    def resize_(self, *sizes, memory_format=None) -> "Tensor":
        """Give this tensor a new shape over its memory, growing it if needed (``torch.Tensor.resize_``)."""
        from ._storage import resize_
        return resize_(self, sizes, memory_format)

    def resize_as_(self, the_template, *, memory_format=None) -> "Tensor":
        from ._storage import resize_
        return resize_(self, (tuple(the_template.shape),), memory_format)

    def storage_offset(self) -> int:
        """Offset (in elements) of this tensor's first element in the memory it shares with its views."""
        from .ops.shape import _storage
        return _storage(self._data)[1]

    def _is_view(self) -> bool:
        """True for the result of a view op (slicing, view, transpose, expand, ...), as ``torch.Tensor._is_view``."""
        return self._vw is not None

    @property
    def _base(self):
        """The tensor a view was taken from (through any chain of views), or None, as in PyTorch."""
        vw = self._vw
        if vw is None:
            return None
        b = vw[0]
        while b._vw is not None:
            b = b._vw[0]
        return b

    # -- autograd metadata ---------------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        if self._vw is not None:
            try:
                _refresh_view(self)
            except RuntimeError:        # a multi-output view whose base changed: it does require grad
                return True
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None and not value:
            raise RuntimeError("you can only change requires_grad flags of leaf tensors; use .detach() to get a "
                               "non-requiring copy of a non-leaf tensor")
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Start (or stop) recording operations on this leaf tensor; returns self."""
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, got dtype "
                               f"{self._data.dtype}; convert with .float() first")
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf tensors")
        self._rg = bool(requires_grad)
        return self

    @property
    def grad(self):
        """The accumulated gradient (a Tensor of this shape and dtype), or None."""
        return self._gradval

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of shape {tuple(value.shape)} to a tensor of "
                                   f"shape {tuple(self.shape)}; they must match")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"attempting to assign a gradient of dtype {value.dtype} to a tensor of dtype "
                                   f"{self.dtype}; they must match")
        self._gradval = value

    @property
    def is_leaf(self) -> bool:
        if self._vw is not None:
            _refresh_view(self)
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        return self._retains

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's memory, outside the graph and with its own version counter (PyTorch's
        ``.data``: in-place changes through it are not seen by autograd's saved-tensor check, unlike
        ``detach()``'s)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value) -> None:
        arr = value._data if isinstance(value, Tensor) else _to_array(value, None)
        self._data = arr

    @property
    def name(self):
        return getattr(self, "_name", None)

    def _accumulator(self):
        acc = self._acc
        if acc is None:
            acc = self._acc = _AccumulateGrad(self)
        return acc

    def detach(self) -> "Tensor":
        """A tensor sharing this one's memory (and version counter) with no history."""
        t = Tensor._make(self._data)
        t._version = self._version
        return t

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._rg = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
            return
        if self._retains:
            return
        self._retains = True
        import weakref
        ref = weakref.ref(self)

        def _store(g):
            t = ref()
            if t is not None:
                gd = g.detach() if not _grad.create_graph else g
                t.grad = gd.clone() if t.grad is None else t.grad + gd
        _store._ember_retain = True     # runs after the user's hooks, whatever the order (as in PyTorch 2)
        _store._ember_owner = ref
        self._add_node_hook(_store)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when the gradient w.r.t. this tensor is computed; a returned tensor replaces
        the gradient.  Returns a handle with ``.remove()``."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            return _Handle(self._hooks, hook)
        return self._add_node_hook(hook)

    def _add_node_hook(self, hook):
        node = self.grad_fn
        if node._pre_hooks is None:
            node._pre_hooks = {}
        lst = node._pre_hooks.setdefault(self._oi, [])
        lst.append(hook)
        return _Handle(lst, hook)

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate the gradient of this tensor w.r.t. every leaf that requires grad into their ``.grad``.

        A non-scalar tensor needs ``gradient`` (the vector in the vector-Jacobian product)."""
        run_backward = _engine.run_backward
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; backward() on a "
                                   f"tensor of shape {tuple(self.shape)} needs gradient= of that shape")
            d = self._data
            gradient = Tensor._make((_np if type(d) is _ndarray else _backend_device.array_module(d)).ones(
                d.shape, d.dtype))
        elif not isinstance(gradient, Tensor):
            gradient = Tensor._make(_to_array(gradient, self._data.dtype))
        if gradient._data.shape != self._data.shape:
            raise RuntimeError(f"backward: gradient has shape {tuple(gradient.shape)} but the tensor has shape "
                               f"{tuple(self.shape)}; they must match")
        if retain_graph is None:
            retain_graph = create_graph
        if inputs is not None:
            inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            grads = run_backward([self], [gradient], retain_graph, create_graph, inputs=inputs, allow_unused=True,
                                 accumulate=False)
            for x, g in zip(inputs, grads):
                if g is not None:
                    g = g if create_graph else g.detach()
                    x.grad = g.clone() if x.grad is None else x.grad + g
            return
        run_backward([self], [gradient], retain_graph, create_graph)

    # -- conversion ----------------------------------------------------------------------------------------
    def item(self):
        if _fn._tracer is not None:
            _fn._tracer.concrete(self, "item()")
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to a Python scalar "
                               f"(item() needs exactly one element; shape is {tuple(self.shape)})")
        return self._data.reshape(()).item()

    def tolist(self):
        if _fn._tracer is not None:
            _fn._tracer.concrete(self, "tolist()")
        return self._data.tolist()

    def numpy(self, *, force: bool = False):
        """The underlying NumPy array (shares memory).  Refuses tensors that require grad, like PyTorch."""
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        if _fn._tracer is not None:
            _fn._tracer.concrete(self, "numpy()")
        if type(self._data) is not _ndarray and _backend_device.is_device_array(self._data):
            if force:
                return self.cpu()._data
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy "
                            f"the tensor to host memory first.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self._data
        if type(a) is not _ndarray and _backend_device.is_device_array(a):
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy "
                            f"the tensor to host memory first.")
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        return a

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index, got dtype "
                            f"{self.dtype} and shape {tuple(self.shape)}")
        return int(self.item())

    def __bool__(self):
        if _fn._tracer is not None:
            _fn._tracer.concrete(self, "bool()")
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} elements is ambiguous "
                               f"(shape {tuple(self.shape)}); use .any() or .all()")
        return bool(self._data.reshape(()).item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __reduce_ex__(self, proto):
        # DataLoader worker processes send batches through multiprocessing; graph state is not carried.
        if self.__dict__.get("_shared") and self.is_shared():   # the receiver maps the same memory
            from .multiprocessing._shm import reduce_array
            return (_rebuild_shared, (reduce_array(self._data), self._rg))
        return (_rebuild, (self._data, self._rg))

    def share_memory_(self) -> "Tensor":
        """Move the data into memory shared with child processes (``fork`` children, and ``spawn`` children or
        queues it is sent to) so that they all read and write the same values (Hogwild training).  In place;
        returns self."""
        from .multiprocessing._shm import share_array
        self._data = share_array(self._data)
        self.__dict__["_shared"] = True
        return self

    def pin_memory(self, device=None) -> "Tensor":
        """Page-locked memory is for copies to an accelerator: without one this raises, as PyTorch does; with
        CUDA it returns the tensor itself (CuPy copies from ordinary host memory; pinning is not done)."""
        from .backend import device as _devmod
        if _devmod.cuda_module(required=False) is None:
            raise RuntimeError("pin_memory: cannot access an accelerator device when none is available (ember "
                               "runs on 'cpu'; pinned memory only speeds up copies to a GPU)")
        return self

    def is_pinned(self, device=None) -> bool:
        return False

    def is_shared(self) -> bool:
        from .multiprocessing._shm import shared_owner
        return bool(self.__dict__.get("_shared")) and shared_owner(self._data) is not None

    def register_post_accumulate_grad_hook(self, hook):
        """On a leaf: call ``hook(tensor)`` after its ``.grad`` has been accumulated in backward.  Returns a
        handle with ``.remove()``."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = self.__dict__.setdefault("_post_acc_hooks", [])
        hooks.append(hook)
        return _Handle(hooks, hook)

    def __deepcopy__(self, memo):
        t = Tensor._make(self._data.copy())
        t._rg = self._rg
        if self.grad is not None:
            t.grad = Tensor._make(self.grad._data.copy())
        if type(self) is not Tensor:
            t.__class__ = type(self)
            t.__dict__.update({k: v for k, v in self.__dict__.items() if k != "_vw"})   # a copy is no view
        memo[id(self)] = t
        return t

    def to(self, *args, dtype=None, copy: bool = False, **kwargs) -> "Tensor":
        """This tensor with another dtype and/or on another device: ``x.to(ember.float64)``, ``x.to("cuda")``,
        ``x.to("cuda", ember.float16)``, ``x.to(other)`` (other's dtype and device).  Returns ``self`` when
        nothing changes (unless ``copy=True``); a device copy keeps the strides of a dense tensor."""
        dev = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        memory_format = kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        dtype, dev = _to_args(args, dtype, dev)
        out = self
        if dev is not None:
            out = _move_to(self, _check_device(dev))
        if dtype is not None:
            dtype = _dt.to_dtype(dtype)
            if dtype != out._data.dtype:
                out = _ops.cast(out, dtype)
        if copy and out is self:
            out = self.clone()
        if memory_format is not None and memory_format != "preserve_format" and \
                str(memory_format).rpartition(".")[2] != "preserve_format":
            out = out.contiguous(memory_format=memory_format)
        return out

    def type(self, dtype=None, non_blocking: bool = False, **kwargs):
        if dtype is None:          # "torch.FloatTensor" while the compat hook is installed ("...cuda.Float...")
            name = _TYPE_NAMES.get(self.dtype, str(self.dtype))
            if self.is_cuda:
                name = name.replace("ember.", "ember.cuda.", 1)
            return name.replace("ember.", Size._prefix + ".", 1)
        if isinstance(dtype, str) and dtype in _TYPE_FROM_NAME:
            dtype = _TYPE_FROM_NAME[dtype]
        elif isinstance(dtype, type) and issubclass(dtype, _LegacyType):
            dtype = dtype._dtype
        return self.to(dtype)

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    def float(self, memory_format="preserve_format") -> "Tensor":
        return _cast_format(self.to(_dt.float32), memory_format)

    def double(self, memory_format="preserve_format") -> "Tensor":
        return _cast_format(self.to(_dt.float64), memory_format)

    def half(self, memory_format="preserve_format") -> "Tensor":
        return _cast_format(self.to(_dt.float16), memory_format)

    def long(self, memory_format="preserve_format") -> "Tensor":
        return _cast_format(self.to(_dt.int64), memory_format)

    def int(self, memory_format="preserve_format") -> "Tensor":
        return _cast_format(self.to(_dt.int32), memory_format)

    def short(self, memory_format="preserve_format") -> "Tensor":
        return _cast_format(self.to(_dt.int16), memory_format)

    def bool(self, memory_format="preserve_format") -> "Tensor":
        return _cast_format(self.to(_dt.bool_), memory_format)

    def byte(self, memory_format="preserve_format") -> "Tensor":
        return _cast_format(self.to(_dt.uint8), memory_format)

    def clone(self, *, memory_format="preserve_format") -> "Tensor":
        """A copy (in the graph); keeps the strides of a dense input (``preserve_format``, the default) or
        uses ``memory_format`` (``contiguous_format``, ``channels_last``), as PyTorch."""
        from .ops.shape import _clone
        return _clone(self, memory_format)

    def contiguous(self, memory_format="contiguous_format") -> "Tensor":
        if memory_format is None or str(memory_format).endswith("contiguous_format"):
            return self if self._data.flags.c_contiguous else _ops.shape._CloneAs.apply(self, None)
        from .ops.shape import _clone, _layout_for
        want = _layout_for(self, memory_format)
        a = self._data
        if want is not None and all(n == 1 or s // a.itemsize == w for n, s, w in zip(a.shape, a.strides, want)):
            return self
        return _clone(self, memory_format)

    def as_strided(self, size, stride, storage_offset=None) -> "Tensor":
        return _ops.shape.as_strided(self, size, stride, storage_offset)

    def unfold(self, dimension: int, size: int, step: int) -> "Tensor":
        """Every slice of length ``size`` along ``dimension``, ``step`` apart, as a new last dim (a view)."""
        return _ops.shape._tensor_unfold(self, dimension, size, step)

    def new(self, *args, device=None) -> "Tensor":
        """The legacy constructor (``Tensor.new``): sizes give a new tensor of this dtype, data a copy in it."""
        from ._tensor_support import legacy_new
        return legacy_new(self, args, device)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False, layout="strided", pin_memory=False):
        from .creation import tensor, _layout
        _layout(layout, pin_memory, "new_tensor")
        return tensor(data, dtype=dtype or self.dtype, device=_dev_or_own(self, device),
                      requires_grad=requires_grad)

    def new_zeros(self, *args, size=None, dtype=None, device=None, requires_grad=False, layout="strided",
                  pin_memory=False):
        from .creation import zeros
        return zeros(*args, size=size, dtype=dtype or self.dtype, device=_dev_or_own(self, device),
                     requires_grad=requires_grad, layout=layout, pin_memory=pin_memory)

    def new_ones(self, *args, size=None, dtype=None, device=None, requires_grad=False, layout="strided",
                 pin_memory=False):
        from .creation import ones
        return ones(*args, size=size, dtype=dtype or self.dtype, device=_dev_or_own(self, device),
                    requires_grad=requires_grad, layout=layout, pin_memory=pin_memory)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False, layout="strided",
                 pin_memory=False):
        from .creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, device=_dev_or_own(self, device),
                    requires_grad=requires_grad, layout=layout, pin_memory=pin_memory)

    def new_empty(self, *args, size=None, dtype=None, device=None, requires_grad=False, layout="strided",
                  pin_memory=False):
        return self.new_zeros(*args, size=size, dtype=dtype, device=_dev_or_own(self, device),
                              requires_grad=requires_grad, layout=layout, pin_memory=pin_memory)

    # -- printing ------------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return _format(self)

    __str__ = __repr__

    def __format__(self, spec):
        # as PyTorch: a 0-d plain Tensor formats as its Python number (f"{t}" is "5"); others as objects
        if self._data.ndim == 0 and type(self) is Tensor:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    # -- shape shortcuts that are properties in PyTorch ----------------------------------------------------
    @property
    def T(self) -> "Tensor":
        nd = self._data.ndim
        if nd != 2:         # PyTorch's deprecation warnings (once), for the user's own x.T
            from ._deprecation import warn
            warn("T0d" if nd == 0 else "T", user_only=True)
        return _ops.permute(self, tuple(range(nd - 1, -1, -1)))

    @property
    def mT(self) -> "Tensor":
        return self._matrix_t("mT")

    @property
    def mH(self) -> "Tensor":
        return self._matrix_t("mH")

    def _matrix_t(self, name) -> "Tensor":
        if self._data.ndim == 0:        # PyTorch: a 0-d tensor is its own (matrix) transpose, a view
            return _ops.permute(self, ())
        if self._data.ndim < 2:
            raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices, got a "
                               f"{self._data.ndim}-D tensor")
        return _ops.transpose(self, -2, -1)

    @property
    def H(self) -> "Tensor":
        if self._data.ndim not in (0, 2):
            raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors), got a {self._data.ndim}-D "
                               f"tensor; use .mH for batches of matrices")
        return self.T


def _cast_format(t: Tensor, memory_format) -> Tensor:
    """``x.float(memory_format=...)`` and the other casts: ``preserve_format`` keeps the result as ``to`` made it."""
    if memory_format is None or str(memory_format).endswith("preserve_format"):
        return t
    return t.contiguous(memory_format)


def _dev_or_own(t: Tensor, dev):
    """A ``new_*`` method's device: the argument, else the tensor's own (PyTorch)."""
    return t.device if dev is None else dev


def _init(t: Tensor, arr) -> None:
    t._data = arr
    t._rg = False
    t._gradval = None
    t.grad_fn = None
    t._oi = 0
    t._version = [0]
    t._acc = None
    t._hooks = None
    t._retains = False


def _rebuild(arr, rg):
    t = Tensor._make(arr)
    t._rg = rg
    return t


def _rebuild_shared(reduced, rg):
    from .multiprocessing._shm import rebuild_array
    t = _rebuild(rebuild_array(*reduced), rg)
    t.__dict__["_shared"] = True
    return t


class _Handle:
    def __init__(self, container, item):
        self._c, self._item = container, item

    def remove(self) -> None:
        try:
            self._c.remove(self._item)
        except ValueError:
            pass


_tensor_support.Tensor = Tensor


class _LegacyMeta(type):
    """The legacy tensor types' class-level attributes, as PyTorch's ``torch.tensortype``:
    ``ember.FloatTensor.dtype`` is ``ember.float32`` (a property of this metaclass, so ``Tensor.dtype`` on
    instances is untouched), and ``isinstance(x, ember.FloatTensor)`` holds for a dense CPU float32 tensor."""

    @property
    def dtype(cls):
        return _edtype_of(_np.dtype(cls._dtype))

    is_cuda = is_sparse = property(lambda cls: False)

    def __instancecheck__(cls, obj):
        if "_dtype" not in cls.__dict__:        # _LegacyType itself: the ordinary check
            return type.__instancecheck__(cls, obj)
        return (isinstance(obj, Tensor) and obj._data.dtype == cls._dtype and not obj.is_sparse
                and not obj.is_cuda)


class _LegacyType(Tensor, metaclass=_LegacyMeta):
    """``FloatTensor(data)`` / ``LongTensor(data)``: legacy constructors that tutorials still use."""
    _dtype = _dt.float32

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not isinstance(args[0], numbers.Number):
            arr = _to_array(args[0], cls._dtype, copy=True)
        else:
            arr = xp.zeros(tuple(int(a) for a in args), cls._dtype)
        return Tensor._make(arr)


class FloatTensor(_LegacyType):
    _dtype = _dt.float32


class DoubleTensor(_LegacyType):
    _dtype = _dt.float64


class LongTensor(_LegacyType):
    _dtype = _dt.int64


class IntTensor(_LegacyType):
    _dtype = _dt.int32


class BoolTensor(_LegacyType):
    _dtype = _dt.bool_


class ByteTensor(_LegacyType):
    _dtype = _dt.uint8


_TYPE_NAMES = {_dt.float32: "ember.FloatTensor", _dt.float64: "ember.DoubleTensor", _dt.int64: "ember.LongTensor",
               _dt.int32: "ember.IntTensor", _dt.bool_: "ember.BoolTensor", _dt.uint8: "ember.ByteTensor",
               _dt.float16: "ember.HalfTensor", _dt.int8: "ember.CharTensor", _dt.int16: "ember.ShortTensor"}
_TYPE_FROM_NAME = {v: k for k, v in _TYPE_NAMES.items()}
_TYPE_FROM_NAME.update({v.replace("ember.", "torch."): k for k, v in _TYPE_NAMES.items()})

from .autograd import function as _function  # noqa: E402
from .autograd.function import AccumulateGrad as _AccumulateGrad  # noqa: E402
from .autograd.function import _Saved  # noqa: E402
from .autograd import engine as _engine  # noqa: E402

_function.Tensor = Tensor
_function._refresh_view = _refresh_view
from . import ops as _ops  # noqa: E402

# in-place ops whose backward needs neither the old value of self nor anything computed from it
_NO_SNAPSHOT = frozenset({_ops.add, _ops.sub, _ops.neg, _ops.copy_into, _ops.masked_fill})
_tensor_inplace.Tensor, _tensor_inplace._to_array, _tensor_inplace._Saved = Tensor, _to_array, _Saved
_tensor_inplace._ops = _tensor_operators._ops = _ops
_tensor_inplace._NO_SNAPSHOT = _NO_SNAPSHOT
