"""Known differences from PyTorch 2.13 that the fuzzer tolerates: the single documented list.

Each entry names the fuzz specs (``fnmatch`` patterns over ``specs.SPECS`` names), the aspects it covers
(``oracle.ASPECTS``), optionally a predicate on the drawn case and a regular expression the mismatch detail
must match, the reason, and a minimal reproducer: Python code run once with ``m = ember`` and once with
``m = torch`` that leaves its result in ``out``.  The fuzzer skips exactly the mismatches an entry covers;
``test_known_difference_still_differs`` flags entries whose reproducer no longer differs (fixed: delete the
entry).  ``docs/differences.md`` is generated from this list:

    .venv/bin/python -m tests.fuzz.known_differences > docs/differences.md
"""
from __future__ import annotations

import dataclasses
import fnmatch
import re
from typing import Callable

import numpy as np
import torch

import ember


@dataclasses.dataclass(frozen=True)
class Known:
    id: str
    ops: tuple
    aspects: tuple
    reason: str
    repro: str = ""
    when: Callable | None = None     # predicate on the Case
    detail: str | None = None        # regex the mismatch detail must match
    area: str = ""                   # who owns the fix (H3 views/in-place/indexing, H4 layout/conv, ...)
    case: str | None = None          # a fuzz case (repr) that shows the difference: the reproducer
    spec: str | None = None          # the spec the case is for (default: ops[0])
    cpu_dependent: bool = False      # PyTorch's side depends on the CPU's kernels: it may not reproduce on some

    def covers(self, spec_name, case, mm) -> bool:
        if mm.aspect not in self.aspects:
            return False
        if not any(fnmatch.fnmatchcase(spec_name, p) for p in self.ops):
            return False
        if self.detail is not None and not re.search(self.detail, mm.detail):
            return False
        if self.when is not None:
            try:
                return bool(self.when(case))
            except Exception:  # noqa: BLE001
                return False
        return True


def _dts(case):
    return set(case.dtypes())


def _has(*dts):
    return lambda case: bool(_dts(case) & set(dts))


def _channels_last_only(arr) -> bool:
    """Whether the fuzz argument ``arr`` is presented (in PyTorch) as a 4-D tensor that is channels_last-contiguous
    but not contiguous."""
    if arr is None or arr.layout == "expanded" or arr.data.ndim != 4:
        return False
    d = arr.data
    t = (torch.from_numpy(np.ascontiguousarray(np.transpose(d))).permute(3, 2, 1, 0) if arr.layout == "permuted"
         else torch.from_numpy(np.repeat(d, 2, axis=0))[::2] if arr.layout == "strided" else torch.from_numpy(d))
    return t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous()


def _arg(i):
    return lambda case: case.args[i]


def _layout(case):
    return any(a.layout != "contig" for a in case.arrays())


def _special(case):
    """Any NaN, inf, huge (> 1e4) or subnormal-tiny value among the float inputs, or an integer extreme."""
    for a in case.arrays():
        d = a.data
        if d.dtype.kind == "f" and d.size:
            ad = np.abs(d.astype(np.float64))
            if (~np.isfinite(ad)).any() or (ad > 1e4).any() or ((ad > 0) & (ad < 1e-6)).any():
                return True
        if d.dtype.kind in "iu" and d.size and (np.abs(d.astype(np.float64)) > 100).any():
            return True
    return False


def _overlapping_view(case):
    """The case's view chain (args[1]) ends in a view whose elements share memory (unfold with step < size)."""
    from ember._tensor_inplace import _byte_offsets, _overlap_layers
    from .cases_views import apply_chain
    v = apply_chain(ember, ember.tensor(case.args[0].data), case.args[1])
    return _overlap_layers(_byte_offsets(v._data)) is not None


def _all_reduce_of_equal_values(case):
    """A float32/float64 input whose elements are all equal and finite, reduced over all its dims (no dim, a 1-D
    input, or every dim named): PyTorch's all-elements std path."""
    a = case.args[0]
    d = a.data                     # an expanded input: its one stored value repeated
    if d.dtype not in (np.float32, np.float64) or int(np.prod(a.shape())) < 2 or not d.size or \
            not np.isfinite(d).all() or (d != d.flat[0]).any():
        return False
    dim, nd = case.kwargs.get("dim"), len(a.shape())
    if dim is None or nd <= 1:
        return True
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return len(dims) == 0 or len({int(x) % nd for x in dims}) == nd


def _float32_tiny_row(case):
    """A float32 input with a row of nonzero norm below 1e-2 (gradients of size 1/norm that cancel)."""
    for a in case.arrays():
        d = a.data
        if d.dtype == np.float32 and d.size:
            n = np.sqrt((d.astype(np.float64) ** 2).sum(axis=-1))
            if ((n > 0) & (n < 1e-2)).any():
                return True
    return False


def _float_tiny_row(case):
    """A float32 input with a row of nonzero norm below 1e-2, or a float64 one below 1e-8 (gradients of size
    1/norm or 1/norm**2 that cancel to rounding noise of that size)."""
    for a in case.arrays():
        d = a.data
        lim = {np.dtype(np.float32): 1e-2, np.dtype(np.float64): 1e-8}.get(d.dtype)
        if lim is not None and d.size:
            n = np.sqrt((d.astype(np.float64) ** 2).sum(axis=-1))
            if ((n > 0) & (n < lim)).any():
                return True
    return False


def _float32_huge_both_signs(case):
    """A float32 input holding values beyond +1e20 and beyond -1e20 (a sum that cancels them is ill-conditioned)."""
    for a in case.arrays():
        d = a.data
        if d.dtype == np.float32 and d.size and (d > 1e20).any() and (d < -1e20).any():
            return True
    return False


def _zero_and_overflowing_product(d):
    """A float32/float64 array holding a zero whose other elements' product overflows the dtype."""
    if d.dtype not in (np.float32, np.float64) or not (d == 0).any():
        return False
    with np.errstate(over="ignore"):
        return bool(np.isinf(np.prod(np.abs(d[d != 0]).astype(np.float64)).astype(d.dtype)))


def _float32_subnormal(case):
    """A float32 input with a subnormal value (0 < |x| < 1.2e-38)."""
    return any(a.data.dtype == np.float32 and a.data.size and
               bool(((np.abs(a.data) > 0) & (np.abs(a.data) < np.finfo(np.float32).tiny)).any()) for a in case.arrays())


