"""``Parameter`` and ``Buffer``: the Tensor subclasses a ``Module`` recognizes when they are assigned to it.

Assigning a ``Parameter`` to a module attribute registers it as a learnable weight (it shows up in
``parameters()`` and ``state_dict()``); assigning a ``Buffer`` registers persistent non-learnable state
(running statistics), like PyTorch 2.x's ``torch.nn.Buffer``.
"""
from __future__ import annotations

from ..backend import xp
from ..backend import dtypes as _dt
from ..tensor import Tensor, _to_array

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"]


def _array_of(data, who: str):
    if data is None:
        return xp.empty((0,), _dt.get_default_dtype()), None
    if isinstance(data, Tensor):
        return data._data, data._version
    if hasattr(data, "detach") and hasattr(data, "numpy"):     # a torch tensor: take its values
        return xp.array(data.detach().cpu().numpy(), copy=True), None
    try:
        return _to_array(data, None), None
    except Exception as e:  # noqa: BLE001 - re-raised with the layer's name
        raise TypeError(f"{who}: expected a Tensor or array-like data, got {type(data).__name__}") from e


class Parameter(Tensor):
    """A Tensor that is a module's learnable weight: assigning it to a ``Module`` attribute registers it.

    ``Parameter(data)`` shares ``data``'s memory (no copy) and requires grad by default.

    >>> w = nn.Parameter(ember.randn(3, 4))
    >>> w.requires_grad
    True
    """

    def __new__(cls, data=None, requires_grad: bool = True):
        arr, version = _array_of(data, "Parameter")
        t = cls._make(arr)
        if version is not None:
            t._version = version        # a view of the same memory: in-place checks see both
        if requires_grad:
            t.requires_grad_(True)      # validates the dtype (integers cannot require grad)
        return t

    def __init__(self, data=None, requires_grad: bool = True):
        pass    # all the work is done in __new__ (Tensor.__init__ would copy the data)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        if self.__dict__.get("_shared") and self.is_shared():   # the receiver maps the same memory
            from ..multiprocessing._shm import reduce_array
            return (_rebuild_shared_parameter, (type(self), reduce_array(self._data), self._rg))
        return (_rebuild_parameter, (type(self), self._data, self._rg))


class Buffer(Tensor):
    """A marker for module state that is not learned (PyTorch 2.x's ``torch.nn.Buffer``).

    ``module.stat = nn.Buffer(ember.zeros(3))`` is ``module.register_buffer("stat", ember.zeros(3))``;
    ``persistent=False`` keeps it out of ``state_dict()``.

    >>> m = nn.Module(); m.count = nn.Buffer(ember.tensor(0)); list(m.state_dict())
    ['count']
    """

    def __new__(cls, data=None, *, persistent: bool = True):
        arr, version = _array_of(data, "Buffer")
        t = cls._make(arr)
        if version is not None:
            t._version = version
        t.persistent = bool(persistent)
        return t

    def __init__(self, data=None, *, persistent: bool = True):
        pass

    def __reduce_ex__(self, proto):
        return (_rebuild_buffer, (self._data, getattr(self, "persistent", True)))


def _rebuild_parameter(cls, arr, rg):
    return cls(Tensor._make(arr), requires_grad=rg)


def _rebuild_shared_parameter(cls, reduced, rg):
    from ..multiprocessing._shm import rebuild_array
    p = cls(Tensor._make(rebuild_array(*reduced)), requires_grad=rg)
    p.__dict__["_shared"] = True
    return p


def _rebuild_buffer(arr, persistent):
    return Buffer(Tensor._make(arr), persistent=persistent)


# ---------------------------------------------------------------------------------------------------- lazy
_DATA_SLOT = Tensor.__dict__["_data"]     # the raw slot, under the property the uninitialized classes put on top


def _raw(t):
    return _DATA_SLOT.__get__(t, type(t))


class UninitializedTensorMixin:
    """What ``UninitializedParameter`` and ``UninitializedBuffer`` share (PyTorch's mixin of that name): the
    tensor holds an empty placeholder whose dtype and device are the ones ``materialize`` will use; reading
    its data (any operation), its shape or sharing its memory is an error until it is materialized."""

    __slots__ = ()
    cls_to_become = None

    @property
    def _data(self):
        import sys
        fn = sys._getframe(1).f_code.co_name
        raise ValueError(
            f"Attempted to use an uninitialized parameter in {fn}. This error happens when you are using a "
            f"`LazyModule` or explicitly manipulating `torch.nn.parameter.{type(self).__name__}` objects. When "
            f"using LazyModules Call `forward` with a dummy batch to initialize the parameters before calling "
            f"torch functions")

    @_data.setter
    def _data(self, value):
        _DATA_SLOT.__set__(self, value)

    @property
    def dtype(self):
        from .._dtype import from_numpy_dtype
        return from_numpy_dtype(_raw(self).dtype)

    @property
    def device(self):
        return Tensor._make(_raw(self)).device

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
            "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
            "`forward` to initialize the parameters before accessing their attributes.")

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the tensor memory of ``shape`` (uninitialized values, the placeholder's dtype and device unless
        given) and turn it into its ``cls_to_become`` (``Parameter`` / ``Tensor``), in place: the object
        stays the same, so whatever holds it (an optimizer) sees the materialized tensor."""
        from ..creation import empty
        placeholder = Tensor._make(_raw(self))
        arr = empty(*tuple(int(s) for s in shape), dtype=placeholder.dtype if dtype is None else dtype,
                    device=placeholder.device if device is None else device)._data
        _DATA_SLOT.__set__(self, arr)
        self.__class__ = self.cls_to_become

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
                           "initialize the parameters before calling `module.share_memory()`.")

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (self.__class__, (self.requires_grad,))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.requires_grad, self.device, self.dtype)
        memo[id(self)] = result
        return result


def is_lazy(param) -> bool:
    """Whether ``param`` is an ``UninitializedParameter`` or ``UninitializedBuffer``."""
    return isinstance(param, UninitializedTensorMixin)


def _placeholder(cls, requires_grad, device, dtype):
    from ..creation import empty
    t = cls._make(empty(0, dtype=dtype, device=device)._data)
    if requires_grad:
        if t.dtype.kind not in "fc":
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, got dtype {t.dtype}")
        t._rg = True
    return t


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A ``Parameter`` whose shape is not known yet (a lazy module's weight before its first forward).  Only
    its dtype, device and ``requires_grad`` can be read; ``materialize(shape)`` turns it into a ``Parameter``.

    >>> p = nn.UninitializedParameter(); p
    <UninitializedParameter>
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return _placeholder(cls, requires_grad, device, dtype)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (a lazy norm layer's running statistics before the first
    forward); ``materialize(shape)`` turns it into a plain ``Tensor``."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        t = _placeholder(cls, requires_grad, device, dtype)
        t.persistent = bool(persistent)
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass
