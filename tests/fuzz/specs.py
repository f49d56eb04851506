"""The op table: one ``Spec`` per op (or op form), each an ember/torch function ``fn(m, *args, **kwargs)`` and a
strategy of cases.  Families: unary, binary, reduce, sort, view, index, inplace, autograd, conv, pool, norm,
loss, linalg, creation, rnn, activation.  Adding an op is adding a line here."""
from __future__ import annotations

import operator

import numpy as np
from hypothesis import strategies as st

from .oracle import Arr, Case, Spec
from .strategies import (ALL, FLOATS, INTS, NUM, REAL, binary_case, broadcast_shapes, dim_arg, dtypes,
                         reduction_case, scalar, shapes, tensor, ternary_case, unary_case)
from . import cases_more, cases_nn, cases_views

SPECS: list[Spec] = []


def add(name, family, fn, cases, **kw):
    SPECS.append(Spec(name, family, fn, cases, **kw))


def _F(m):
    return m.nn.functional


def _distinct(m, x):
    """Make every element distinct (keeping the order of distinct values) so indices are well defined."""
    n = max(x.numel(), 1)
    k = m.arange(x.numel()).reshape(x.shape)
    if x.is_floating_point():
        return x * (4 * n) + k.to(x.dtype) * 0.5
    return x.to(m.int64) * n + k


# ------------------------------------------------------------------------------------------------ unary math
_UNARY = {
    # name: (allowed dtypes, values)
    "abs": (ALL, "any"), "neg": (NUM, "any"), "exp": (ALL, "any"), "exp2": (ALL, "any"),
    "expm1": (ALL, "any"), "log": (ALL, "any"), "log2": (ALL, "any"), "log10": (ALL, "any"),
    "log1p": (ALL, "any"), "sqrt": (ALL, "any"), "rsqrt": (ALL, "any"), "sin": (ALL, "any"),
    "cos": (ALL, "any"), "tan": (ALL, "any"), "asin": (ALL, "any"), "acos": (ALL, "any"), "atan": (ALL, "any"),
    "sinh": (ALL, "any"), "cosh": (ALL, "any"), "tanh": (ALL, "any"), "sigmoid": (ALL, "any"),
    "relu": (NUM, "any"), "erf": (ALL, "any"), "floor": (NUM, "any"), "ceil": (NUM, "any"),
    "trunc": (NUM, "any"), "round": (NUM, "any"), "frac": (REAL, "any"), "sign": (ALL, "any"),
    "sgn": (ALL, "any"), "square": (ALL, "any"), "reciprocal": (ALL, "any"), "isnan": (ALL, "any"),
    "isinf": (ALL, "any"), "isfinite": (ALL, "any"), "logical_not": (ALL, "any"), "bitwise_not": (ALL, "any"),
    "nan_to_num": (ALL, "any"), "fix": (NUM, "any"), "positive": (NUM, "any"), "signbit": (NUM, "any"),
    "erfc": (ALL, "any"), "erfinv": (REAL, "any"), "deg2rad": (REAL, "any"), "rad2deg": (REAL, "any"),
    "lgamma": (REAL, "finite"), "digamma": (REAL, "positive"), "sinc": (REAL, "any"), "logit": (REAL, "any"),
    "asinh": (ALL, "any"), "acosh": (REAL, "any"), "atanh": (REAL, "any"), "i0": (REAL, "finite"),
    "angle": (REAL, "any"), "isneginf": (NUM, "any"), "isposinf": (NUM, "any"), "isreal": (ALL, "any"),
}
for _n, (_dts, _vals) in _UNARY.items():
    add(_n, "unary", (lambda n: lambda m, x: getattr(m, n)(x))(_n), unary_case(_dts, _vals))

_NO_INPLACE = ("isnan", "isinf", "isfinite", "isneginf", "isposinf", "isreal", "signbit", "angle", "positive")
add("Tensor.unary_", "inplace", lambda m, x, n: getattr(x.clone(), n + "_")(),
    st.sampled_from([n for n in _UNARY if n not in _NO_INPLACE]).flatmap(
        lambda n: unary_case(*_UNARY[n]).map(lambda c: Case(c.args + [n]))))