KNOWN: list[Known] = [
    # ------------------------------------------------------------------ raise / no-raise, error types
    Known("scalar-where-torch-wants-tensor", ("*",), ("raise",),
          "ember's functional binary ops accept a Python number as the second argument where PyTorch's signature "
          "requires a Tensor (atan2, maximum, minimum, fmax, fmin, logical_and/or/xor): ember returns, torch raises "
          "TypeError.", "out = m.maximum(m.tensor([1.0, 2.0]), 1)",
          detail=r"must be Tensor, not", area="H5"),
    Known("cross-entropy-prob-ignore-index", ("F.cross_entropy_probs",), ("raise",),
          "cross_entropy with probability targets and an explicit ignore_index raises in PyTorch; ember ignores "
          "ignore_index.", "out = m.nn.functional.cross_entropy(m.tensor([[1.0, 2.0]]), m.tensor([[0.5, 0.5]]), "
          "ignore_index=0)", detail=r"ignore_index is not supported", area="H4"),
    Known("pad-mode-size", ("F.pad",), ("raise",),
          "Non-constant F.pad with a padding length PyTorch does not support for that rank (e.g. 2 values for "
          "a 4-D input) raises in PyTorch; ember pads the last dim.",
          "out = m.nn.functional.pad(m.ones(1, 1, 2, 3), (1, 1), mode='reflect')", detail=r"not supported",
          area="H4"),
    Known("glu-odd-or-0d", ("F.glu",), ("raise",),
          "F.glu on a 0-d input or a dim of odd size: ember's error is a leaked tuple-unpacking ValueError where "
          "PyTorch returns/raises its own.", "out = m.nn.functional.glu(m.ones(0), -1)", area="H4"),
    Known("empty-reductions", ("amax", "amin", "aminmax", "norm_p", "median", "nanmedian", "unique_dim",
                               "F.group_norm", "inner", "F.pixel_shuffle"), ("raise", "grad-raise"),
          "Reductions over a non-empty dim of an empty tensor (amax/amin/aminmax/norm inf, median of empty int), "
          "empty group_norm/unique(dim=), inner of 0-d tensors: PyTorch returns, ember raises (or the reverse for "
          "backward through an empty pixel_shuffle).",
          "out = m.median(m.ones(0, 3, dtype=m.int8))", area="H5"),
    Known("clamp-tensor-bounds-broadcast-backward", ("clamp_tensors",), ("grad-raise",),
          "clamp(x, min, max) with bounds of a larger broadcast shape than x: PyTorch's backward raises; ember "
          "reduces the gradient.", "x = m.tensor(-0.3); lo = m.tensor(float('inf'), requires_grad=True)\n"
          "m.clamp(x, lo, m.zeros(2, 1)).sum().backward(); out = lo.grad", area="H5"),
    Known("zero-d-sort-max-alias", ("max", "min", "sort", "topk", "kthvalue_1", "mode", "median", "cummax",
                                    "cummin"), ("alias",),
          "sort/max/min(dim=...) of a 0-d tensor return the input itself (writes to the values leak into the "
          "input); PyTorch returns a copy.", "x = m.tensor(1.0); v = m.sort(x)[0]; v.fill_(5.0); out = x",
          when=lambda case: case.arrays()[0].data.ndim == 0, area="H6"),
    Known("pad-zero-returns-input", ("F.pad",), ("alias",),
          "F.pad with all-zero padding returns the input itself in ember (writes to the result leak into the "
          "input); PyTorch returns a copy.",
          "x = m.zeros(1, 3); y = m.nn.functional.pad(x, (0, 0), mode='circular'); y.fill_(1.0); out = x",
          area="H4"),
    # ------------------------------------------------------------------ values, dtypes, shapes
    Known("kl-div-negative-target", ("F.kl_div",), ("value", "grad"),
          "kl_div with a negative target: PyTorch gives NaN (target * log(target)), ember a finite number.",
          "out = m.nn.functional.kl_div(m.tensor([0.5, 3.0]), m.tensor([-3.0, 2.8]), reduction='mean')", area="H4"),
    # ------------------------------------------------------------------ memory layout
    Known("layout-norm-pool-pad", ("F.batch_norm", "F.instance_norm", "F.pad", "F.max_pool2d", "F.avg_pool2d",
                                   "F.avg_pool1d", "F.max_pool1d", "F.layer_norm", "F.group_norm"),
          ("stride", "contiguous"),
          "For a non-contiguous (permuted) input, ember's norms/pooling/pad return results in the input's layout; "
          "PyTorch returns contiguous results.",
          "x = m.ones(2, 3, 4).permute(2, 1, 0)\nout = m.nn.functional.pad(x, (1, 1))", area="H4"),
    Known('cum-dim-out-of-range-0d', ('cummax', 'cummin'), ('raise',),
          'cummax/cummin with dim == ndim on a tensor... PyTorch accepts this dim (0-d/1-sized special case), ember raises IndexError.',
          case="Case([Arr(np.array([], dtype='float32').reshape((0, 1, 0)))], {'dim': 3})",
          area='H6'),
    Known('layout-matmul-batched', ('matmul', 'operator@'), ('stride', 'contiguous'),
          "matmul of a batched matrix with a vector/matrix where a result dim is 1 or the batch broadcasts: ember's result is non-contiguous, PyTorch's contiguous.",
          case="Case([Arr(np.array([ 1.5408548992588011, -3.005672023410079 ], dtype='float64'), grad=True), Arr(np.array([[[[ 2.0000000000000000e+000], [ 2.0000000000000000e+000]], [[ 2.0000000000000000e+000], [ 2.0000000000000000e+000]], [[ 2.0000000000000000e+000], [ 2.0000000000000000e+000]]], [[[ 2.0000000000000000e+000], [ 2.0000000000000000e+000]], [[ 2.0000000000000000e+000], [ 2.0000000000000000e+000]], [[-3.3651773499084765e+000], [ 2.0000000000000000e+000]]], [[[ 2.0000000000000000e+000], [ 2.0000000000000000e+000]], [[ 2.0000000000000000e+000], [ 5.5154293481465859e-229]], [[ 2.0000000000000000e+000], [ 2.0000000000000000e+000]]]], dtype='float64'), layout='permuted')], {})",
          area='H6'),
    Known('median-empty-int', ('median', 'nanmedian'), ('value',),
          "median/nanmedian of an empty integer tensor: PyTorch returns 0, ember the dtype's minimum.",
          case="Case([Arr(np.array([], dtype='int8').reshape((0, 3)))], {})",
          area='H6'),
    Known('take-along-dim-broadcast', ('take_along_dim',), ('raise', 'error-type'),
          'take_along_dim broadcasts the input and the indices in PyTorch; ember requires equal sizes (or leaks a NumPy broadcast error).',
          case="Case([Arr(np.array([[-2], [-5], [ 5], [ 5]], dtype='int32')), -1, Arr(np.array([[ 1, 0], [ 1, 0], [-1, 0], [ 1, -1]], dtype='int64')), Arr(np.array([[-2], [-2], [ 4], [-1]], dtype='int32'))], {})",
          area='H3'),
    Known('unfold-readonly', ('F.unfold', 'meshgrid', 'linalg.multi_dot', 'view_chain'), ('alias',),
          'F.unfold returns a read-only NumPy view in ember: fill_ on it raises ValueError; PyTorch writes.',
          case="Case([Arr(np.array([[[[0.]]]], dtype='float32'))], {'kernel_size': 1, 'padding': 0, 'stride': 1, 'dilation': 1})",
          area='H4'),
    Known("interpolate-area-empty-backward", ("F.interpolate",), ("grad-raise",),
          "interpolate(mode='area') to an empty output: PyTorch's backward raises, ember's returns zeros.",
          "x = m.zeros(1, 1, 1, requires_grad=True)\n"
          "m.nn.functional.interpolate(x, scale_factor=0.5, mode='area').sum().backward(); out = x.grad",
          area="H4"),
    Known("setitem-value-dtype", ("setitem",), ("raise",),
          "Advanced-index assignment of a value of another dtype (uint8 values into a bool tensor through a mask): "
          "PyTorch casts, ember raises 'index put requires the source and destination dtypes to match'.",
          case="Case([Arr(np.array([False], dtype='bool')), ('tuple', [('tensor', 'bool', [True]), ('none',)]), "
          "Arr(np.array([[0]], dtype='uint8'))], {})", detail=r"dtypes to match", area="H3"),
    Known('kron-torch-view-error', ('kron',), ('raise',),
          "PyTorch 2.13's kron of a 1-D tensor with a transposed 2-D tensor raises 'view size is not compatible' (a PyTorch limitation); ember returns the right product.",
          case="Case([Arr(np.array([-2.220446e-16, -2.220446e-16], dtype='float32')), Arr(np.array([[-2.220446e-16, -2.220446e-16], [-2.220446e-16, -2.220446e-16]], dtype='float32'), layout='permuted')], {})",
          area='H6'),
    Known('nextafter-gradient', ('nextafter',), ('grad',),
          "nextafter: PyTorch's gradient is zero (not differentiable), ember passes the gradient through to the first input.",
          case="Case([Arr(np.array([[[[1.], [1.]], [[1.], [1.]]]], dtype='float32'), layout='permuted', grad=True), Arr(np.array([[[[1.], [1.]], [[1.], [1.]]]], dtype='float32'), layout='permuted')], {})",
          area='H6'),
    Known("layout-follow-inputs", ("index_fill", "index_copy", "F.rms_norm", "getitem", "F.*"),
          ("stride", "contiguous"),
          "Results computed from non-contiguous (permuted) inputs: PyTorch's kernels give the result the inputs' "
          "stride order (rms_norm: contiguous); ember's index_fill/index_copy, rms_norm and x[True] return "
          "contiguous results (or keep the input's order).  Contiguous inputs give the same layout.",
          case="Case([Arr(np.array([[[ 1, 1, 1, -4], [ 1, 0, -1, -5], [ 5, 1, 1, 1]], [[ 0, 1, 1, 1], [ 3, 1, 1, "
          "0], [ 1, 1, 1, 1]]], dtype='int16'), layout='permuted'), -1, Arr(np.array([1, 1, 0], dtype='int64')), "
          "Arr(np.array([[[ 1, 3, 1, 3], [-1, 3, 3, 3], [ 3, 3, 3, 3]], [[-5, 1, -3, -2], [-4, -2, 3, 3], [ 3, 3, "
          "3, -2]]], dtype='int16'))], {})", spec="index_fill", when=_layout, area="H6"),
    Known('bilinear-empty', ('F.bilinear',), ('raise',),
          'F.bilinear with an empty feature dim: PyTorch returns, ember raises a reshape error.',
          case="Case([Arr(np.array([[ 1.6671022e+00, 5.0000000e-01], [-4.0000000e+00, -5.9604645e-08]], dtype='float32'), layout='permuted'), Arr(np.array([[ 0. ], [-1.0769821]], dtype='float32')), Arr(np.array([], dtype='float32').reshape((0, 2, 1)), layout='strided')], {})",
          area='H4'),
    Known('one-hot-empty-infer', ('F.one_hot',), ('raise',),
          "one_hot of an empty tensor with num_classes=-1: PyTorch raises ('Can not infer total number of classes'), ember returns.",
          case="Case([Arr(np.array([], dtype='int64').reshape((0, 1, 0))), -1], {})",
          area='H4'),
    Known('layout-addmm', ('addmm', 'addbmm', 'baddbmm', 'cdist'), ('stride', 'contiguous'),
          "addmm/addbmm with a broadcast (1-D or empty) input: ember's result is a transposed (non-contiguous) buffer, PyTorch's contiguous.",
          case="Case([Arr(np.array([[ 0.3455992182544927, -0. , -3. ], [ 3.1920402005172193, -0. , -2. ]], dtype='float64'), layout='permuted', grad=True), Arr(np.array([[0.5]], dtype='float64'), layout='expanded', expand_to=(2, 1), grad=True), Arr(np.array([[-3. , -2.136220913566818, 2. ]], dtype='float64'), layout='strided')], {})",
          area='H6'),
    Known('combinations-r1-shape', ('combinations',), ('shape',),
          'combinations(x, r=1): PyTorch returns shape (n, 1), ember (n,).',
          case="Case([Arr(np.array([-2, 1], dtype='int8')), 1, False], {})",
          area='H6'),
    Known('renorm-1d', ('renorm',), ('raise',),
          "renorm of a 1-D tensor raises in PyTorch ('needs at least 2 dimensions'); ember returns.",
          case="Case([Arr(np.array([0.], dtype='float32')), 1.0, 0, 0.5], {})",
          area='H6'),
    Known('tensor-split-indices-past-end', ('tensor_split',), ('raise',),
          'tensor_split with indices past the end ([0, 5] on a dim of size 0-4): PyTorch returns empty pieces, ember raises.',
          case="Case([Arr(np.array([], dtype='int32').reshape((0, 0))), [0, 5], -1], {})",
          area='H6'),
    Known('vander-torch-backward-error', ('vander',), ('grad-raise',),
          "PyTorch 2.13's vander backward raises 'modified by an inplace operation' (its own implementation writes in place); ember's backward works.",
          case="Case([Arr(np.array([2.904206], dtype='float32'), grad=True), 4], {})",
          area='H6'),
    Known("linear-1d-weight", ("F.linear",), ("raise",),
          "F.linear with a 1-D weight (a dot product with each row) works in PyTorch; ember requires a 2-D weight.",
          "out = m.nn.functional.linear(m.ones(3), m.ones(3), m.tensor(1.0))", area="H4"),
    Known("layout-ldexp-permuted", ("ldexp",), ("stride", "contiguous"),
          "ldexp with a permuted exponent tensor: PyTorch computes x * 2 ** e, and the layout of its result "
          "(following e's stride order or C-contiguous, depending on the shapes) differs from ember's.",
          case="Case([Arr(np.array(-0., dtype='float64').reshape(())), Arr(np.array([[[[-1.0], [3.5], [-3.0], "
          "[-1.0]], [[-1.0], [-3.0], [3.5], [1.9]]]], dtype='float64'), layout='permuted')], {})",
          when=_layout, area="H5"),
    Known("pow-exponent-grad-underflowing-base", ("pow", "operator**"), ("grad",),
          "pow of a float64 0-d base that underflows to 0 in the float32 result dtype (1e-270): PyTorch's exponent "
          "gradient is NaN (0 * log(0) on the cast base), ember's 0 (its zero-base rule on the cast base).",
          case="Case([Arr(np.array(1.3742340743618451e-270, dtype='float64').reshape(())), Arr(np.array([1.], "
          "dtype='float32'), grad=True)], {})", spec="operator**",
          when=lambda case: any(a.data.dtype == np.float64 and a.data.ndim == 0 and 0 < abs(float(a.data)) < 1e-37
                                for a in case.arrays()), area="H5"),
    Known('heaviside-broadcast-error', ('heaviside',), ('error-type',),
          "heaviside with non-broadcastable shapes leaks NumPy's broadcast ValueError instead of an ember error naming the op.",
          case="Case([Arr(np.array([[[ 2], [ 2], [ 2], [ 2]], [[ 2], [ 2], [ 2], [ 2]], [[ 5], [ 2], [ 2], [ 2]], [[-5], [ 2], [ 2], [-4]]], dtype='int16'), layout='permuted'), Arr(np.array([], dtype='int16').reshape((0, 0, 0, 4)), layout='expanded', expand_to=(0, 0, 0, 4))], {})",
          area='H6'),
    Known('remainder-no-derivative', ('operator%', 'remainder', 'floor_divide', 'operator//', 'inplace_operator//=', 'inplace_operator%=', 'div_*'), ('grad-raise',),
          'PyTorch has no derivative for remainder w.r.t. its divisor nor for floor_divide (backward raises); ember returns a gradient.',
          case="Case([False, Arr(np.array([], dtype='float64').reshape((0, 4, 1)), grad=True)], {})",
          detail='derivative for aten::(remainder|floor_divide)',
          area='H5'),
    Known('torch-internal-assert-bool-scalar-pow', ('operator**',), ('grad-raise',),
          "True ** tensor: PyTorch 2.13's backward hits an internal assert (a PyTorch bug); ember's backward works.",
          case="Case([True, Arr(np.array([[[[ 2.0000000e+00, 2.0000000e+00, 2.0000000e+00], [ 2.0000000e+00, -4.2589444e-01, 2.0000000e+00], [ 2.0000000e+00, 2.0000000e+00, -3.6422324e+00], [ 2.0000000e+00, 1.0000000e-12, 3.0000000e+00]]], [[[ 2.0000000e+00, 2.0000000e+00, 2.0000000e+00], [ 2.0000000e+00, 2.0000000e+00, 0.0000000e+00], [-0.0000000e+00, -1.0000000e+00, 2.0000000e+00], [ 2.0000000e+00, 2.0000000e+00, 2.0000000e+00]]], [[[ 2.0000000e+00, 2.0000000e+00, 2.0000000e+00], [ 2.0000000e+00, 2.0000000e+00, 2.0000000e+00], [ 2.0000000e+00, 7.0064923e-45, 3.0000000e+00], [-2.0000000e+00, 2.0000000e+00, 2.0000000e+00]]]], dtype='float32'), layout='strided', grad=True)], {})",
          detail='INTERNAL ASSERT',
          area='H5'),
    Known("inplace-overlapping-view-grad", ("inplace_through_view", "inplace_saved_tensor"), ("grad",),
          "The gradient through an in-place op (mul_, exp_, ...) on a view whose elements share memory (unfold with "
          "step < size): ember differentiates the element-by-element updates (a shared element updated twice gets "
          "both factors); PyTorch's CopySlices assumes the view does not overlap itself and keeps one write's "
          "gradient per location.  The values agree.",
          "x = m.tensor([0.5, 1.0, 2.0], requires_grad=True); y = x * 1\n"
          "y.unfold(0, 2, 1).mul_(m.tensor([[2.0, 3.0], [5.0, 7.0]])); y.sum().backward(); out = x.grad",
          when=_overlapping_view, area="H3"),
    Known("setitem-int-target-requires-grad", ("setitem", "inplace_*"), ("requires_grad",),
          "x[...] = v for an integer or bool x and a 0-d float v that requires grad: PyTorch's fill_ path gives the "
          "integer tensor a grad_fn (requires_grad=True, a tensor no gradient can flow to); ember's integer "
          "tensors never require grad.",
          "x = m.zeros(2, dtype=m.int64); x[:] = m.tensor(0.5, requires_grad=True); out = x",
          when=lambda case: case.args[0].data.dtype.kind in "biu" and (
              getattr(case.args[2], "grad", False) if len(case.args) == 3 else
              case.args[2] == "setitem_all" and getattr(case.args[3], "grad", False)),
          area="H3"),
    Known("inplace-float32-result-float64-operand-grad", ("inplace_saved_tensor", "inplace_through_view"),
          ("grad",),
          "A float64 operand that requires grad, written in place into a float32 tensor made from a bool or integer "
          "input (x.exp() of a bool x is float32): PyTorch computes the operand's gradient in float32 (the "
          "in-place result's dtype: g * x and its sum over the broadcast dims) and then casts; ember's carries "
          "float64 digits or another float32 summation order, a few float32 ulps apart (the oracle relaxes float64 "
          "gradients to float32 tolerance only when an input array is float32).",
          "x = m.tensor([[False], [False]]).exp(); o = m.tensor([0.], dtype=m.float64, requires_grad=True)\n"
          "x.mul_(o); x.backward(m.tensor([[1.0791545], [0.1662515]])); out = o.grad",
          when=lambda case: case.args[0].data.dtype.kind in "biu" and case.args[3] is not None and (
              case.args[3].data.dtype == np.float64 and case.args[3].grad),
          detail=r"grad of input 1", area="H3"),
    Known("prod-float16-overflow-order", ("prod",), ("value", "grad"),
          "prod of float16 values with a zero whose other partial products overflow: PyTorch multiplies in "
          "float16 in its vectorized lane order, so a lane reaching inf meets the zero lane (0 * inf = NaN); "
          "ember's order gives 0.",
          case="Case([Arr(np.array([2.] * 4 + [0.] + [2.] * 59, dtype='float16').reshape((4, 4, 4)))], {})",
          when=lambda case: any(a.data.dtype == np.float16 and (a.data == 0).any() for a in case.arrays()),
          area="H3"),
    Known("prod-float32-overflow-order", ("prod",), ("value", "grad"),
          "prod of float32/float64 values with a zero whose other partial products overflow (1e30 and many "
          "3s): NumPy multiplies them in an order where a partial product reaches inf before meeting the "
          "zero "
          "(inf * 0 = NaN), PyTorch's vectorized lanes meet the zero first and give 0; which one happens "
          "depends on where the zero and the overflow fall in each library's lanes.",
          case="Case([Arr(np.array([1e30] + [3.] * 18 + [0.] + [3.] * 12, dtype='float32')"
          ".reshape((2, 2, 2, 4)), grad=True)], {})",
          when=lambda case: any(_zero_and_overflowing_product(a.data) for a in case.arrays()),
          area="H3"),
    Known("cumprod-grad-zero-and-inf", ("cumprod",), ("grad",),
          "cumprod's gradient over a slice holding both a zero and inf: PyTorch's zero-aware formula gives NaN "
          "where ember's gives inf (0 * inf taken in a different order).",
          case="Case([Arr(np.array([0., np.inf, 0.], dtype='float32'), grad=True)], {'dim': 0})",
          when=lambda case: any(a.data.dtype.kind == "f" and (a.data == 0).any() and np.isinf(a.data).any()
                                for a in case.arrays()),
          area="H3"),
    Known('logaddexp-bool-grad', ('logaddexp', 'logaddexp2'), ('grad-raise',),
          "logaddexp of a bool tensor and a float tensor: PyTorch's backward subtracts the bool operand and raises "
          "('Subtraction ... with a bool tensor is not supported'); ember's backward gives the float operand its "
          "gradient.",
          case="Case([Arr(np.array(False, dtype='bool').reshape(())), Arr(np.array(0., dtype='float32').reshape(()), grad=True)], {})",
          detail='bool tensor is not supported',
          area='H6'),
    Known('mode-with-nan', ('mode',), ('value', 'grad'),
          'mode of a tensor containing NaN: PyTorch returns NaN (and its index), ember ignores the NaN.',
          case="Case([Arr(np.array([ nan, -2.484490057899721e-231, -2.000000000000000e+000, -9.999999999999969e-311], dtype='float64'), grad=True)], {})",
          area='H6'),
    Known('var-mean-with-inf', ('var_mean',), ('value',),
          "var_mean/std_mean with an infinite element: PyTorch's mean is NaN (Welford update), ember's -inf/inf.",
          case="Case([Arr(np.array([[[-2. , 0. , -inf, 1.5014094]]], dtype='float32'), layout='expanded', expand_to=(2, 1, 4), grad=True), 0], {})",
          area='H5'),
    Known('conv-transpose-empty-output', ('F.conv_transpose2d', 'F.conv_transpose1d'), ('raise',),
          'conv_transpose with an output size of exactly 0 in a spatial dim: PyTorch returns an empty tensor when '
          'its oneDNN path runs (float32 batched input) and raises "Output size is too small" on its other paths '
          '(float64, unbatched); ember always raises.', detail=r'output size 0 in dim',
          case="Case([Arr(np.array([[[[ 0.85755897, 3.401232 , 3. , -3.8903098 , -3. ]]], [[[-0. , 0.85755897, 0.85755897, 0.85755897, -1.8693352 ]]], [[[ 0.5 , 0. , -0. , 1.9784229 , 0.85755897]]]], dtype='float32')), Arr(np.array([[[[ 1.4051089, -2.5463655]], [[ 2.956127 , 1.4051089]]]], dtype='float32')), Arr(np.array([-3.8832884, -2.7374287], dtype='float32'), layout='strided')], {'stride': 2, 'groups': 1, 'padding': 1, 'output_padding': 1, 'dilation': 1})",
          area='H4'),
    Known('instance-norm-empty-torch-error', ('F.instance_norm',), ('raise',),
          'instance_norm of an empty batch raises an IndexError inside PyTorch 2.13; ember returns an empty result.',
          case="Case([Arr(np.array([], dtype='float32').reshape((0, 4, 3)), layout='strided', grad=True), Arr(np.array([2.1599844, 0. , 0. , 2. ], dtype='float32'), grad=True), None], {})",
          area='H4'),
    Known('pairwise-distance-int', ('F.pairwise_distance', 'F.cosine_similarity'), ('raise',),
          'pairwise_distance of integer tensors works in PyTorch; ember raises TypeError (floating point required).',
          case="Case([Arr(np.array([-2], dtype='int32')), Arr(np.array([-2], dtype='int32'))], {})",
          area='H4'),
    Known('combinations-requires-grad', ('combinations',), ('requires_grad',),
          "combinations of a tensor that requires grad: PyTorch's result requires grad (differentiable), ember's does not.",
          case="Case([Arr(np.array([3.], dtype='float64'), layout='expanded', expand_to=(2,), grad=True), 3, False], {})",
          area='H6'),
    Known("fmod-subnormal-divisor", ("fmod", "remainder", "operator%", "inplace_operator%="), ("value", "grad"),
          "fmod/remainder with a subnormal divisor (1e-310 in float64, 1e-40 in float32): PyTorch's vectorized "
          "kernel flushes it to zero and returns NaN; ember returns the exact (subnormal) remainder.",
          case="Case([Arr(np.array(1, dtype='uint8').reshape(())), Arr(np.array([[[[1.e-310]], [[0.e+000]], "
          "[[0.e+000]]], [[[0.e+000]], [[0.e+000]], [[0.e+000]]], [[[0.e+000]], [[0.e+000]], [[0.e+000]]]], "
          "dtype='float64'))], {})", when=lambda case: _special(case), area="H5"),
    Known("logspace-int-overflow", ("logspace", "linspace", "arange", "full*", "F.threshold"), ("raise",),
          "logspace with an integer dtype whose values do not fit it (10**3 into uint8): PyTorch raises 'value "
          "cannot be converted to type uint8_t without overflow', ember wraps.",
          "out = m.logspace(3, 0, 1, dtype=m.uint8)", detail=r"without overflow", area="H5"),
    Known("masked-fill-broadcast-layout", ("masked_fill*",), ("stride", "contiguous"),
          "masked_fill of a 0-d (or smaller) input with a permuted mask that broadcasts it up: PyTorch's result is "
          "contiguous, ember's follows the mask's layout.",
          "out = m.tensor(0.0).masked_fill(m.zeros(2, 2).t() > 0, 1.5)", area="H3"),
    Known("ldexp-float32-exponent", ("ldexp",), ("value", "grad"),
          "ldexp(float64 x, float32 exponent): PyTorch computes 2**exponent in float32 (7 significant digits), "
          "ember in float64.",
          "out = m.ldexp(m.tensor([-2.50244138171222], dtype=m.float64), m.tensor([3.3520963]))", area="H6"),
    Known("layout-permuted-inputs", ("isclose", "nn.GRUCell", "nn.RNNCell", "nn.LSTMCell", "einsum",
                                     "F.conv*", "F.*pool*", "F.*norm*"), ("stride", "contiguous"),
          "isclose, RNN cells with a permuted hidden state and einsum of a permuted operand: PyTorch's result "
          "layout follows (or ignores) the input's stride order differently from ember's.",
          "out = m.isclose(m.zeros(2, 3).t(), m.zeros(3, 2))", when=_layout, area="H6"),
    Known("mean-with-inf-and-nan", ("std_mean", "var_mean", "F.group_norm", "F.layer_norm", "F.instance_norm",
                                    "F.batch_norm", "var*", "std*"), ("value", "grad"),
          "std_mean/var_mean and normalizations over values with inf, NaN or 1e300: PyTorch's Welford-style "
          "accumulation gives NaN where ember gives inf/-0.0 (or the reverse).",
          case="Case([Arr(np.array([[ 3.5546696068186705e+000, nan], [ 9.9999999999999694e-311, "
          "-1.0000000000000000e+000], [ nan, 2.0000000000000000e+000], [ inf, -1.5000000000000000e+000]], "
          "dtype='float64'), grad=True), 2], {'dim': (1,), 'keepdim': True})", spec="std_mean",
          when=lambda case: _special(case), area="H5"),
    Known("logspace-float16", ("logspace",), ("value",),
          "logspace with dtype=float16: PyTorch computes the powers in float16 (354.8 for 10**2.55), ember in "
          "float64 then rounds (355.5).", "out = m.logspace(3.0, 2.25, 6, dtype=m.float16)", area="H5"),
    Known("sinc-float16-huge", ("sinc", "Tensor.unary_"), ("value", "grad"),
          "sinc of a huge float16 value (-6e4): PyTorch computes in float32 and returns 0, ember overflows pi*x in "
          "float16 and returns NaN.", "out = m.sinc(m.tensor([-6.0e4], dtype=m.float16))",
          when=lambda case: _special(case), area="H6"),
    Known("batch-norm-noncontiguous-weight-backward", ("F.batch_norm",), ("grad",),
          "F.batch_norm with a non-contiguous weight (a strided view): PyTorch 2.13's CPU backward reads the "
          "weight as if it were contiguous, so the input's gradient uses the wrong channels' weights; ember's "
          "gradient uses the weight's values (equal to PyTorch with weight.contiguous()).",
          "x = m.zeros(1, 2, requires_grad=True); w = m.tensor([0.0, 9.0, 1.0, 9.0])[::2]\n"
          "y = m.nn.functional.batch_norm(x, m.tensor([-1.0, 1.0]), m.tensor([0.5, 2.0]), w, None)\n"
          "y.backward(m.tensor([[0.3, -0.31]])); out = x.grad",
          when=lambda case: case.args[3] is not None and case.args[3].layout != "contig",
          detail=r"grad of input 0", area="H4"),
    Known("batch-norm-channels-last-input-backward", ("F.batch_norm",), ("grad",),
          "F.batch_norm (training or eval) on a permuted 4-D input with N = 1 and H or W = 1, whose strides make it "
          "channels_last-contiguous but not contiguous (shape (1, 2, 1, 2), strides (1, 1, 2, 2)): PyTorch 2.13's "
          "CPU backward pairs the (contiguous) gradient's elements with the wrong channels, so the gradients of "
          "the input, weight and bias are those of other elements; ember's are the per-channel formula (equal to "
          "PyTorch on x.contiguous(), and to float64 finite differences).",
          "base = m.zeros(2, 1, 2, 1, requires_grad=True); x = base.permute(3, 2, 1, 0)\n"
          "y = m.nn.functional.batch_norm(x, m.tensor([-1.0, 1.0]), m.tensor([0.5, 2.0]), None, None, False)\n"
          "y.backward(m.arange(1.0, 5.0).reshape(1, 2, 1, 2)); out = base.grad",
          when=lambda case: _channels_last_only(case.args[0]), detail=r"grad of input [034]", area="H4"),
    Known("digamma-near-negative-pole", ("lgamma", "digamma", "polygamma*", "mvlgamma"), ("value", "grad"),
          "digamma (lgamma's derivative) within ~1e-12 of a negative integer pole: the value is about -1/(x - n) "
          "~ 1e15; PyTorch's reflection formula (through tan(pi x)) loses digits there and is a few percent off, "
          "ember's value agrees with mpmath (-2.2518e15 at -1.9999999999999996); elsewhere they agree to rounding.",
          "x = m.tensor(-1.9999999999999996, dtype=m.float64, requires_grad=True)\n"
          "m.lgamma(x).backward(); out = x.grad",
          when=lambda case: any(a.data.dtype.kind == "f" and a.data.size and bool(np.any(
              (a.data < 0) & (np.abs(a.data - np.round(a.data)) < 1e-9))) for a in case.arrays()),
          area="H6"),
    Known("gelu-inf-simd", ("F.gelu", "nn.GELU"), ("value", "grad"),
          "gelu(+inf) with approximate='none' in float32: PyTorch 2.13's vectorised erf path (two or more "
          "elements) gives NaN, its scalar path (one element, float64) inf; ember gives inf, the limit.  (Seen on "
          "an Intel Xeon; on an AMD EPYC, PyTorch's AVX2 kernel gives inf too.)",
          "out = m.nn.functional.gelu(m.full((2,), float('inf')))", cpu_dependent=True,
          when=lambda case: any(a.data.dtype.kind == "f" and np.isinf(a.data).any() for a in case.arrays()),
          area="H4"),
    Known("kron-layout-permuted", ("kron",), ("stride", "contiguous"),
          "kron with a transposed (permuted) operand: PyTorch's result follows that operand's layout (its "
          "reshape-and-multiply path), ember's is contiguous; the values agree.",
          "a = m.tensor([1, 2]); b = m.tensor([[3, 4]]).t()\nout = m.kron(a, b).stride()",
          when=lambda case: any(a.layout == "permuted" for a in case.arrays()), area="H6"),
    Known("setitem-uint8-index-in-tuple", ("setitem",), ("raise",),
          "x[0-d tensor, uint8 tensor] = v: PyTorch takes the uint8 tensor as a mask and raises in its masked_fill_ "
          "path ('only supports boolean masks'); ember indexes with it as a mask.",
          "x = m.zeros(1, 1, dtype=m.float16)\nx[m.tensor(0), m.tensor([0], dtype=m.uint8)] = 0; out = x",
          detail="masked_fill_ only supports boolean masks", area="H3"),
    Known("activation-nan-grad-simd", ("F.hardtanh", "F.relu6", "F.hardshrink", "F.softshrink", "F.hardswish",
                                       "F.elu", "F.celu", "F.selu"), ("grad",),
          "The gradient at a NaN input of PyTorch 2.13's piecewise activations (hardtanh, relu6, hard/softshrink, "
          "hardswish, elu, celu, selu) depends on where the element lies: its CPU kernel's SIMD loop gives 0 or NaN "
          "for elements in full vectors (16 float32 / 8 float64 with AVX-512), its scalar tail passes the incoming "
          "gradient times the branch's slope (so always in small tensors); ember always gives the scalar result.",
          "x = m.zeros(16); x[0] = float('nan'); x.requires_grad_()\n"
          "m.nn.functional.hardtanh(x).sum().backward(); out = x.grad",
          when=lambda case: any(a.data.dtype.kind == "f" and np.isnan(a.data).any() for a in case.arrays()),
          area="H4"),
    Known("adaptive-avg-pool-sum-order", ("F.adaptive_avg_pool2d", "F.adaptive_avg_pool1d", "F.interpolate"),
          ("value", "grad"),
          "Adaptive average pooling and interpolation over values of very different magnitudes (1e30 next to 1 "
          "or -1e30): PyTorch sums a window in another order than ember (a (1, 1) output is its vectorized mean; "
          "ember interpolates finite data as one matrix product), so cancellation leaves another result.",
          "out = m.nn.functional.adaptive_avg_pool1d(m.tensor([[[1e30, -1e30, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1e30, "
          "-1e30]]]), 1)",
          when=lambda case: _special(case), area="H4"),
    Known("conv-transpose-nan-padding-grad", ("F.conv_transpose1d", "F.conv_transpose2d"), ("grad",),
          "conv_transpose with padding and a NaN/inf input: ember's weight gradient multiplies the input by the "
          "zero gradient of the cropped border (0 * NaN = NaN), as PyTorch's float64 path does; PyTorch's "
          "float32 oneDNN path (batched input) skips the border and gives 0 there.",
          "x = m.tensor([[[float('nan'), 0.0]], [[0.0, 0.0]]]); w = m.zeros(1, 1, 2, requires_grad=True)\n"
          "m.nn.functional.conv_transpose1d(x, w, padding=1).sum().backward(); out = w.grad",
          when=lambda case: _special(case) and "float32" in _dts(case), area="H4"),
    Known("triplet-swap-tie-layout", ("F.triplet_margin_loss",), ("grad",),
          "triplet_margin_loss(swap=True) where d(anchor, negative) equals d(positive, negative) (e.g. all-equal "
          "inputs): PyTorch 2.13 rounds the distance of a non-contiguous float64 input differently, which breaks "
          "the tie, so min()'s gradient goes to one side; ember splits it half and half, as PyTorch does for "
          "contiguous inputs.",
          "a = m.zeros(2, 3, dtype=m.float64); p = m.zeros(3, 2, dtype=m.float64, requires_grad=True)\n"
          "m.nn.functional.triplet_margin_loss(a, p.t(), m.zeros(2, 3, dtype=m.float64), swap=True).backward()\n"
          "out = p.grad", when=_layout, area="H4"),
    Known("margin-loss-empty-mean", ("F.multi_margin_loss",), ("value",),
          "multi_margin_loss (and multilabel_margin_loss) of an empty batch with reduction 'mean' or 'sum': "
          "PyTorch 2.13 returns uninitialized memory (any number); ember returns the sum of no values, 0, and "
          "their mean, NaN, as PyTorch's other losses.",
          "out = m.nn.functional.multi_margin_loss(m.zeros(0, 3), m.zeros(0, dtype=m.int64))",
          when=lambda case: case.args[0].data.size == 0 and case.kwargs.get("reduction", "mean") != "none",
          area="H4"),
    Known("std-all-elements-of-equal-values", ("std_unbiased", "std"), ("grad",),
          "std over all elements of a float32/float64 tensor whose elements are all equal: PyTorch 2.13's "
          "all-elements path subtracts a mean it summed in the input's dtype, which can be an ulp off (three "
          "float32 3.123858 average to 3.1238577), so its std is ~1e-7 instead of 0 and its gradient "
          "g * (x - mean) / (n * std) is of the order of g; ember's std there is exactly 0 with a zero gradient, as "
          "PyTorch's own std over a dim and std_mean (its Welford kernel) give.  std has no derivative at 0.",
          case="Case([Arr(np.array([3.123858, 3.123858, 3.123858], dtype='float32'), grad=True), False], {})",
          when=_all_reduce_of_equal_values, area="H5"),
    Known("cosine-embedding-tiny-row-sqrt-rounding", ("F.cosine_embedding_loss",), ("grad",),
          "cosine_embedding_loss's gradient for float32 inputs with a row of tiny norm (6.1e-5): each gradient "
          "element is a difference of two terms of size 1/norm (x1 / D - prod * x2 / (|x2|^2 D)) that cancel, so "
          "one ulp in D = sqrt(|x1|^2 |x2|^2) shows up 1e-3 apart.  PyTorch 2.13's float32 sqrt is not correctly "
          "rounded (0.7% of float32 inputs come out one ulp off; sqrt(7.4525808e-09) = 8.632833e-05 is "
          "8.6328328e-05 in PyTorch), ember's is; both are float32 cancellation errors of the float64 gradient.  "
          "(Seen on an Intel Xeon; on an AMD EPYC PyTorch's sqrt gives ember's value here.)",
          cpu_dependent=True,
          case="Case([Arr(np.array([[1., 1.]], dtype='float32')), Arr(np.array([[6.1035156e-05, 0.0000000e+00]], "
          "dtype='float32'), grad=True), 'mean'], {})",
          when=_float32_tiny_row, area="H4"),
    Known("float32-sum-order-cancellation", ("nanmean", "nansum", "mean", "sum"), ("value",),
          "Sum or mean of float32 values of both signs near 1e30 that cancel (1e30 three times, -1e30 three "
          "times): the exact sum is 0, but each float32 partial sum rounds, and PyTorch's vectorized kernel adds "
          "in another order than NumPy's pairwise summation, so one gets 0 and the other a rounding residue "
          "(1.5e23, 1e-7 of the terms).  Both are within float32's error for such a sum.",
          "out = m.nanmean(m.tensor([1e30, 1e30, 1e30, 0.0, 0.0, 0.0, -1e30, -1e30, -1e30]))",
          when=_float32_huge_both_signs, area="H5"),
    Known("float32-huge-window-cancellation", ("addcmul",), ("value", "grad"),
          "A float32 broadcast gradient sum (addcmul's) over values near +1e30 and -1e30 with small ones beside "
          "them: 1 + 1e30 - 1e30 is 0 or 1 depending on which two are added first, and PyTorch's kernel adds in "
          "another order than ember's (NumPy's pairwise reduction), so a gradient of 0 vs 1, or 1e-7 relative "
          "apart.  Both are within float32's error for such a sum.  (Average pooling had the same difference "
          "until its windows were summed in PyTorch's order.)",
          "a = m.tensor([1.0], requires_grad=True)\n"
          "m.addcmul(m.zeros(5), m.tensor([1e30, 0.0, -1e30, 0.0, 1.0]), a).sum().backward()\n"
          "out = a.grad",
          when=_float32_huge_both_signs, area="H4"),
    Known("float32-huge-fma-residue", ("F.conv_transpose1d", "F.conv_transpose2d", "F.conv_transpose3d"), ("value",),
          "conv_transpose of float32 values near +1e30 and -1e30 whose products cancel exactly (1e30 * 1.5 - "
          "1e30 * 1.5): ember rounds each product and adds them, giving the exact 0; PyTorch's GEMM fuses the "
          "multiply and add (FMA), so one product is rounded and the other is not, leaving that rounding's "
          "residue (-7.6e22, 5e-8 of the terms).  Both are within float32's error for such a sum.",
          "out = m.nn.functional.conv_transpose2d(m.tensor([[[[1e30, -1e30]], [[-1e30, -1e30]]]]), "
          "m.full((2, 1, 1, 2), 1.5), groups=2)",
          when=_float32_huge_both_signs, area="H4"),
    Known("linalg-float32-subnormal-input-grad", ("linalg.qr*",), ("grad",),
          "QR's gradient of a float32 matrix with subnormal entries (2.8e-44): PyTorch's LAPACK path treats the "
          "subnormals (and the products they make) as 0, ember's keeps them, so the R factor's tiny entries and "
          "the signs the backward divides by differ (-0.04 vs -0.0).",
          case="Case([Arr(np.array([[2.8e-44, 0.0e+00, 2.8e-44], [2.8e-44, 2.8e-44, 2.8e-44], [2.8e-44, 2.8e-44, "
          "2.8e-44]], dtype='float32'), grad=True)], {})", spec="linalg.qr_R_abs",
          when=_float32_subnormal, area="H5"),
    Known("tiny-norm-grad-cancellation", ("F.cosine_similarity", "corrcoef"), ("grad",),
          "cosine_similarity / corrcoef gradients of an input whose row has a tiny nonzero norm (float32 1e-7, "
          "float64 1e-38): each gradient element is a difference of terms of size 1/norm (1e7; 1e38) that "
          "cancel exactly in exact arithmetic; what is left is rounding noise of an ulp of those terms (0.25 vs "
          "0.5, -1.1 vs 0 in float32; 7e22 vs 0 in float64), which depends on the order of operations.",
          case="Case([Arr(np.array([0.5, 0. ], dtype='float32')), Arr(np.array([1.e-07, 0.e+00], dtype='float32'), "
          "layout='strided', grad=True)], {})", spec="F.cosine_similarity",
          when=_float_tiny_row, area="H4"),
]


