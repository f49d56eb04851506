"""PyTorch's names for ember's graph nodes: what ``grad_fn.name()``, ``repr(grad_fn)`` and a tensor's
``grad_fn=<...>`` show.

ember records one node per op class (``Mul``, ``Reshape``, ``MatMul``, ...), often coarser or finer than
PyTorch's ATen ops: one ``Reshape`` serves ``view``/``reshape``/``flatten``, one ``MatMul`` serves
``mm``/``mv``/``dot``/batched matmul, a loss may end in ember's ``Mean``.  This module is the one place that
maps a node to PyTorch 2.13's name, in three ways, tried in order:

1. a name pinned on the node by the public function that made it (``tag``), for a composite whose last ember
   node stands for a whole PyTorch op (``mse_loss`` ends in ``Mean``: ``MseLossBackward0``) or a call that one
   op class cannot tell apart (``t()`` / ``transpose()`` / ``permute()`` are all ``Permute``);
2. ``_RULES``: a function of the node, from what its forward recorded (input and output shapes, the axes...):
   ``Sum`` is ``SumBackward0`` without a dim and ``SumBackward1`` with one; ``MatMul`` is
   ``Dot``/``Mv``/``Mm``/``UnsafeView`` by the operands' dims; ``Linear`` is
   ``Addmm``/``Mm``/``View``/``UnsafeView``...;
3. ``_FIXED``: a plain rename (``Swish`` -> ``SiluBackward0``, ``_Conv2d`` -> ``ConvolutionBackward0``);
   else the class's own name (leading underscores off) + ``Backward0``.

Nothing here runs while ops record: the name is computed when asked (``Function.name()``), and a class's
resolver is cached on first use.
"""
from __future__ import annotations

import functools

from .grad_mode import state as _grad

__all__ = ["torch_name", "tag", "named"]


def tag(t, name: str, src=None, only=None):
    """Pin PyTorch's node name ``name`` on ``t.grad_fn`` (when ``t`` has a node that ``src``, the call's
    input, does not share: a call that hands back its input, or its input's node, leaves that node's name
    alone; with ``only``, when the node's class has that name).  Returns ``t``.  Costs one attribute read
    when no graph is recorded."""
    fn = getattr(t, "grad_fn", None)
    if fn is not None and (src is None or fn is not getattr(src, "grad_fn", None)) \
            and (only is None or type(fn).__name__ == only):
        d = getattr(fn, "__dict__", None)
        if d is not None:
            d["_tname"] = name
    return t


def named(name, only=None):
    """Decorator for a public function that PyTorch runs as one op (``mse_loss``: ``MseLossBackward0``) where
    ember composes several: its result's (first result's, for a tuple) last node takes ``name``.  ``name`` may
    be a function of the call's arguments giving the name (or a ``(name, only)`` pair), or None to keep the
    table's.  An in-place call (the result is the first argument) is named only while grad mode is on (under
    no_grad its node is the old one).  Not for a function that warns with a ``stacklevel`` (the wrapper is one
    more frame, so the warning would point here): call ``tag`` in its body instead."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            out = fn(*args, **kwargs)
            first = out[0] if isinstance(out, tuple) else out
            nm, cls = name(*args, **kwargs) if callable(name) else name, only
            if type(nm) is tuple:               # (name, only) from a function of the arguments
                nm, cls = nm
            if nm is not None:
                src = args[0] if args else None
                if first is src:            # in place: the input's node is the new one
                    if _grad.enabled:
                        tag(first, nm, None, cls)
                else:
                    tag(first, nm, src, cls)
            return out
        return wrapper
    return deco


def torch_name(node) -> str:
    """PyTorch 2.13's name for the ember node ``node`` (see the module docstring)."""
    d = getattr(node, "__dict__", None)
    if d:
        pinned = d.get("_tname")
        if pinned is not None:
            return pinned
    cls = type(node)
    r = _cache.get(cls)
    if r is None:
        r = _cache[cls] = _resolver(cls)
    if type(r) is str:
        return r
    try:
        return r(node)
    except Exception:       # a repr must not raise: a node a rule cannot read gets its class's own name
        return cls.__name__.lstrip("_") + "Backward0"


