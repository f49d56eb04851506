"""``max_pool3d`` and ``avg_pool3d`` as two passes of the 2-D pooling kernels (``ember.ops.pool``).

Both poolings are separable.  Max pooling: the maximum over a (kD, kH, kW) window is the maximum over its kD
depth slices of each slice's (kH, kW) maximum, and the winner is PyTorch's: the 2-D kernel keeps the first
maximum of each slice in (h, w) order and the depth pass the first slice holding the maximum, which is the
first maximum in (d, h, w) order (and the last NaN, PyTorch's rule for windows holding NaN, likewise).
Average pooling: PyTorch's divisor is a product of one factor per dim (with ``count_include_pad`` and
``ceil_mode`` each dim's own): an (H, W) window sum, then a depth window sum, then ONE division by that
product (or by ``divisor_override``), as PyTorch's kernel rounds.

Pass 1 pools (H, W) on the input viewed as (N, C*D, H, W); pass 2 pools depth on the result viewed as
(N, C, D, OH*OW) with a (kD, 1) window.  Gradients go back through both kernels' backwards.  Adaptive max
pooling (windows are products of per-dim intervals too) takes the same two passes of the adaptive 2-D kernel;
adaptive average pooling is ``ember.ops.pool``'s resampling, one dim at a time.
"""
from __future__ import annotations
from ..autograd._torch_names import named as _named

from ..backend import xp as np
from ..backend.device import like as _like
from ..tensor import Tensor
from .pool import _pool_args, _MaxPool2d, _AvgPool2d, _divisor, _AdaptiveMaxPool2d, _adaptive_avg, _float_only, \
    _out_sizes

__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]


def _as5d(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    return (x.unsqueeze(0), True) if x.ndim == 4 else (x, False)


@_named("MaxPool3DWithIndicesBackward0")
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W), as ``torch.nn.functional.max_pool3d``.  ``stride``
    defaults to ``kernel_size``; padding counts as -inf.  With ``return_indices`` also returns the int64
    position of each maximum, flattened per (D, H, W) volume (``(d * H + h) * W + w``).

    >>> max_pool3d(ember.randn(2, 3, 8, 8, 8), 2).shape
    ember.Size([2, 3, 4, 4, 4])
    """
    op = "max_pool3d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(input).__name__}")
    ks, st, pad, dil = _pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, 3, op)
    x, unbatched = _as5d(input, op)
    n, c, d, h, w = x.shape
    ceil = bool(ceil_mode)
    plane = _MaxPool2d.apply(x.reshape(n, c * d, h, w), ks[1:], st[1:], pad[1:], dil[1:], ceil, return_indices)
    if return_indices:
        plane, idx_hw = plane
    oh, ow = plane.shape[2:]
    depth = _MaxPool2d.apply(plane.reshape(n, c, d, oh * ow), (ks[0], 1), (st[0], 1), (pad[0], 0), (dil[0], 1),
                             ceil, return_indices)
    if return_indices:
        depth, idx_d = depth
    od = depth.shape[2]
    out = depth.reshape(n, c, od, oh, ow)
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    idx = _volume_index(idx_hw, idx_d, (n, c, d, h, w), (od, oh, ow))
    return (out.squeeze(0), idx.squeeze(0)) if unbatched else (out, idx)


def _volume_index(idx_hw, idx_d, in_shape, out_shape):
    """Flat (D, H, W) indices of the winners of the two passes: the winning slice per output (``idx_d`` is flat
    in the (D, OH*OW) plane of pass 2), then that slice's (h, w) index from pass 1."""
    from . import gather
    n, c, d, h, w = in_shape
    od, oh, ow = out_shape
    dsel = idx_d // (oh * ow)                                                    # (N, C, OD, OH*OW)
    hw = gather(idx_hw.reshape(n, c, d, oh * ow), 2, dsel.clamp(0, d - 1))
    return (dsel * (h * w) + hw).reshape(n, c, od, oh, ow)