def explain(spec_name, case, mm):
    for k in KNOWN:
        if k.covers(spec_name, case, mm):
            return k
    return None


class _Spec:
    """A stand-in spec for reproducers: no layout check unless the entry is about layout."""
    def __init__(self, layout):
        self.tol, self.grad_tol, self.scale_atol = 1.0, 1.0, 0.0
        self.check_layout = layout


def run_repro(known: Known):
    """Run the reproducer in both libraries; return the list of mismatches (empty: no longer differs).

    A ``case`` reproducer reruns that fuzz case of ``ops[0]`` and keeps the mismatches of the entry's aspects;
    a code reproducer compares whatever ``out`` holds (and raise / no raise)."""
    from .oracle import Case, Mismatch, _compare_outputs, _ember_error_ok, _exc, parse_case, run_case
    if known.case is not None:
        from .specs import SPECS
        spec = {s.name: s for s in SPECS}[known.spec or known.ops[0]]
        return [mm for mm in run_case(spec, parse_case(known.case)) if mm.aspect in known.aspects]
    res = {}
    for m in (torch, ember):
        env = {"m": m, "np": np, "nan": float("nan"), "inf": float("inf")}
        try:
            exec(known.repro, env)  # noqa: S102 - our own reproducer snippets
            res[m.__name__] = (env.get("out"), None)
        except Exception as e:  # noqa: BLE001
            res[m.__name__] = (None, e)
    (t_out, t_err), (e_out, e_err) = res["torch"], res["ember"]
    if t_err is not None or e_err is not None:
        if t_err is not None and e_err is not None:
            m = _ember_error_ok(e_err)
            return [m] if m else []
        return [Mismatch("raise", f"torch: {_exc(t_err) if t_err else 'ran'}; ember: {_exc(e_err) if e_err else 'ran'}")]
    mism = []
    layout = any(a in ("stride", "contiguous") for a in known.aspects)
    _compare_outputs(e_out, t_out, mism, _Spec(layout), Case([]))
    return mism


