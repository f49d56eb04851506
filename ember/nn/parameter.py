"""``Parameter`` and ``Buffer``: the Tensor subclasses a ``Module`` recognizes when they are assigned to it.

Assigning a ``Parameter`` to a module attribute registers it as a learnable weight (it shows up in
``parameters()`` and ``state_dict()``); assigning a ``Buffer`` registers persistent non-learnable state
(running statistics), like PyTorch 2.x's ``torch.nn.Buffer``.
"""
from __future__ import annotations

from ..backend import xp
from ..backend import dtypes as _dt
from ..tensor import Tensor, _to_array

__all__ = ["Parameter", "Buffer"]


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