_cache: dict = {}


def _resolver(cls):
    key = cls.__name__
    mod = cls.__module__
    rule = _RULES.get(f"{mod}.{key}") or _RULES.get(key)
    if rule is not None:
        return rule
    fixed = _FIXED.get(f"{mod}.{cls.__qualname__}") or _FIXED.get(key)
    if fixed is not None:
        return fixed
    return key.lstrip("_") + "Backward0"


# -- the node's facts --------------------------------------------------------------------------------------
def _out_shape(node, i=0):
    try:
        return tuple(node._out_meta[i][0])
    except (AttributeError, IndexError, TypeError):
        return None


def _in_shape(node, i):
    """Input ``i``'s shape: from the input metadata (inputs that need a gradient), else from what the node
    saved for backward (an input saved in position ``i``), else None."""
    try:
        m = node._in_meta[i]
    except (AttributeError, IndexError):
        m = None
    if m:
        return tuple(m[0])
    try:
        s = node._saved[i]
    except (AttributeError, IndexError, TypeError):
        return None
    arr = getattr(s, "array", None)
    if arr is None:
        arr = getattr(s, "_data", None)
    return tuple(arr.shape) if arr is not None and hasattr(arr, "shape") else None


def _known_in_shapes(node):
    return [tuple(m[0]) for m in getattr(node, "_in_meta", ()) or () if m]


# -- rules: a function of the node -------------------------------------------------------------------------
def _dim_rule(base, attr="axes"):
    """``base`` + ``Backward0`` for the reduction over everything, ``Backward1`` for one with a dim."""
    def rule(node):
        return f"{base}Backward{0 if getattr(node, attr, None) is None else 1}"
    return rule


def _amax(node):
    is_max = getattr(node, "is_max", True)
    if getattr(node, "overall", False):                 # max() / min(): no dim
        return "MaxBackward1" if is_max else "MinBackward1"
    return "AmaxBackward0" if is_max else "AminBackward0"


def _max_dim(node):
    return "MaxBackward0" if getattr(node, "is_max", True) else "MinBackward0"


def _var(node):
    return "StdBackward0" if getattr(node, "take_sqrt", False) else "VarBackward0"


def _sub(node):
    meta = getattr(node, "_in_meta", ())
    return "RsubBackward1" if meta and meta[0] is False else "SubBackward0"    # ``1 - x``: a number first


def _matmul(node):
    """``torch.matmul`` by the operands' dims: dot, mv, mm, a vector times a matrix (unsqueeze, mm, squeeze),
    and batched products (folded into mm/bmm and unfolded with ``_unsafe_view``)."""
    a, b = _in_shape(node, 0), _in_shape(node, 1)      # MatMul saves both operands: known
    if a is None or b is None:
        return "MmBackward0"
    da, db = len(a), len(b)
    if da == 1 and db == 1:
        return "DotBackward0"
    if da == 2 and db == 1:
        return "MvBackward0"
    if da == 1 and db == 2:
        return "SqueezeBackward4"
    if da == 2 and db == 2:
        return "MmBackward0"
    if da == 2 and db >= 3:
        return "CloneBackward0"
    return "UnsafeViewBackward0"


def _linear(node):
    """``F.linear`` as PyTorch decomposes it: 2-D input: addmm (mm without bias); a 1-D or >2-D input is
    folded to 2-D and viewed back (``_unsafe_view`` without bias; 1-D without bias: unsqueeze, mm,
    squeeze)."""
    out = _out_shape(node)
    nd = len(out) if out is not None else 2
    bias = getattr(node, "bias_shape", None) is not None
    if nd == 2:
        return "AddmmBackward0" if bias else "MmBackward0"
    if nd == 1:
        return "ViewBackward0" if bias else "SqueezeBackward4"
    return "ViewBackward0" if bias else "UnsafeViewBackward0"


def _cat(node):
    ins = _known_in_shapes(node)
    out = _out_shape(node)
    if ins and out is not None and len(out) == len(ins[0]) + 1:
        return "StackBackward0"
    return "CatBackward0"