def _check_adaptive(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim not in (4, 5) or 0 in tuple(x.shape)[-4:]:
        raise RuntimeError(f"{op}: expected a non-empty 4D or 5D (batch mode) input, got input of shape "
                           f"{tuple(x.shape)}")
    _float_only(x, op)


def adaptive_avg_pool3d(input, output_size) -> Tensor:
    """Adaptive average pooling over (N, C, D, H, W) or (C, D, H, W) to ``output_size`` (int or triple, None
    keeps a size), as ``torch.nn.functional.adaptive_avg_pool3d``: window i spans
    [floor(i*size/out), ceil((i+1)*size/out)) in each dim.

    >>> adaptive_avg_pool3d(ember.randn(2, 3, 5, 7, 9), (1, 2, 4)).shape
    ember.Size([2, 3, 1, 2, 4])
    """
    _check_adaptive(input, "adaptive_avg_pool3d")
    return _adaptive_avg(input, output_size, 3, "adaptive_avg_pool3d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Adaptive max pooling over (N, C, D, H, W) or (C, D, H, W) to ``output_size``, as
    ``torch.nn.functional.adaptive_max_pool3d``, optionally with the flat per-volume indices of the maxima.

    >>> adaptive_max_pool3d(ember.randn(2, 3, 5, 7, 9), 2).shape
    ember.Size([2, 3, 2, 2, 2])
    """
    op = "adaptive_max_pool3d"
    _check_adaptive(input, op)
    x, unbatched = _as5d(input, op)
    n, c, d, h, w = x.shape
    od, oh, ow = _out_sizes(output_size, (d, h, w), 3, op)
    plane, idx_hw = _AdaptiveMaxPool2d.apply(x.reshape(n, c * d, h, w), oh, ow)
    depth, idx_d = _AdaptiveMaxPool2d.apply(plane.reshape(n, c, d, oh * ow), od, oh * ow)
    out = depth.reshape(n, c, od, oh, ow)
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    idx = _volume_index(idx_hw, idx_d, (n, c, d, h, w), (od, oh, ow))
    return (out.squeeze(0), idx.squeeze(0)) if unbatched else (out, idx)


@_named("AvgPool3DBackward0")
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> Tensor:
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W), as ``torch.nn.functional.avg_pool3d``.  Zero
    padding is counted in the divisor when ``count_include_pad``; ``divisor_override`` replaces the divisor.

    >>> avg_pool3d(ember.randn(2, 3, 8, 8, 8), 2).shape
    ember.Size([2, 3, 4, 4, 4])
    """
    op = "avg_pool3d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(input).__name__}")
    ks, st, pad, _ = _pool_args(input, kernel_size, stride, padding, 1, ceil_mode, 3, op, max_pool=False)
    if input.dtype.kind == "f" and input.dtype.itemsize < 4:      # PyTorch 2.13 (CPU): float32/64 and int64
        raise NotImplementedError(f"{op}: not implemented for {input.dtype} input")
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    x, unbatched = _as5d(input, op)
    n, c, d, h, w = x.shape
    ceil, incl = bool(ceil_mode), bool(count_include_pad)
    # window sums (the divisor 1 in both passes), then ONE division by PyTorch's divisor, as its kernel
    plane = _AvgPool2d.apply(x.reshape(n, c * d, h, w), ks[1:], st[1:], pad[1:], ceil, incl, 1)
    oh, ow = plane.shape[2:]
    total = _AvgPool2d.apply(plane.reshape(n, c, d, oh * ow), (ks[0], 1), (st[0], 1), (pad[0], 0), ceil, incl, 1)
    od = total.shape[2]
    total = total.reshape(n, c, od, oh, ow)
    if divisor_override:
        div = np.asarray(float(int(divisor_override)))
    else:
        fd, fh, fw = (_divisor(size, k, s, p, o, incl) for size, k, s, p, o in
                      zip((d, h, w), ks, st, pad, (od, oh, ow)))
        div = fd[:, None, None] * fh[None, :, None] * fw[None, None, :]
    if x.dtype.kind in "iu":        # integer average: the quotient truncated toward zero, as PyTorch's
        out = (total / Tensor._make(_like(div.astype(np.float64), x._data))).to(x.dtype)
    else:
        out = total / Tensor._make(_like(div.astype(x.dtype), x._data))
    return out.squeeze(0) if unbatched else out
