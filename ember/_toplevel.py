"""The rest of ``torch.*`` that programs call: PyTorch exposes many ``nn.functional`` ops, in-place variants,
``*_copy`` forms of views, scatter forms of views and small utilities at the top level, with the ATen
signatures (``torch.dropout(input, p, train)``, ``torch.embedding(weight, indices)``,
``torch.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled)``,
losses taking ``reduction`` as ATen's integer 0/1/2).  Each function here forwards to ember's one
implementation of the op, so there is no second kernel to keep in step.
"""
from __future__ import annotations

import numpy as _np

from .tensor import Tensor

from ._toplevel_base import _check_tensor, _export, _sig, __all__  # noqa: F401


def _F():
    from .nn import functional
    return functional


_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(op, reduction):
    """ATen's integer reduction (0 none, 1 mean, 2 sum); the names are accepted too.  The losses below default
    to 0 (no reduction): ATen's schemas say Mean, but torch 2.13's Python bindings of these top-level
    functions return the unreduced loss when ``reduction`` is not passed, and ember prints what torch prints."""
    if isinstance(reduction, str) and reduction in ("none", "mean", "sum"):
        return reduction
    if isinstance(reduction, (int, _np.integer)) and not isinstance(reduction, bool) and int(reduction) in _REDUCTIONS:
        return _REDUCTIONS[int(reduction)]
    raise ValueError(f"{op}(): reduction must be 0 (none), 1 (mean) or 2 (sum), got {reduction!r}")


# ------------------------------------------------------------------------------ in-place forms of Tensor methods

_INPLACE = """abs_ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_ atanh_ ceil_
clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ erf_ erfc_ exp2_ exp_ expm1_ fix_ floor_ frac_ gcd_ i0_ lcm_
ldexp_ log10_ log1p_ log2_ log_ logit_ nan_to_num_ neg_ negative_ rad2deg_ reciprocal_ relu_ round_ rsqrt_ sigmoid_
sin_ sinc_ sinh_ sqrt_ square_ tan_ tanh_ trunc_ xlogy_ addmv_ detach_ fill_ zero_ index_put_""".split()


def _make_inplace(name):
    def fn(input, *args, **kwargs):
        _check_tensor(name, input)
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``torch.{name}(input, ...)``: ``input.{name}(...)``."
    return fn


for _name in _INPLACE:
    if hasattr(Tensor, _name):
        globals()[_name] = _make_inplace(_name)
        __all__.append(_name)


# ---------------------------------------------------------------------------------------- nn.functional aliases

@_export
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _F().conv1d(input, weight, bias, stride, padding, dilation, groups)


@_export
def conv_tbc(input, weight, bias, pad=0):
    return _F().conv_tbc(input, weight, bias, pad)


@_export
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _F().conv2d(input, weight, bias, stride, padding, dilation, groups)


@_export
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _F().conv3d(input, weight, bias, stride, padding, dilation, groups)


@_export
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _F().conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups, dilation)


@_export
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _F().conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)


@_export
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _F().conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups, dilation)


@_export
def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """``torch.convolution``: the generic entry the conv modules of PyTorch call (1-D, 2-D and 3-D)."""
    _check_tensor("convolution", input)
    nd = input.dim() - 2
    if nd not in (1, 2, 3):
        raise NotImplementedError(f"convolution(): ember has 1-D, 2-D and 3-D convolution; got a {input.dim()}-D "
                                  f"input of shape {tuple(input.shape)}")
    F = _F()
    if transposed:
        f = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[nd]
        return f(input, weight, bias, stride, padding, output_padding, groups, dilation)
    f = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
    return f(input, weight, bias, stride, padding, dilation, groups)


def _dropout_args(op, p, train):
    if not isinstance(train, (bool, _np.bool_)):
        raise TypeError(f"{op}(): argument 'train' must be bool, not {type(train).__name__}")
    return float(p), bool(train)


@_export
def dropout(input, p, train):
    p, train = _dropout_args("dropout", p, train)
    return _F().dropout(input, p, train)


@_export
def dropout_(input, p, train):
    p, train = _dropout_args("dropout_", p, train)
    return _F().dropout(input, p, train, inplace=True)


@_export
def alpha_dropout(input, p, train):
    p, train = _dropout_args("alpha_dropout", p, train)
    return _F().alpha_dropout(input, p, train)


@_export
def alpha_dropout_(input, p, train):
    p, train = _dropout_args("alpha_dropout_", p, train)
    return _F().alpha_dropout(input, p, train, inplace=True)


