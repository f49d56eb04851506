"""Python's operators on ``Tensor`` (``+``, ``@``, ``==``, ``x[i]``, ``x += y``...): each one delegates to
``ember.ops``. ``Tensor`` inherits them from ``_OperatorMethods``; ``_ops`` is bound by ``ember.tensor``.
"""
from __future__ import annotations

_ops = None     # set by ember.tensor (circular import)


class _OperatorMethods:
    """Python operators of ``Tensor`` (see ``ember.tensor``)."""

    __slots__ = ()

    def __add__(self, o):
        return _ops.add(self, o)

    def __radd__(self, o):
        return _ops.add(o, self)

    def __sub__(self, o):
        return _ops.sub(self, o)

    def __rsub__(self, o):
        return _ops.sub(o, self)

    def __mul__(self, o):
        return _ops.mul(self, o)

    def __rmul__(self, o):
        return _ops.mul(self, o)       # as PyTorch: the number is the second operand (float16 kernels read it exactly)

    def __truediv__(self, o):
        return _ops.div(self, o)

    def __rtruediv__(self, o):
        # PyTorch computes ``o / x`` as ``x.reciprocal() * o``: 0 / 1e-310 is nan (0 * inf), not 0
        return _ops.mul(_ops.reciprocal(self), o)

    def __floordiv__(self, o):
        return _ops.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return _ops.floor_divide(o, self)

    def __mod__(self, o):
        return _ops.remainder(self, o)

    def __rmod__(self, o):
        return _ops.remainder(o, self)

    def __pow__(self, o):
        return _ops.pow(self, o)

    def __rpow__(self, o):
        return _ops.pow(o, self)

    def __matmul__(self, o):
        return _ops.matmul(self, o)

    def __rmatmul__(self, o):
        return _ops.matmul(o, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __invert__(self):
        return _ops.bitwise_not(self)

    def __and__(self, o):
        return _ops.bitwise_and(self, o)

    __rand__ = __and__

    def __or__(self, o):
        return _ops.bitwise_or(self, o)

    __ror__ = __or__

    def __xor__(self, o):
        return _ops.bitwise_xor(self, o)

    __rxor__ = __xor__

    def __lshift__(self, o):
        return _ops.bitwise_left_shift(self, o)

    def __rlshift__(self, o):
        return _ops.bitwise_left_shift(o, self)

    def __rshift__(self, o):
        return _ops.bitwise_right_shift(self, o)

    def __rrshift__(self, o):
        return _ops.bitwise_right_shift(o, self)

    def __contains__(self, element):
        """``element in x``: whether any element of ``x`` equals ``element`` (a number or a tensor), as PyTorch."""
        from .tensor import Tensor
        if not isinstance(element, (Tensor, int, float, bool)):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                               f"{type(element).__name__}.")
        return bool(_ops.eq(self, element).any().item())

    def __eq__(self, o):
        return _ops.eq(self, o)

    def __ne__(self, o):
        return _ops.ne(self, o)

    def __lt__(self, o):
        return _ops.lt(self, o)

    def __le__(self, o):
        return _ops.le(self, o)

    def __gt__(self, o):
        return _ops.gt(self, o)

    def __ge__(self, o):
        return _ops.ge(self, o)

    def __iadd__(self, o):
        return self.add_(o)

    def __isub__(self, o):
        return self.sub_(o)

    def __imul__(self, o):
        return self.mul_(o)

    def __itruediv__(self, o):
        return self.div_(o)

    def __ipow__(self, o):
        return self.pow_(o)

    def __imatmul__(self, o):
        return self._inplace(_ops.matmul, o)

    def __iand__(self, o):
        return self._inplace(_ops.bitwise_and, o)

    def __ior__(self, o):
        return self._inplace(_ops.bitwise_or, o)

    # without these Python would fall back to ``x = x ^ y``: a new tensor, the aliases of ``x`` unchanged
    def __ixor__(self, o):
        return self.bitwise_xor_(o)

    def __imod__(self, o):
        return self.remainder_(o)

    def __ifloordiv__(self, o):
        return self.floor_divide_(o)

    def __ilshift__(self, o):
        return self.bitwise_left_shift_(o)

    def __irshift__(self, o):
        return self.bitwise_right_shift_(o)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        _ops.setitem(self, index, value)
