"""``CrossMapLRN2d``: PyTorch's legacy (Lua Torch) cross-channel local response normalization, with its exact
numbers, which differ from :class:`LocalResponseNorm`'s:

* forward: ``y = x * (k + alpha / size * s) ** -beta`` where ``s[c]`` sums ``x**2`` over the channels
  ``c - P + 1 .. c + P - 1`` (clipped), ``P = int((size - 1) / 2 + 1)``; PyTorch's running-sum loop never
  subtracts channel 0 (it removes ``c - P`` only for ``c > P``), so for ``c >= P`` channel 0 is in the sum too.
* backward: PyTorch's hand-written formula, which is not the exact derivative of that forward:
  ``gx = scale**-beta * g - 2 * alpha * beta / size * x * a`` with ``a[c]`` the sum of ``g * y / scale`` over
  the channels ``c - Q .. c + size - 1 - Q``, ``Q = int(size - (size - 1) / 2)``.  It fails for ``size == 1``
  (as PyTorch's does) and is once differentiable (PyTorch's backward cannot be differentiated either).

Both are sums of shifted channel slabs (a loop over at most ``size`` channel offsets, never over channels).
"""
from __future__ import annotations

from ...autograd.function import Function, once_differentiable
from ...backend.device import array_module as _xp
from ...tensor import Tensor
from ..module import Module

__all__ = ["CrossMapLRN2d"]


def _window_sum(a, lo, hi):
    """``out[:, c] = sum of a[:, c + j] for j in lo..hi`` (channels outside 0..C-1 count as zero)."""
    xp = _xp(a)
    n, c = a.shape[:2]
    left, right = max(-lo, 0), max(hi, 0)
    padded = xp.zeros((n, c + left + right) + a.shape[2:], dtype=a.dtype)
    padded[:, left:left + c] = a
    out = xp.zeros_like(a)
    for j in range(lo, hi + 1):
        out += padded[:, left + j:left + j + c]
    return out


class _CrossMapLRN2dFn(Function):
    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        p = int((size - 1) / 2 + 1)
        sq = x * x
        s = _window_sum(sq, -(p - 1), p - 1)
        if x.shape[1] > p:
            s[:, p:] += sq[:, :1]               # the legacy loop keeps channel 0 in every later window
        scale = s * (alpha / size) + k
        out = scale ** -beta * x
        ctx.cfg = (size, alpha, beta)
        ctx.save_for_backward(x, out, scale)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        size, alpha, beta = ctx.cfg
        x, out, scale = ctx._saved_arrays()
        q = int(size - (size - 1) / 2)
        if q > size - 1:
            raise RuntimeError(f"CrossMapLRN2d: backward is undefined for size={size} (PyTorch's legacy backward "
                               f"fails for size 1 too: its padded ratio buffer of {x.shape[1] + size - 1} channels "
                               f"cannot hold the {x.shape[1]} channels at offset {q}); use size >= 2")
        ga = g._data
        gx = scale ** -beta * ga
        ratio = ga * out / scale
        acc = _window_sum(ratio, -q, size - 1 - q)
        gx = gx + (-2.0 * alpha * beta / size) * (x * acc)
        return Tensor._make(gx.astype(x.dtype, copy=False)), None, None, None, None


class CrossMapLRN2d(Module):
    """Cross-channel local response normalization over 4-D input (``torch.nn.CrossMapLRN2d``, the legacy
    Lua Torch layer): ``x * (k + alpha / size * sum of x**2 over neighbouring channels) ** -beta``, with
    PyTorch's own window rule and backward formula (see this module's notes).  No parameters.

    >>> nn.CrossMapLRN2d(3, alpha=1e-2)(ember.randn(2, 6, 4, 4)).shape
    ember.Size([2, 6, 4, 4])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"CrossMapLRN2d: expected a Tensor input, got {type(input).__name__}")
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead "
                             f"(shape {tuple(input.shape)}).")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise ValueError(f"CrossMapLRN2d: size must be a positive int, got {self.size!r}")
        if input.dtype.kind != "f":
            raise RuntimeError(f"CrossMapLRN2d: expected a floating point input, got {input.dtype} (PyTorch: "
                               f"result type Float can't be cast to the desired output type)")
        return _CrossMapLRN2dFn.apply(input, self.size, float(self.alpha), float(self.beta), float(self.k))

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