add("round_decimals", "unary", lambda m, x, d: m.round(x, decimals=d),
    st.tuples(unary_case(REAL, "finite"), st.integers(-2, 3)).map(lambda t: Case(t[0].args + [t[1]])))
add("nan_to_num_args", "unary", lambda m, x, a, b, c: m.nan_to_num(x, nan=a, posinf=b, neginf=c),
    st.tuples(unary_case(REAL), scalar("float"), st.none() | scalar("float"), st.none() | scalar("float"))
    .map(lambda t: Case(t[0].args + list(t[1:]))))
add("clamp_scalars", "unary", lambda m, x, lo, hi: m.clamp(x, lo, hi),
    st.tuples(unary_case(ALL), st.none() | scalar(), st.none() | scalar())
    .map(lambda t: Case(t[0].args + list(t[1:]))))
add("clamp_tensors", "binary", lambda m, x, lo, hi: m.clamp(x, lo, hi), ternary_case(FLOATS))
add("clamp_min_tensor", "binary", lambda m, x, lo: m.clamp(x, min=lo), binary_case(NUM, scalars=False))
add("clamp_max_tensor", "binary", lambda m, x, hi: m.clamp(x, max=hi), binary_case(NUM, scalars=False))

# ------------------------------------------------------------------------------------------------ binary math
_BINARY = ["add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "pow", "float_power",
           "atan2", "hypot", "maximum", "minimum", "fmax", "fmin", "eq", "ne", "lt", "le", "gt", "ge",
           "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "copysign",
           "xlogy", "logaddexp", "nextafter", "heaviside", "ldexp", "isclose", "bitwise_left_shift",
           "bitwise_right_shift", "gcd", "lcm"]
for _n in _BINARY:
    # lcm/gcd of the int extremes crash PyTorch itself (SIGFPE in libtorch): plain values only
    add(_n, "binary", (lambda n: lambda m, a, b: getattr(m, n)(a, b))(_n),
        binary_case(ALL, "finite" if _n in ("lcm", "gcd") else "any", scalars="right"))
for _mode in ("floor", "trunc"):
    add(f"div_{_mode}", "binary", (lambda md: lambda m, a, b: m.div(a, b, rounding_mode=md))(_mode),
        binary_case(ALL, scalars="right"))
add("add_alpha", "binary", lambda m, a, b, al: m.add(a, b, alpha=al),
    st.tuples(binary_case(NUM, scalars=False), st.sampled_from([2, -1, 0.5]))
    .map(lambda t: Case(t[0].args + [t[1]])))
_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
        "%": operator.mod, "**": operator.pow, "&": operator.and_, "|": operator.or_, "^": operator.xor,
        "==": operator.eq, "<": operator.lt, ">=": operator.ge, "@": operator.matmul}
for _s, _f in _OPS.items():
    if _s == "@":
        continue
    add(f"operator{_s}", "binary", (lambda f: lambda m, a, b: f(a, b))(_f), binary_case(ALL, scalars="both"))
    add(f"inplace_operator{_s}=", "inplace", (lambda f: lambda m, a, b: _iop(f, a.clone(), b))(_f),
        binary_case(ALL, scalars="right")) if _s not in ("==", "<", ">=") else None


def _iop(f, a, b):
    """``a op= b`` as Python runs it: the in-place dunder when the class has one, else ``a = a op b``."""
    ops = {operator.add: operator.iadd, operator.sub: operator.isub, operator.mul: operator.imul,
           operator.truediv: operator.itruediv, operator.floordiv: operator.ifloordiv, operator.mod: operator.imod,
           operator.pow: operator.ipow, operator.and_: operator.iand, operator.or_: operator.ior,
           operator.xor: operator.ixor}
    return ops[f](a, b)


add("lerp", "binary", lambda m, a, b, w: m.lerp(a, b, w), ternary_case(FLOATS))
add("lerp_scalar", "binary", lambda m, a, b: m.lerp(a, b, 0.3), binary_case(FLOATS, scalars=False))
add("addcmul", "binary", lambda m, a, b, c: m.addcmul(a, b, c, value=2), ternary_case(NUM))
add("addcdiv", "binary", lambda m, a, b, c: m.addcdiv(a, b, c, value=0.5), ternary_case(FLOATS))
add("where", "binary", lambda m, c, a, b: m.where(c > 0, a, b), ternary_case(NUM))
add("where_scalar", "binary", lambda m, c, a: m.where(c > 0, a, 1.5), binary_case(NUM, scalars=False))
add("masked_fill", "index", lambda m, a, c: a.masked_fill(c > 0, 2.5), binary_case(NUM, scalars=False))
add("masked_fill_tensor_value", "index", lambda m, a, c: a.masked_fill(c > 0, c.sum() * 0 + 1.5),
    binary_case(FLOATS, scalars=False))