@_export
def feature_dropout(input, p, train):
    """ATen's channel dropout: one keep/drop draw per (sample, channel), broadcast over the rest (``dropout2d``
    and ``dropout3d`` without their rank checks); identity when ``train`` is False."""
    p, train = _dropout_args("feature_dropout", p, train)
    return _feature_dropout(input, p, train, False)


@_export
def feature_dropout_(input, p, train):
    p, train = _dropout_args("feature_dropout_", p, train)
    return _feature_dropout(input, p, train, True)


def _feature_dropout(input, p, train, inplace):
    from .nn.functional import _dropout as _D
    _D._check_p(p, "feature_dropout")
    shape = _D._feature_shape(input, "feature_dropout")
    if not train or p == 0:
        return input
    return _D._apply_mask(input, p, shape, inplace)


@_export
def feature_alpha_dropout(input, p, train):
    p, train = _dropout_args("feature_alpha_dropout", p, train)
    return _F().feature_alpha_dropout(input, p, train)


@_export
def feature_alpha_dropout_(input, p, train):
    p, train = _dropout_args("feature_alpha_dropout_", p, train)
    return _F().feature_alpha_dropout(input, p, train, inplace=True)


@_export
def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """ATen's order (weight first); ``padding_idx=-1`` means none here, as in ATen (``F.embedding`` has
    already turned a negative padding index into a row number before it calls this)."""
    pad = None if padding_idx is None or padding_idx < 0 else padding_idx
    return _F().embedding(indices, weight, pad, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


@_export
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return _F().layer_norm(input, normalized_shape, weight, bias, eps)


@_export
def rms_norm(input, normalized_shape, weight=None, eps=None):
    return _F().rms_norm(input, normalized_shape, weight, eps)


@_export
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return _F().group_norm(input, num_groups, weight, bias, eps)


@_export
def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


@_export
def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


@_export
def cosine_similarity(x1, x2, dim=1, eps=1e-08):
    return _F().cosine_similarity(x1, x2, dim, eps)


@_export
def pairwise_distance(x1, x2, p=2.0, eps=1e-06, keepdim=False):
    return _F().pairwise_distance(x1, x2, p, eps, keepdim)


@_export
def pixel_shuffle(input, upscale_factor):
    return _F().pixel_shuffle(input, upscale_factor)


@_export
def pixel_unshuffle(input, downscale_factor):
    return _F().pixel_unshuffle(input, downscale_factor)


@_export
def channel_shuffle(input, groups):
    return _F().channel_shuffle(input, groups)


native_channel_shuffle = channel_shuffle
__all__.append("native_channel_shuffle")


@_export
def prelu(input, weight):
    return _F().prelu(input, weight)


@_export
def bilinear(input1, input2, weight, bias=None):
    return _F().bilinear(input1, input2, weight, bias)


@_export
def hardshrink(input, lambd=0.5):
    return _F().hardshrink(input, lambd)


@_export
def selu(input):
    return _F().selu(input)


@_export
def selu_(input):
    return _F().selu(input, inplace=True)


@_export
def celu(input, alpha=1.0):
    return _F().celu(input, alpha)


@_export
def celu_(input, alpha=1.0):
    return _F().celu(input, alpha, inplace=True)


@_export
def rrelu(input, lower=0.125, upper=1.0 / 3.0, training=False, generator=None):
    return _F().rrelu(input, lower, upper, training)


@_export
def rrelu_(input, lower=0.125, upper=1.0 / 3.0, training=False, generator=None):
    return _F().rrelu(input, lower, upper, training, inplace=True)


@_export
def threshold(input, threshold, value):
    return _F().threshold(input, threshold, value)


@_export
def threshold_(input, threshold, value):
    return _F().threshold(input, threshold, value, inplace=True)


@_export
def constant_pad_nd(input, pad, value=0):
    return _F().pad(input, pad, "constant", value)


def _pool_stride(stride):
    return None if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else stride


@_export
def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    return _F().avg_pool1d(input, kernel_size, _pool_stride(stride), padding, ceil_mode, count_include_pad)


@_export
def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool1d(input, kernel_size, _pool_stride(stride), padding, dilation, ceil_mode)


@_export
def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool1d(input, kernel_size, _pool_stride(stride), padding, dilation, ceil_mode,
                           return_indices=True)


@_export
def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool2d(input, kernel_size, _pool_stride(stride), padding, dilation, ceil_mode)


@_export
def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool3d(input, kernel_size, _pool_stride(stride), padding, dilation, ceil_mode)


@_export
def adaptive_avg_pool1d(input, output_size):
    return _F().adaptive_avg_pool1d(input, output_size)


@_export
def adaptive_max_pool1d(input, output_size):
    """Returns ``(values, indices)`` as ``torch.adaptive_max_pool1d`` does."""
    return _F().adaptive_max_pool1d(input, output_size, return_indices=True)


@_export
def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    red = _reduction("binary_cross_entropy_with_logits", reduction)
    return _F().binary_cross_entropy_with_logits(input, target, weight, reduction=red, pos_weight=pos_weight)


@_export
def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return _F().cosine_embedding_loss(input1, input2, target, margin,
                                      reduction=_reduction("cosine_embedding_loss", reduction))


@_export
def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return _F().hinge_embedding_loss(input, target, margin, reduction=_reduction("hinge_embedding_loss", reduction))


@_export
def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return _F().margin_ranking_loss(input1, input2, target, margin,
                                    reduction=_reduction("margin_ranking_loss", reduction))


@_export
def kl_div(input, target, reduction=0, *, log_target=False):
    return _F().kl_div(input, target, reduction=_reduction("kl_div", reduction), log_target=log_target)


@_export
def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return _F().poisson_nll_loss(input, target, log_input, full, eps=eps,
                                 reduction=_reduction("poisson_nll_loss", reduction))


@_export
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06, swap=False, reduction=0):
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                    reduction=_reduction("triplet_margin_loss", reduction))


