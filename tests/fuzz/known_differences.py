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
    case: str | None = None          # a fuzz case (repr) of ops[0] that shows the difference: the reproducer

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


KNOWN: list[Known] = [
    # ------------------------------------------------------------------ raise / no-raise, error types
    Known("scalar-where-torch-wants-tensor", ("*",), ("raise",),
          "ember's functional binary ops accept a Python number as the second argument where PyTorch's signature "
          "requires a Tensor (atan2, maximum, minimum, fmax, fmin, logical_and/or/xor): ember returns, torch raises "
          "TypeError.", "out = m.maximum(m.tensor([1.0, 2.0]), 1)",
          detail=r"must be Tensor, not", area="H5"),
    Known("int-alpha-float", ("add_alpha",), ("raise",),
          "add(int, int, alpha=float) raises in PyTorch; ember casts.",
          "out = m.add(m.tensor([1, 2]), m.tensor([1, 1]), alpha=0.5)", detail=r"alpha must not be a floating",
          area="H5"),
    Known("inplace-result-cast", ("inplace_operator*", "Tensor.unary_"), ("raise",),
          "An in-place op whose result type cannot be cast to the tensor's dtype (bool ^= int, int /= int) or whose "
          "broadcast shape is larger than the tensor raises in PyTorch; ember writes anyway.",
          "x = m.tensor([True, False]); x ^= m.tensor([1, 2]); out = x",
          detail=r"can't be cast to the desired output type|doesn't match the broadcast shape", area="H5"),
    Known("isclose-mixed-dtypes", ("isclose",), ("raise",),
          "isclose of two tensors of different dtypes raises in PyTorch; ember promotes.",
          "out = m.isclose(m.tensor([1.0], dtype=m.float16), m.tensor([1], dtype=m.int8))", detail=r"did not match",
          area="H5"),
    Known("fill-value-overflow", ("F.threshold", "full", "full_like", "masked_fill*"), ("raise",),
          "A fill/replacement value that does not fit the integer dtype (e.g. -1 into uint8) raises in PyTorch; "
          "ember wraps it.", "out = m.full((2,), -1, dtype=m.uint8)", detail=r"without overflow", area="H5"),
    Known("floor-divide-no-derivative", ("floor_divide", "operator//", "inplace_operator//=", "operator%",
                                         "remainder", "inplace_operator%="), ("grad-raise",),
          "PyTorch has no derivative for floor_divide (nor remainder w.r.t. its divisor): backward raises; ember "
          "returns a gradient.",
          "x = m.tensor([1.5, 2.5], requires_grad=True); m.floor_divide(x, 2.0).sum().backward(); out = x.grad",
          area="H5"),
    Known("uint8-mask-setitem", ("setitem",), ("raise",),
          "Assigning through a uint8 mask index raises in PyTorch 2.13 (masked_fill_ needs bool); ember writes.",
          "x = m.zeros(2); x[m.tensor([1, 0], dtype=m.uint8)] = 1.0; out = x",
          detail=r"only supports boolean masks", area="H3"),
    Known("masked-fill-broadcast-mask", ("masked_fill", "masked_fill_tensor_value"), ("raise",),
          "masked_fill with a mask of more dims than the input (broadcasting the result up) works in PyTorch "
          "when the mask broadcasts; ember requires the mask to broadcast to the input's shape.",
          "out = m.tensor(1.0).masked_fill(m.tensor([[True]]), 0.0)", detail=r"not broadcastable", area="H3"),
    Known("loss-target-broadcast", ("F.*loss*", "F.binary_cross_entropy*"), ("raise",),
          "Losses given a target of another shape: PyTorch broadcasts (with a warning) or raises for 0-d input; "
          "ember raises when the shapes differ and accepts a 0-d multilabel input.",
          "out = m.nn.functional.soft_margin_loss(m.tensor([1.0, 2.0]), m.tensor(1.0))",
          detail=r"must match input shape|has no dimensions|must have the same shape", area="H4"),
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
    Known("zero-d-numpy-scalar-results", ("eq", "ne", "lt", "le", "gt", "ge", "operator*", "inplace_operator*",
                                          "isnan", "isinf", "isfinite", "logical_*", "bitwise_*", "argmax",
                                          "argmin", "searchsorted", "bucketize"), ("alias",),
          "Some 0-d results (comparisons, logical/bitwise ops, argmax) hold a NumPy scalar instead of an array: "
          "writing them in place (fill_, add_) raises TypeError in ember.",
          "out = m.eq(m.tensor(False), 0); out.fill_(True)", detail=r"TypeError", area="H3"),
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
    Known("integer-conv", ("F.conv1d", "F.conv2d", "F.conv_transpose*", "conv_stack_view"), ("raise",),
          "Convolution of integer tensors works in PyTorch (CPU); ember raises 'expected a floating point input'.",
          "out = m.nn.functional.conv1d(m.ones(1, 1, 3, dtype=m.int64), m.ones(1, 1, 2, dtype=m.int64))",
          detail=r"floating point input", area="H4"),
    Known("lstm-proj-size", ("nn.LSTM",), ("raise",), "nn.LSTM(proj_size>0) is not supported by ember.",
          "out = m.nn.LSTM(2, 3, proj_size=1)(m.ones(1, 1, 2))[0]", detail=r"proj_size", area="H4"),
    Known("lerp-mixed-dtypes", ("lerp*",), ("raise",),
          "lerp with start and end of different float dtypes raises in PyTorch; ember promotes.",
          "out = m.lerp(m.ones(2), m.ones(2, dtype=m.float64), 0.3)", detail=r"expected dtype", area="H5"),
    Known("sum-int-dtype-requires-grad", ("sum_dtype",), ("raise",),
          "sum(x, dtype=int64) of a tensor that requires grad raises in PyTorch ('Autograd not support dtype'); "
          "ember returns an integer result.",
          "out = m.sum(m.ones(2, requires_grad=True), dtype=m.int64)", detail=r"Autograd not support", area="H5"),
    Known("atan2-at-origin", ("atan2",), ("grad",),
          "atan2's gradient at (0, 0): PyTorch returns finite values, ember NaN.",
          "x = m.tensor([0.0], dtype=m.float64, requires_grad=True)\n"
          "m.atan2(m.tensor([0], dtype=m.int16), x).sum().backward(); out = x.grad", area="H5"),
    # ------------------------------------------------------------------ values, dtypes, shapes
    Known("grad-at-nan-or-inf", ("F.celu", "F.elu", "F.hardtanh", "F.prelu", "prod", "atan2", "lerp", "operator**",
                                 "linalg.vector_norm", "linalg.norm", "linalg.matrix_norm", "F.group_norm"),
          ("value", "grad"),
          "Values and gradients at NaN/inf/huge/tiny inputs differ: elu/celu give a NaN gradient at NaN or -inf, "
          "hardtanh passes none at NaN, prelu's weight gradient, prod's gradient with an inf, atan2's gradient "
          "at huge values, lerp towards inf, norm gradients at NaN, group_norm with inf.",
          "x = m.tensor([-float('inf'), -1.68, float('nan')], requires_grad=True)\n"
          "m.nn.functional.celu(x).sum().backward(); out = x.grad", when=lambda case: _special(case), area="H5"),
    Known("kl-div-negative-target", ("F.kl_div",), ("value", "grad"),
          "kl_div with a negative target: PyTorch gives NaN (target * log(target)), ember a finite number.",
          "out = m.nn.functional.kl_div(m.tensor([0.5, 3.0]), m.tensor([-3.0, 2.8]), reduction='mean')", area="H4"),
    Known("nonzero-empty-shape", ("nonzero", "argwhere", "kron"), ("shape",),
          "nonzero/argwhere of an empty or 0-d tensor and kron of empty tensors: result shapes differ "
          "((0, 1) vs (0, 0)).", "out = m.nonzero(m.tensor(0.0))", area="H3"),
    # ------------------------------------------------------------------ memory layout
    Known("layout-norm-pool-pad", ("F.batch_norm", "F.instance_norm", "F.pad", "F.max_pool2d", "F.avg_pool2d",
                                   "F.avg_pool1d", "F.max_pool1d", "F.layer_norm", "F.group_norm"),
          ("stride", "contiguous"),
          "For a non-contiguous (permuted) input, ember's norms/pooling/pad return results in the input's layout; "
          "PyTorch returns contiguous results.",
          "x = m.ones(2, 3, 4).permute(2, 1, 0)\nout = m.nn.functional.pad(x, (1, 1))", area="H4"),
]