# ------------------------------------------------------------------------------------------------ reductions
for _n, _dts in {"sum": ALL, "mean": REAL, "prod": ALL, "amax": ALL, "amin": ALL, "nansum": ALL,
                 "nanmean": REAL, "all": ALL, "any": ALL, "count_nonzero": ALL}.items():
    add(_n, "reduce", (lambda n: lambda m, x, **kw: getattr(m, n)(x, **kw))(_n),
        reduction_case(_dts, keepdim=_n != "count_nonzero"), scale_atol=1e-4 if _n in ("sum", "mean", "nansum",
                                                                                      "nanmean") else 0.0)
for _n in ("logsumexp", "cumsum", "cumprod", "logcumsumexp", "cummax", "cummin", "softmax", "log_softmax"):
    add(_n, "reduce", (lambda n: lambda m, x, **kw: getattr(m, n)(x, **kw))(_n),
        reduction_case(ALL if _n not in ("softmax", "log_softmax") else REAL, allow_none=False,
                       allow_tuple=_n == "logsumexp", keepdim=_n == "logsumexp"),
        scale_atol=1e-4)
for _n in ("max", "min", "argmax", "argmin", "median", "nanmedian", "mode", "kthvalue_1"):
    if _n == "kthvalue_1":
        add(_n, "reduce", lambda m, x, **kw: m.kthvalue(x, 1, **kw),
            reduction_case(NUM, allow_none=False, allow_tuple=False))
        continue
    add(_n, "reduce", (lambda n: lambda m, x, **kw: getattr(m, n)(x, **kw))(_n),
        reduction_case(ALL if _n not in ("median", "nanmedian", "mode") else NUM, allow_tuple=False))
for _n in ("std", "var", "std_mean", "var_mean"):
    add(_n, "reduce", (lambda n: lambda m, x, c, **kw: getattr(m, n)(x, correction=c, **kw))(_n),
        st.tuples(reduction_case(REAL), st.sampled_from([0, 1, 2]))
        .map(lambda t: Case(t[0].args + [t[1]], t[0].kwargs)), scale_atol=1e-4)
    add(f"{_n}_unbiased", "reduce", (lambda n: lambda m, x, u, **kw: getattr(m, n)(x, unbiased=u, **kw)
                                     if "dim" in kw else getattr(m, n)(x, unbiased=u))(_n),
        st.tuples(reduction_case(REAL), st.booleans())
        .map(lambda t: Case(t[0].args + [t[1]], t[0].kwargs)), scale_atol=1e-4)
add("sum_dtype", "reduce", lambda m, x, dt, **kw: m.sum(x, dtype=getattr(m, dt), **kw),
    st.tuples(reduction_case(ALL), st.sampled_from(["float64", "int64", "float32"]))
    .map(lambda t: Case(t[0].args + [t[1]], t[0].kwargs)), scale_atol=1e-4)
add("aminmax", "reduce", lambda m, x, **kw: m.aminmax(x, **kw),
    reduction_case(NUM, allow_tuple=False))
add("norm_p", "reduce", lambda m, x, p, **kw: m.norm(x, p=p, **kw),
    st.tuples(reduction_case(REAL), st.sampled_from([1, 2, 3, float("inf"), -float("inf"), 0, "fro"]))
    .map(lambda t: Case(t[0].args + [t[1]], t[0].kwargs)), scale_atol=1e-4)
add("Tensor.max_full", "reduce", lambda m, x: x.max(), unary_case(ALL))
add("Tensor.sum_method", "reduce", lambda m, x, **kw: x.sum(**kw), reduction_case(ALL), scale_atol=1e-4)