def _getitem(node):
    """Basic indexing as PyTorch applies it, left to right (an int: select, a partial slice: slice, None:
    unsqueeze; full slices and ``...`` are skipped): the last op applied names the node."""
    if getattr(node, "adv", False):
        return "IndexBackward0"
    idx = getattr(node, "idx", None)
    items = idx if type(idx) is tuple else (idx,)
    shape = getattr(node, "shape", None) or ()
    last, dim = None, 0
    for it in items:
        if it is None:
            last = "UnsqueezeBackward0"
            dim += 1
        elif it is Ellipsis:
            dim = len(shape) - sum(1 for j in items[items.index(it) + 1:] if j is not None)
        elif type(it) is slice:
            n = shape[dim] if dim < len(shape) else None
            start, stop, step = it.start, it.stop, it.step
            full = (start in (None, 0) and step in (None, 1)
                    and (stop is None or (n is not None and stop >= n)))
            if not full:
                last = "SliceBackward0"
            dim += 1
        else:
            last = "SelectBackward0"
    if last is None:
        return "AliasBackward0" if any(it is Ellipsis for it in items) else "SliceBackward0"
    return last


def _index_put(node):
    """``x[i] = v``: basic indices (ints, slices) copy into a view of ``x`` (PyTorch's ``CopySlices``);
    tensor / list / mask indices run ``index_put_``."""
    idx = getattr(node, "idx", None)
    items = idx if type(idx) is tuple else (idx,)
    basic = all(it is None or it is Ellipsis or type(it) in (int, slice, bool) for it in items)
    return "torch::autograd::CopySlices" if basic else "IndexPutBackward0"


def _rnn_sequence(node):
    """A recurrent layer's output sequence: PyTorch's CPU LSTM runs the oneDNN layer op; GRU / RNN stack their
    steps' outputs."""
    return "MkldnnRnnLayerBackward0" if getattr(node, "mode", None) == "LSTM" else "StackBackward0"


def _cast(node):
    return "ToCopyBackward0"


def _copy_into(node):
    meta = getattr(node, "_in_meta", ())
    if len(meta) > 1 and meta[1] is not False:
        return "torch::autograd::CopyBackwards"      # ``copy_`` from a tensor
    return "FillBackward2"                           # ``fill_`` with a number


def _pad_index(node):
    """Reflect / replicate / circular padding, told apart by the gather indices the node recorded."""
    import numpy as np
    shape = getattr(node, "shape", None) or _in_shape(node, 0) or ()
    k = max(len(shape) - 2, 1)
    for axis, a in getattr(node, "idx", ()) or ():
        n = shape[axis]
        total = len(a) - n
        if total <= 0:
            continue
        for mode, name in (("reflect", "Reflection"), ("edge", "Replication"), ("wrap", None)):
            for left in range(total + 1):
                try:
                    ref = np.pad(np.arange(n), (left, total - left), mode=mode)
                except ValueError:
                    continue
                if ref.shape == a.shape and (ref == a).all():
                    # circular: PyTorch copies slices into a new tensor
                    return f"{name}Pad{k}DBackward0" if name else "torch::autograd::CopySlices"
        break
    return f"ReflectionPad{k}DBackward0"


def _resample(node):
    cfg = getattr(node, "cfg", None)
    out = _out_shape(node)
    k = max(len(out) - 2, 1) if out is not None else 2
    mode = "Nearest"
    if cfg is not None:
        try:
            taps = cfg[1]
            if taps and taps[0][1] is not None:
                mode = {1: "Linear", 2: "Bilinear", 3: "Trilinear"}.get(k, "Linear") if len(taps) <= 2 \
                    else "Bicubic"
        except (TypeError, IndexError):
            pass
    if mode == "Bicubic":
        return "UpsampleBicubic2DBackward0"
    if mode in ("Linear", "Bilinear", "Trilinear"):
        return f"Upsample{mode}{k}DBackward0"
    return f"UpsampleNearest{k}DBackward0"