_MISSING_UNARY = ("acosh", "angle", "asinh", "atanh", "deg2rad", "rad2deg", "digamma", "erfc", "erfinv", "i0",
                  "isneginf", "isposinf", "isreal", "lgamma", "logit", "positive", "signbit", "sinc")
_MISSING_BINARY = ("bitwise_left_shift", "bitwise_right_shift", "copysign", "gcd", "lcm", "heaviside", "ldexp",
                   "logaddexp", "nextafter", "xlogy")
_MISSING_OTHER = {
    "index_copy": "m.index_copy(m.zeros(3), 0, m.tensor([1]), m.ones(1))",
    "index_fill": "m.index_fill(m.zeros(3), 0, m.tensor([1]), 1.0)",
    "scatter_reduce": "m.scatter_reduce(m.zeros(3), 0, m.tensor([1]), m.ones(1), reduce='amax')",
    "F.rms_norm": "m.nn.functional.rms_norm(m.ones(2, 3), (3,))",
    "F.rrelu": "m.nn.functional.rrelu(m.ones(3), training=False)",
}
for _n in _MISSING_UNARY:
    _MISSING_OTHER[_n] = f"m.{_n}(m.tensor([0.5, 2.0]))"
for _n in _MISSING_BINARY:
    _MISSING_OTHER[_n] = f"m.{_n}(m.tensor([1, 4]), m.tensor([2, 3]))"
