"""Normalization as fused kernels: batch_norm, layer_norm, group_norm, instance_norm, plus normalize.

All four "normalize over some axes, then scale and shift per channel" ops share one Function, ``_Normalize``:
its forward computes the statistics of a view of the input (``(N, C, *)`` reduced over all but C for batch
norm, ``(N, G, -1)`` for group norm, the last dims for layer norm), and its backward is the classic
hand-derived formula over whole arrays::

    dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))      # means over the normalized axes

which is ``(1/M) * invstd * (M*dxhat - sum(dxhat) - xhat*sum(dxhat*xhat))``.  That backward works on raw arrays
(once-differentiable).  Batch norm in eval mode is an affine map with fixed statistics and is written with
ember ops, so it is differentiable any number of times.

Running statistics are updated in place inside the forward (biased variance normalizes, the unbiased one goes
into ``running_var``), as PyTorch does.
"""
from __future__ import annotations

import math

from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad
from ..autograd._torch_names import tag as _tname
from ..backend import xp as np
from ..tensor import Tensor, _wrap_dim
from . import _batch_norm as _bn
from ._cosine import Normalize2 as _Normalize2
from ._fastsum import fsum

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "normalize"]


class _Normalize(Function):
    """``y = (x - mean) * invstd * w + b`` with statistics over ``red`` axes of ``x.reshape(stat_shape)``.

    ``aff_shape``: how ``w``/``b`` broadcast onto ``x``; ``aff_axes``: the axes of ``x`` summed for their
    gradients.  ``running``: optional ``(running_mean, running_var, momentum, per_instance)`` updated in place.
    """

    @staticmethod
    def forward(ctx, x, w, b, eps, stat_shape, red, aff_shape, aff_axes, running=None):
        ctx.cfg = (stat_shape, red, aff_shape, aff_axes, w is not None, b is not None, eps)
        ctx.rows = _bn.applies(x, stat_shape, red, aff_axes)
        if ctx.rows:                # batch norm over (N, C, L...): the row kernels, fewer passes over memory
            y, xc, invstd = _bn.forward(x, w, b, eps, running)
            ctx.save_for_backward(xc, invstd, w, x)
            return y
        xs = x.reshape(stat_shape) if stat_shape is not None else x
        mean = fsum(xs, red, True, mean=True)
        xhat = xs - mean                                  # centred; becomes x-hat in place below
        sq = np.square(xhat)
        var = fsum(sq, red, True, mean=True)
        del sq
        invstd = 1.0 / np.sqrt(var + eps)
        xhat *= invstd.astype(x.dtype, copy=False)
        if running is not None:
            _update_running(running, mean, var, xs.size // mean.size, x.shape[0])
        y = xhat.reshape(x.shape) if stat_shape is not None else xhat
        if w is not None:
            y = y * w.reshape(aff_shape)                  # a new array: x-hat is saved for backward
            if b is not None:
                y += b.reshape(aff_shape)
        elif b is not None:
            y = y + b.reshape(aff_shape)
        else:
            y = y.copy(order="K")                        # keeps the input's layout (channels_last)
        ctx.save_for_backward(xhat, invstd.astype(x.dtype, copy=False), w, x)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        xhat, invstd, w, x = ctx.saved_tensors
        stat_shape, red, aff_shape, aff_axes, has_w, has_b, eps = ctx.cfg
        if _grad.create_graph:
            return _normalize_backward_graph(g, x, w, ctx.needs_input_grad, ctx.cfg)
        need = ctx.needs_input_grad
        if ctx.rows:                # saved: the centred input (not x-hat) and invstd per channel
            grads = _bn.backward(xhat._data, invstd._data, w._data if has_w else None, g._data,
                                 (need[0], has_w and need[1], has_b and need[2]))
            return tuple(None if a is None else Tensor._make(a) for a in grads) + (None,) * 5
        xhat, invstd, g = xhat._data, invstd._data, g._data
        gx = gw = gb = None
        xhat_full = xhat.reshape(g.shape) if stat_shape is not None else xhat
        if has_w and need[1]:
            gw = Tensor._make(fsum(g * xhat_full, aff_axes))
        if has_b and need[2]:
            gb = Tensor._make(fsum(g, aff_axes))
        if need[0]:
            dxhat = g * w._data.reshape(aff_shape) if has_w else g
            if stat_shape is not None:
                dxhat = dxhat.reshape(stat_shape)
            m1 = fsum(dxhat, red, True, mean=True)
            gx = dxhat * xhat                             # (dxhat - m1 - xhat * m2) * invstd, in place
            m2 = fsum(gx, red, True, mean=True)
            np.multiply(xhat, m2, out=gx)
            np.subtract(dxhat, gx, out=gx)
            gx -= m1
            gx *= invstd
            gx = Tensor._make(gx.reshape(g.shape).astype(g.dtype, copy=False))
        return gx, gw, gb, None, None, None, None, None


def _normalize_backward_graph(g, x, w, need, cfg):
    """The same backward written with ember ops, the statistics recomputed from ``x`` inside the graph, so
    that ``create_graph=True`` records it and second derivatives work (the raw-array path is used otherwise)."""
    stat_shape, red, aff_shape, aff_axes, has_w, has_b, eps = cfg
    xs = x.reshape(stat_shape) if stat_shape is not None else x
    xc = xs - xs.mean(red, keepdim=True)
    invstd = ((xc * xc).mean(red, keepdim=True) + eps).rsqrt()
    xhat = xc * invstd
    xhat_full = xhat.reshape(x.shape) if stat_shape is not None else xhat
    gx = gw = gb = None
    if has_w and need[1]:
        gw = (g * xhat_full).sum(aff_axes)
    if has_b and need[2]:
        gb = g.sum(aff_axes)
    if need[0]:
        dxhat = g * w.reshape(aff_shape) if has_w else g
        if stat_shape is not None:
            dxhat = dxhat.reshape(stat_shape)
        gx = (dxhat - dxhat.mean(red, keepdim=True) - xhat * (dxhat * xhat).mean(red, keepdim=True)) * invstd
        gx = gx.reshape(x.shape)
    return gx, gw, gb, None, None, None, None, None


def _update_running(running, mean, var, m, n):
    """In-place momentum update of the running buffers (PyTorch: unbiased variance; per-instance statistics
    averaged over the batch for instance norm)."""
    rm, rv, momentum, per_instance = running
    mean = mean.reshape(n, -1).mean(0) if per_instance else mean.reshape(-1)
    var = var.reshape(n, -1).mean(0) if per_instance else var.reshape(-1)
    unbiased = var * (m / (m - 1)) if m > 1 else var
    for buf, val in ((rm, mean), (rv, unbiased)):
        if buf is None:
            continue
        buf._data *= (1.0 - momentum)
        buf._data += (momentum * val).astype(buf._data.dtype, copy=False)
        buf._version[0] += 1


def _check_param(t, c, name, op):
    if t is not None and (t.ndim != 1 or t.shape[0] != c):
        raise RuntimeError(f"{op}: expected {name} of shape ({c},), got {tuple(t.shape)}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5) -> Tensor:
    """Batch normalization over (N, C, *) per channel C, as ``torch.nn.functional.batch_norm``.

    Training: normalize with the batch statistics (biased variance) and, if running buffers are given, update
    them in place: ``running = (1 - momentum) * running + momentum * batch_stat`` with the unbiased variance.
    Eval (``training=False``): normalize with ``running_mean``/``running_var``.

    >>> x = ember.randn(8, 3, 5, 5); rm, rv = ember.zeros(3), ember.ones(3)
    >>> batch_norm(x, rm, rv, training=True).shape
    ember.Size([8, 3, 5, 5])
    """
    x = input
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of at least 2 dims (N, C, *), got shape {tuple(x.shape)}")
    c = x.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"),
                    (bias, "bias")):
        _check_param(t, c, name, "batch_norm")
    aff_shape = (1, c) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be given when training=False")
        return _tname(_affine_fixed(x, running_mean, running_var, weight, bias, eps, aff_shape),
                      "NativeBatchNormBackward0", x)
    m = x.numel() // c if c else 0
    if m <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input size "
                         f"{list(x.shape)}")
    running = None
    if running_mean is not None or running_var is not None:
        running = (running_mean, running_var, float(momentum), False)
    return _Normalize.apply(x, weight, bias, float(eps), None, axes, aff_shape, axes, running=running)