def _normalize(node):
    """ember's one normalization node: group norm (a grouping shape), batch norm (the statistics span the
    batch axis), instance norm (per-channel parameters shaped like the input: PyTorch runs batch norm on a
    reshaped input and views it back), else layer norm (over the trailing axes)."""
    cfg = getattr(node, "cfg", None)
    if cfg is None:
        return "NativeLayerNormBackward0"
    if cfg[0] is not None:
        return "NativeGroupNormBackward0"
    if getattr(node, "rows", False) or 0 in tuple(cfg[1]):
        return "NativeBatchNormBackward0"
    shape = _in_shape(node, 0) or _out_shape(node)
    if shape is not None and len(shape) >= 3 and len(tuple(cfg[2])) == len(shape):
        return "ViewBackward0"
    return "NativeLayerNormBackward0"


def _nll_name(node, reduction):
    """``nll_loss`` (``cross_entropy`` ends in it): a 3-D or deeper input runs PyTorch's 2-D kernel on a
    (N, C, H, W) view; the unreduced loss of a non-4-D input is viewed back to the target's shape."""
    shape = _in_shape(node, 0)
    if shape is None or len(shape) < 3:
        return "NllLossBackward0"
    if reduction == "none" and len(shape) != 4:
        return "ViewBackward0"
    return "NllLoss2DBackward0"


def _nll(node):
    return _nll_name(node, getattr(node, "reduction", "mean"))


def _cross_entropy(node):
    cfg = getattr(node, "cfg", None)
    if cfg is None:
        return "NllLossBackward0"
    reduction, probs, smoothing = cfg[0], cfg[1], cfg[2]
    if probs:
        return {"mean": "DivBackward1", "sum": "SumBackward0"}.get(reduction, "NegBackward0")
    if smoothing:
        return "AddBackward0"
    return _nll_name(node, reduction)


def _rnn_cell(node):
    return "ReluBackward0" if getattr(node, "relu", False) else "TanhBackward0"


def _avg_pool(node):
    out = _out_shape(node)
    return f"AvgPool{max(len(out) - 2, 1) if out else 2}DBackward0"


def _max_pool(node):
    out = _out_shape(node)
    return f"MaxPool{max(len(out) - 2, 1) if out else 2}DWithIndicesBackward0"


_RULES = {
    "Sum": _dim_rule("Sum"), "Mean": _dim_rule("Mean"), "Prod": _dim_rule("Prod", "axis"),
    "AMax": _amax, "MaxDim": _max_dim, "Var": _var, "Sub": _sub, "MatMul": _matmul, "Linear": _linear,
    "Cat": _cat, "GetItem": _getitem, "IndexPut": _index_put, "RNNSequence": _rnn_sequence, "Cast": _cast,
    "CopyInto": _copy_into, "_PadIndex": _pad_index,
    "_Resample": _resample, "_Normalize": _normalize, "SoftmaxCrossEntropy": _cross_entropy, "NLL": _nll,
    "RNNCellFn": _rnn_cell,
    "_AvgPool2d": _avg_pool, "_MaxPool2d": _max_pool,
}