# ------------------------------------------------------------------------------------------------ sorting
for _n in ("sort", "argsort"):
    add(_n, "sort", (lambda n: lambda m, x, desc, stable, **kw: getattr(m, n)(x, descending=desc, stable=stable,
                                                                           **kw))(_n),
        st.tuples(reduction_case(NUM, allow_none=False, allow_tuple=False, keepdim=False), st.booleans(),
                  st.booleans()).map(lambda t: Case(t[0].args + [t[1], t[2]], t[0].kwargs)))
add("sort_stable_values", "sort", lambda m, x, desc: m.sort(x, descending=desc, stable=True),
    st.tuples(unary_case(NUM, min_dims=1), st.booleans()).map(lambda t: Case(t[0].args + [t[1]])))
add("topk", "sort", lambda m, x, k, largest, **kw: m.topk(_distinct(m, x), k, largest=largest, sorted=True, **kw),
    st.tuples(reduction_case(NUM, "finite", allow_none=False, allow_tuple=False, keepdim=False, min_dims=1),
              st.integers(0, 3), st.booleans()).map(lambda t: Case(t[0].args + [t[1], t[2]], t[0].kwargs)))
# with ties and NaN the order of equal values' indices is unspecified: compare the values only
add("topk_values", "sort", lambda m, x, k, largest, **kw: m.topk(x, k, largest=largest, sorted=True, **kw)[0],
    st.tuples(reduction_case(NUM, allow_none=False, allow_tuple=False, keepdim=False, min_dims=1),
              st.integers(0, 3), st.booleans()).map(lambda t: Case(t[0].args + [t[1], t[2]], t[0].kwargs)),
    grad=False)
add("msort", "sort", lambda m, x: m.msort(x), unary_case(NUM, min_dims=1))
add("unique", "sort", lambda m, x, inv, cnt: m.unique(x, sorted=True, return_inverse=inv, return_counts=cnt),
    st.tuples(unary_case(NUM, "finite"), st.booleans(), st.booleans()).map(lambda t: Case(t[0].args + [t[1], t[2]])),
    grad=False)
add("unique_dim", "sort", lambda m, x, d: m.unique(x, dim=d, return_inverse=True, return_counts=True),
    st.tuples(unary_case(INTS, "finite", min_dims=1), st.integers(-1, 0))
    .map(lambda t: Case(t[0].args + [t[1]])), grad=False)
add("unique_consecutive", "sort", lambda m, x, inv, cnt: m.unique_consecutive(x, return_inverse=inv,
                                                                             return_counts=cnt),
    st.tuples(unary_case(NUM, "finite"), st.booleans(), st.booleans()).map(lambda t: Case(t[0].args + [t[1], t[2]])),
    grad=False)
add("searchsorted", "sort", lambda m, s, v, right: m.searchsorted(m.sort(s, dim=-1)[0], v, right=right),
    st.tuples(unary_case(("float32", "float64", "int64"), "finite", min_dims=1, max_dims=1),
              unary_case(("float32", "float64", "int64"), "finite"), st.booleans())
    .map(lambda t: Case(t[0].args + t[1].args + [t[2]])), grad=False)
add("bucketize", "sort", lambda m, v, b, right: m.bucketize(v, m.sort(b)[0], right=right),
    st.tuples(unary_case(("float32", "float64", "int64"), "finite"),
              unary_case(("float32", "float64", "int64"), "finite", min_dims=1, max_dims=1), st.booleans())
    .map(lambda t: Case(t[0].args + t[1].args + [t[2]])), grad=False)
add("histc", "sort", lambda m, x, b: m.histc(x, bins=b, min=-2, max=2),
    st.tuples(unary_case(FLOATS, "finite"), st.integers(1, 5)).map(lambda t: Case(t[0].args + [t[1]])),
    grad=False)
add("bincount", "sort", lambda m, x: m.bincount(x.flatten().abs()),
    unary_case(("int64", "int32", "uint8"), "finite", max_dims=1), grad=False)
add("diff", "reduce", lambda m, x, n, **kw: m.diff(x, n=n, **kw),
    st.tuples(reduction_case(NUM, allow_none=False, allow_tuple=False, keepdim=False, min_dims=1),
              st.integers(1, 2)).map(lambda t: Case(t[0].args + [t[1]], t[0].kwargs)))

cases_views.register(add)
cases_nn.register(add)
cases_more.register(add)