def _affine_fixed(x, mean, var, weight, bias, eps, aff_shape):
    """Normalization with given statistics (eval mode), composed of ember ops: two passes over x."""
    invstd = 1.0 / (var + eps).sqrt()
    scale = invstd if weight is None else invstd * weight
    shift = -mean * scale if bias is None else bias - mean * scale
    return x * scale.reshape(aff_shape) + shift.reshape(aff_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5) -> Tensor:
    """Layer normalization over the last ``len(normalized_shape)`` dims, as
    ``torch.nn.functional.layer_norm``; ``weight``/``bias`` have shape ``normalized_shape``.

    >>> layer_norm(ember.randn(4, 10, 16), (16,)).shape
    ember.Size([4, 10, 16])
    """
    x = input
    ns = (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != ns:
        raise RuntimeError(f"layer_norm: given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size {list(x.shape)}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"layer_norm: expected {name} of shape {ns}, got {tuple(t.shape)}")
    red = tuple(range(x.ndim - k, x.ndim))
    lead = tuple(range(x.ndim - k))
    return _Normalize.apply(x, weight, bias, float(eps), None, red, ns, lead)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5) -> Tensor:
    """Group normalization: channels split into ``num_groups`` groups, each normalized over its channels and
    all spatial positions per sample, then a per-channel affine, as ``torch.nn.functional.group_norm``.

    >>> group_norm(ember.randn(2, 6, 4, 4), 3).shape
    ember.Size([2, 6, 4, 4])
    """
    x = input
    if x.ndim < 2:
        raise RuntimeError(f"group_norm: expected input of at least 2 dims (N, C, *), got {tuple(x.shape)}")
    n, c = x.shape[:2]
    g = int(num_groups)
    if g < 1 or c % g:
        raise RuntimeError(f"group_norm: expected number of channels in input ({c}) to be divisible by "
                           f"num_groups ({g}), input of shape {tuple(x.shape)}")
    _check_param(weight, c, "weight", "group_norm")
    _check_param(bias, c, "bias", "group_norm")
    aff_shape = (1, c) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))
    return _Normalize.apply(x, weight, bias, float(eps), (n, g, -1), (2,), aff_shape, axes)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5) -> Tensor:
    """Instance normalization: each (sample, channel) plane normalized over its spatial positions, as
    ``torch.nn.functional.instance_norm``.  With running buffers and ``use_input_stats`` they are updated with
    the batch average of the per-instance statistics; ``use_input_stats=False`` normalizes with them.

    >>> instance_norm(ember.randn(2, 3, 8, 8)).shape
    ember.Size([2, 3, 8, 8])
    """
    x = input
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected input of at least 3 dims (N, C, *), got {tuple(x.shape)}")
    n, c = x.shape[:2]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"),
                    (bias, "bias")):
        _check_param(t, c, name, "instance_norm")
    aff_shape = (1, c) + (1,) * (x.ndim - 2)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        return _affine_fixed(x, running_mean, running_var, weight, bias, eps, aff_shape)
    if math.prod(x.shape[2:]) <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input size "
                         f"{list(x.shape)}")
    running = None
    if running_mean is not None or running_var is not None:
        running = (running_mean, running_var, float(momentum), True)
    red = tuple(range(2, x.ndim))
    return _Normalize.apply(x, weight, bias, float(eps), None, red, aff_shape, (0,) + red, running=running)


_NORMALIZE_FUSED = (np.dtype(np.float32), np.dtype(np.float64))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``, as ``torch.nn.functional.normalize``.

    >>> normalize(ember.tensor([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported")
    d = input._data
    if p == 2 and d.dtype in _NORMALIZE_FUSED and d.ndim and d.size and d.flags.c_contiguous and \
            d.shape[wd := _wrap_dim(int(dim), d.ndim, "normalize")] > 1:
        # (one node, the composite's bits; a norm of one element is |x|, the composite's vector_norm)
        return _Normalize2.apply(input, wd, float(eps))
    nrm = input.norm(p, dim, keepdim=True)
    return input / nrm.clamp_min(eps).expand_as(input)