# -- plain renames ----------------------------------------------------------------------------------------
_FIXED = {
    # elementwise
    "PowScalar": "PowBackward0", "Pow": "PowBackward1", "ScalarPow": "PowBackward2",
    "ember.ops.elementwise._HalfDiv": "DivBackward0", "ember.ops.elementwise._HalfMul": "MulBackward0",
    "Log1p": "Log1PBackward0", "Expm1": "Expm1Backward0", "Clamp": "ClampBackward1",
    "ClampTensor": "ClampBackward0",
    "Maximum": "MaximumBackward0", "Minimum": "MinimumBackward0", "FMax": "FmaxBackward0",
    "_Addcmul": "AddcmulBackward0", "_Addcdiv": "AddcdivBackward0", "_Atan2": "Atan2Backward0",
    "_MaskedFill": "MaskedFillBackward0", "_MaskedScatter": "MaskedScatterBackward0",
    "Where": "WhereBackward0",
    "NanToNum": "NanToNumBackward0", "_LogAddExp": "LogaddexpBackward0", "_XLogY": "XlogyBackward0",
    "_Logit": "LogitBackward0", "_CopySign": "CopysignBackward0", "_I0": "I0Backward0",
    "_Polygamma": "PolygammaBackward0", "Lgamma": "LgammaBackward0", "Erfinv": "ErfinvBackward0",
    "Deg2rad": "Deg2RadBackward0", "Rad2deg": "Rad2DegBackward0", "DivRounding": "DivBackward2",
    "Remainder": "RemainderBackward0", "Fmod": "FmodBackward0",
    # activations
    "Swish": "SiluBackward0", "Selu": "EluBackward0", "Softsign": "DivBackward0",
    "Tanhshrink": "SubBackward0", "LeakyRelu": "LeakyReluBackward0", "Hardtanh": "HardtanhBackward0",
    "LogSigmoid": "LogSigmoidBackward0", "Gelu": "GeluBackward0", "Mish": "MishBackward0",
    "Softplus": "SoftplusBackward0", "Threshold": "ThresholdBackward0",
    # reductions and scans
    "CumSum": "CumsumBackward0", "CumProd": "CumprodBackward0", "LogSumExp": "LogsumexpBackward0",
    "LogSoftmax": "LogSoftmaxBackward0", "Softmax": "SoftmaxBackward0",
    "_LogCumSumExp": "LogcumsumexpBackward0",
    "_SafeSqrt": "LinalgVectorNormBackward0", "Norm2": "LinalgVectorNormBackward0",
    "PNorm": "LinalgVectorNormBackward0",
    "NormInf": "LinalgVectorNormBackward0", "_VectorNorm": "LinalgVectorNormBackward0",
    # linear algebra
    "Einsum": "ViewBackward0", "_Inv": "LinalgInvExBackward0", "_Det": "LinalgDetBackward0",
    "_Cholesky": "LinalgCholeskyExBackward0", "_Solve": "LinalgSolveExBackward0",
    "_SVD": "LinalgSvdBackward0",
    "_QR": "LinalgQrBackward0", "_Eigh": "LinalgEighBackward0", "_Slogdet": "LinalgSlogdetBackward0",
    "_Pinv": "PinverseBackward0", "_MatrixExp": "LinalgMatrixExpBackward0",
    # shape and indexing
    "Reshape": "ViewBackward0", "Permute": "PermuteBackward0", "Narrow": "SliceBackward0",
    "_CloneAs": "CloneBackward0", "Clone": "CloneBackward0",
    "_PadConstant": "ConstantPadNdBackward0", "_PadConstantFlat": "ConstantPadNdBackward0",
    "IndexSelect": "IndexSelectBackward0", "Gather": "GatherBackward0", "Scatter": "ScatterBackward0",
    "ScatterAdd": "ScatterAddBackward0", "ScatterReduce": "ScatterReduceBackward0",
    "IndexAdd": "IndexAddBackward0", "_AsStrided": "AsStridedBackward0",
    # losses
    "BCE": "BinaryCrossEntropyBackward0", "CosineSimilarity": "SumBackward1",
    "Normalize2": "DivBackward0",
    "BCEWithLogits": "BinaryCrossEntropyWithLogitsBackward0", "_CTC": "CtcLossBackward0",
    # nn layers
    "_Conv2d": "ConvolutionBackward0", "_ConvTranspose2d": "ConvolutionBackward0",
    "_Conv3d": "ConvolutionBackward0", "_Unfold": "Im2ColBackward0", "_Fold": "Col2ImBackward0",
    "_AdaptiveMaxPool2d": "AdaptiveMaxPool2DBackward0", "_MaxUnpool": "MaxUnpool2DBackward0",
    "_MaskScale": "MulBackward0", "_Embedding": "EmbeddingBackward0",
    "_EmbeddingBag": "EmbeddingBagBackward0", "_GridSampler2d": "GridSampler2DBackward0",
    "_GridSampler3d": "GridSampler3DBackward0", "_PDist": "PdistBackward0", "_CdistMM": "CdistBackward0",
    "SDPA": "UnsafeViewBackward0",          # CPU: the math path, its output viewed back
    "SelectRows": "SelectBackward0", "_MedianAll": "MedianBackward0",
    "LSTMCellFn": "MulBackward0", "GRUCellFn": "AddBackward0",
}