def markdown() -> str:
    lines = ["# Differences from PyTorch", "",
             "ember follows PyTorch 2.13's semantics; these are the differences the differential fuzzer",
             "(`tests/fuzz/`, `make fuzz`) knows about and tolerates.  The list is generated from",
             "`tests/fuzz/known_differences.py` (`.venv/bin/python -m tests.fuzz.known_differences > docs/differences.md`);",
             "each entry has a reproducer that the test suite checks still differs.", "",
             "The fuzzer draws shapes (0-d, empty, broadcast), dtypes (bool, uint8, int8-int64, float16/32/64),",
             "values (NaN, +-inf, -0.0, huge, subnormal, integer extremes), input layouts (permuted, strided,",
             "expanded), view chains and in-place writes, and compares per op: raise / no raise (and that ember's",
             "errors are its own), shapes, dtypes, values (NaN-aware; float16 tolerances when a float16 is involved),",
             "strides of dims larger than 1 and `is_contiguous()`, `requires_grad`, gradients after one backward, and",
             "view-vs-copy aliasing (writing the outputs in place, then comparing the inputs).  Aspects below:",
             "`raise`, `grad-raise`, `missing`, `error-type`, `shape`, `dtype`, `value`, `grad`, `stride`,",
             "`contiguous`, `requires_grad`, `alias`.  Areas name the session that owns the fix.", "",
             "Run it: `make test` (bounded, derandomized), `make fuzz` (long, random),",
             "`HYPOTHESIS_PROFILE=dev .venv/bin/python -m pytest tests/fuzz -n 0 -k <op>`,",
             "`.venv/bin/python -m tests.fuzz.survey -n 50 --random [op-glob ...]` (lists every difference).", ""]
    if not KNOWN:
        lines += ["None known: the fuzzer finds no difference.", ""]
    for k in KNOWN:
        lines += [f"## `{k.id}`" + (f" ({k.area})" if k.area else ""), "",
                  f"- ops: {', '.join('`' + o + '`' for o in k.ops)}; aspects: {', '.join(k.aspects)}",
                  f"- {k.reason}", ""]
        if k.repro:
            lines += ["```python", k.repro.strip(), "```", ""]
        if k.case:
            lines += [f"Fuzz case of `{k.spec or k.ops[0]}` (`tests/fuzz/specs.py`; rerun with "
                      f"`python -m tests.fuzz.survey --case {k.id}`):", "", "```python", k.case, "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