for _n, _expr in sorted(_MISSING_OTHER.items()):
    KNOWN.append(Known(f"missing-{_n}", (_n,), ("missing",), f"`{_n}` does not exist in ember yet.",
                       f"out = {_expr}", area="H6"))
_MISSING_INPLACE = ("erfc", "exp2", "erfinv", "lgamma", "digamma", "logit", "sinc", "deg2rad", "rad2deg", "i0",
                    "asinh", "acosh", "atanh", "nan_to_num", "sgn", "logical_not", "bitwise_not", "fix",
                    "square", "floor", "ceil", "trunc", "frac", "reciprocal", "erf", "abs", "log2", "log10",
                    "asin", "acos", "atan", "sinh", "cosh", "relu", "sign", "round", "neg", "sigmoid", "tanh")
KNOWN.append(Known("missing-inplace-unary-methods", ("Tensor.unary_",), ("missing",),
                   "Some in-place unary Tensor methods (erfc_, exp2_, ...) do not exist in ember.",
                   "x = m.tensor([0.5]); out = x.erfc_()", area="H3"))


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
        spec = {s.name: s for s in SPECS}[known.ops[0]]
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
             "each entry has a reproducer that the test suite checks still differs.", ""]
    if not KNOWN:
        lines += ["None known: the fuzzer finds no difference.", ""]
    for k in KNOWN:
        lines += [f"## `{k.id}`" + (f" ({k.area})" if k.area else ""), "",
                  f"- ops: {', '.join('`' + o + '`' for o in k.ops)}; aspects: {', '.join(k.aspects)}",
                  f"- {k.reason}", ""]
        if k.repro:
            lines += ["```python", k.repro.strip(), "```", ""]
        if k.case:
            lines += [f"Fuzz case of `{k.ops[0]}` (`tests/fuzz/specs.py`; rerun with "
                      f"`python -m tests.fuzz.survey --case {k.id}`):", "", "```python", k.case, "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
