"""Comparisons and logic (not differentiable, as in PyTorch): ``eq``/``ne``/``lt``/``le``/``gt``/``ge``, the
bitwise and logical ops, ``isnan``/``isinf``/``isfinite``, ``isclose``/``allclose``/``equal`` and
``nan_to_num``. Re-exported by ``ember.ops.elementwise``.
"""
from __future__ import annotations

import numpy as _np

from ..autograd.function import Function
from ..backend import dtypes as _dt
from ..backend.device import as_array as _as_array
from ..tensor import Tensor
from .elementwise import _arr, _check_broadcast, _lay, _prep, cast, mul


# -- comparisons and logic (not differentiable) -----------------------------------------------------------------
def _cmp(npf, name):
    def fn(input, other):
        a2, b2 = _prep(input, other, name)
        return _lay(Tensor._make(npf(_arr(a2), _arr(b2))), a2, b2)
    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}`` comparison, returning a bool tensor (``torch.{name}``)."
    return fn


eq = _cmp(_np.equal, "eq")
ne = _cmp(_np.not_equal, "ne")
lt = _cmp(_np.less, "lt")
le = _cmp(_np.less_equal, "le")
gt = _cmp(_np.greater, "gt")
ge = _cmp(_np.greater_equal, "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _bitwise(npf, name):
    def fn(input, other):
        a2, b2 = _prep(input, other, name)
        for v in (a2, b2):
            if isinstance(v, Tensor) and v._data.dtype.kind == "f":
                raise _dt.DtypeNotImplementedError(f"{name}: bitwise ops need bool or integer tensors, got {v.dtype}")
        return _lay(Tensor._make(npf(_arr(a2), _arr(b2))), a2, b2)
    fn.__name__ = name
    return fn


bitwise_and = _bitwise(_np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(_np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(_np.bitwise_xor, "bitwise_xor")


def bitwise_not(input):
    if input._data.dtype.kind == "f":
        raise _dt.DtypeNotImplementedError(f"bitwise_not (~): needs a bool or integer tensor, got {input.dtype}")
    return Tensor._make(_np.invert(input._data))


def _logical_operands(input, other):
    """Both operands in their promoted dtype, as PyTorch's kernel reads them: a float64 1e-308 next to a
    float16 tensor is 0 (False) there.  A converted operand is PyTorch's ``.to(dtype)`` copy (preserve_format:
    a non-dense one, e.g. expanded, becomes contiguous), which is what the result's layout follows."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input._data.dtype != other._data.dtype:
        rt = _dt.result_type(input, other)
        with _np.errstate(over="ignore", under="ignore", invalid="ignore"):
            input, other = (t if t._data.dtype == rt else cast(t.detach(), rt) for t in (input, other))
    return input, other


def _logical(npf, input, other):
    a, b = _logical_operands(input, other)
    return _lay(Tensor._make(npf(_arr(a), _arr(b))), a, b)


def logical_and(input, other):
    return _logical(_np.logical_and, input, other)


def logical_or(input, other):
    return _logical(_np.logical_or, input, other)


def logical_xor(input, other):
    return _logical(_np.logical_xor, input, other)


def logical_not(input):
    return Tensor._make(_np.logical_not(_arr(input)))


def isnan(input):
    return Tensor._make(_np.isnan(input._data))


def isinf(input):
    return Tensor._make(_np.isinf(input._data))


def isfinite(input):
    return Tensor._make(_np.isfinite(input._data))


def _close_operands(a, b, op):
    for v in (a, b):
        if not isinstance(v, Tensor):
            raise TypeError(f"{op}(): expected Tensors, got {type(v).__name__}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}(): {a.dtype} did not match {b.dtype} (both tensors need the same dtype)")
    _check_broadcast(a._data.shape, b._data.shape, op)
    return a._data, b._data


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|`` as a bool tensor (``torch.isclose``)."""
    aa, bb = _close_operands(input, other, "isclose")
    return Tensor._make(_as_array(_np.isclose(aa, bb, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when every element of ``a`` is within ``atol + rtol * |b|`` of ``b`` (``torch.allclose``)."""
    aa, bb = _close_operands(input, other, "allclose")
    return bool(_np.allclose(aa, bb, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:
    """True when ``a`` and ``b`` have the same shape and elements (``torch.equal``)."""
    for v in (input, other):
        if not isinstance(v, Tensor):
            raise TypeError(f"equal(): expected Tensors, got {type(v).__name__}")
    aa, bb = _arr(input), _arr(other)
    return aa.shape == bb.shape and bool(_np.array_equal(aa, bb))


class NanToNum(Function):
    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        ctx.finite = _np.isfinite(a)
        return _np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        return mul(g, Tensor._make(ctx.finite.astype(g.dtype))), None, None, None


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN / +inf / -inf by finite numbers (``torch.nan_to_num``); the gradient is zero there."""
    if input._data.dtype.kind != "f":
        return input.clone()
    return _lay(NanToNum.apply(input, nan, posinf, neginf), input, 0)