def _cell(name):
    def fn(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        from .ops import rnn_cell
        return getattr(rnn_cell, name)(input, hx, w_ih, w_hh, b_ih, b_hh)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``torch.{name}``: one step of the fused cell (``ember.ops.rnn_cell``)."
    __all__.append(name)
    return fn


lstm_cell = _cell("lstm_cell")
gru_cell = _cell("gru_cell")
rnn_tanh_cell = _cell("rnn_tanh_cell")
rnn_relu_cell = _cell("rnn_relu_cell")

# ------------------------------------------------------------------------- copies of views, scatters into views


def _copy_of(view_name):
    def fn(input, *args, **kwargs):
        _check_tensor(view_name + "_copy", input)
        out = getattr(input, view_name)(*args, **kwargs)
        if isinstance(out, (tuple, list)):
            return type(out)(o.clone(memory_format="contiguous_format") for o in out)
        return out.clone(memory_format="contiguous_format")
    name = view_name + "_copy"
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``torch.{name}``: ``input.{view_name}(...)`` as a new contiguous tensor (no aliasing)."
    __all__.append(name)
    return fn


for _v, _text in (("view", "(input, size)"), ("permute", "(input, dims)"), ("t", "(input)"),
                  ("transpose", "(input, dim0, dim1)"), ("squeeze", "(input, dim=None)"),
                  ("unsqueeze", "(input, dim)"), ("expand", "(input, size, *, implicit=False)"),
                  ("diagonal", "(input, offset=0, dim1=0, dim2=1)"), ("select", "(input, dim, index)"),
                  ("split", "(input, split_size, dim=0)"), ("unbind", "(input, dim=0)"),
                  ("unfold", "(input, dimension, size, step)"), ("detach", "(input)"),
                  ("as_strided", "(input, size, stride, storage_offset=None)")):
    globals()[_v + "_copy"] = _sig(_copy_of(_v), _text)


@_export
def expand_copy(input, size, *, implicit=False):  # noqa: F811 - ``implicit`` is ATen's tracing flag; ignored
    _check_tensor("expand_copy", input)
    return input.expand(size).clone(memory_format="contiguous_format")


@_export
def squeeze_copy(input, dim=None):  # noqa: F811
    _check_tensor("squeeze_copy", input)
    return (input.squeeze() if dim is None else input.squeeze(dim)).clone(memory_format="contiguous_format")


@_export
def alias_copy(input):
    _check_tensor("alias_copy", input)
    return input.clone(memory_format="contiguous_format")


@_export
def slice_copy(input, dim=0, start=None, end=None, step=1):
    _check_tensor("slice_copy", input)
    return _slice_view(input, dim, start, end, step).clone(memory_format="contiguous_format")


def _slice_view(input, dim, start, end, step):
    if input.dim() == 0:
        raise IndexError("slice(): cannot slice a 0-d tensor")
    d = dim + input.dim() if dim < 0 else dim
    if not 0 <= d < input.dim():
        raise IndexError(f"slice(): dim {dim} is out of range for a {input.dim()}-D tensor of shape "
                         f"{tuple(input.shape)}")
    if step <= 0:
        raise ValueError(f"slice(): step must be positive, got {step}")
    return input[(slice(None),) * d + (slice(start, end, step),)]


def _scatter_into(op, input, src, view, keep_strides=True):
    _check_tensor(op, input)
    _check_tensor(op, src, "src")
    out = input.clone()
    target = view(out)
    if tuple(target.shape) != tuple(src.shape):
        raise RuntimeError(f"{op}(): expected src to have a size equal to the slice of self: slice shape "
                           f"{tuple(target.shape)}, src shape {tuple(src.shape)}")
    target.copy_(src)
    return _keep_strides(out, input) if keep_strides else out


def _keep_strides(out, like):
    """``out`` (a fresh result shaped like ``like``) re-laid with ``like``'s exact strides, dense or not, as
    PyTorch's *_scatter ops clone their input (clone_preserve_strides); an input whose elements share memory
    (an expand) keeps the plain clone's layout."""
    a, st = out._data, like._data.strides
    if a.size <= 1 or a.strides == st or any(s < 0 for s in st) or any(
            s == 0 and n > 1 for s, n in zip(st, a.shape)):
        return out
    from ._tensor_inplace import _byte_offsets, _overlap_layers
    if _overlap_layers(_byte_offsets(like._data)) is not None:
        return out
    span = 1 + sum((n - 1) * s for n, s in zip(a.shape, st)) // a.itemsize
    from .backend import device as _dev
    buf = _dev.array_module(a).zeros(span, a.dtype)
    view = _dev.as_strided(buf, a.shape, st)
    view[...] = a
    out._data = view
    return out


@_export
def select_scatter(input, src, dim, index):
    """``input`` with ``src`` written into ``input.select(dim, index)``, as a new tensor (differentiable in both)."""
    return _scatter_into("select_scatter", input, src, lambda t: t.select(dim, index))


@_export
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    return _scatter_into("slice_scatter", input, src, lambda t: _slice_view(t, dim, start, end, step))


@_export
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    return _scatter_into("diagonal_scatter", input, src, lambda t: t.diagonal(offset, dim1, dim2))


@_export
def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """``input`` (made contiguous) with ``src`` written into ``as_strided(size, stride, storage_offset)``.
    The gradient for ``input`` is the incoming gradient with the written elements zeroed; torch 2.13's
    backward instead keeps the gradient only at the written elements (a defect there), so ember's
    gradient for ``input`` differs from torch's on purpose."""
    _check_tensor("as_strided_scatter", input)
    base = input.clone(memory_format="contiguous_format")
    return _scatter_into("as_strided_scatter", base, src, lambda t: t.as_strided(size, stride, storage_offset),
                         keep_strides=False)


@_export
def put(input, index, source, accumulate=False):
    """``input`` seen as 1-D (row-major) with ``source`` written (or added) at ``index``; negative indices
    count from the end, as in ``torch.put``."""
    _check_tensor("put", input)
    _check_tensor("put", index, "index")
    _check_tensor("put", source, "source")
    if _np.dtype(index.dtype).kind not in "iu":
        raise IndexError(f"put(): expected a long tensor for index, got {index.dtype}")
    if index.numel() != source.numel():
        raise RuntimeError(f"put(): expected source and index to have the same number of elements, but got "
                           f"source of {source.numel()} and index of {index.numel()} elements")
    out = input.clone(memory_format="contiguous_format")
    n = out.numel()
    idx = index.reshape(-1)
    flat_idx = idx._data
    bad = (flat_idx < -n) | (flat_idx >= n)
    if bool(_np.any(bad)):
        raise IndexError(f"put(): index {int(flat_idx[bad][0])} is out of bounds for a tensor of "
                         f"{n} elements (shape {tuple(input.shape)})")
    out.view(-1).index_put_((idx,), source.reshape(-1).to(out.dtype), accumulate=accumulate)
    from .ops._shape_strided import _result_layout
    return _result_layout(out, input)           # laid out like the input (PyTorch clones it, preserve_format)


@_export
def nonzero_static(input, *, size, fill_value=-1):
    """The indices of the non-zero elements as ``nonzero`` gives them, cut or padded with ``fill_value`` to
    ``size`` rows."""
    from .creation import full
    from .ops import cat, nonzero
    _check_tensor("nonzero_static", input)
    if size < 0:
        raise RuntimeError(f"nonzero_static(): 'size' must be non-negative, got {size}")
    nz = nonzero(input)
    if nz.shape[0] >= size:
        return nz[:size].clone()
    pad = full((size - nz.shape[0], nz.shape[1]), fill_value, dtype=nz.dtype, device=nz.device)
    return cat([nz, pad], 0)


@_export
def unsafe_chunk(input, chunks, dim=0):
    return input.chunk(chunks, dim)


@_export
def unsafe_split(tensor, split_size_or_sections, dim=0):
    return tensor.split(split_size_or_sections, dim)


from . import _toplevel_misc  # noqa: E402,F401 - registers the utilities in __all__
