"""Hypothesis strategies for the fuzzer: dtypes, shapes (0-d, empty, broadcastable, sometimes not), values with
NaN/inf/-0.0/huge/tiny, input layouts (contiguous, permuted, strided, expanded) and requires_grad."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .oracle import Arr, Case

INTS = ("uint8", "int8", "int16", "int32", "int64")
FLOATS = ("float32", "float64")
ALL = ("bool",) + INTS + ("float16",) + FLOATS
NUM = INTS + ("float16",) + FLOATS          # no bool
REAL = FLOATS + ("float16",)

_HUGE = {"float16": 6.0e4, "float32": 1.0e30, "float64": 1.0e300}
_TINY = {"float16": 6.0e-8, "float32": 1.0e-40, "float64": 1.0e-310}


def dtypes(choices=ALL):
    # float32/float64 drawn most often: they are what models use
    weighted = [d for d in choices for _ in range(3 if d in FLOATS else 1)]
    return st.sampled_from(weighted)


def _float_elements(dtype, values):
    width = {"float16": 16, "float32": 32, "float64": 64}[dtype]
    lo, hi = (0.125, 4.0) if values == "positive" else (-4.0, 4.0)
    plain = st.floats(lo, hi, width=width)
    small = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.0, 3.0, -3.0] if values != "positive"
                            else [0.5, 1.0, 2.0, 3.0])
    if values in ("finite", "positive", "plain"):
        if values == "plain":
            return plain
        return st.one_of(plain, small)
    specials = st.sampled_from([float("nan"), float("inf"), -float("inf"), _HUGE[dtype], -_HUGE[dtype],
                                _TINY[dtype], -_TINY[dtype]])
    return st.one_of(plain, plain, small, specials)


def _int_elements(dtype, values):
    info = np.iinfo(dtype)
    lo = 0 if values == "positive" else max(info.min, -5)
    if values == "positive":
        lo = 1
    small = st.integers(lo, min(info.max, 5))
    if values in ("finite", "positive", "plain"):
        return small
    # int32/int64 minimum // -1 traps (SIGFPE) inside PyTorch's CPU kernels and kills the process: use min + 1
    lowest = int(info.min) + (1 if dtype in ("int32", "int64") else 0)
    return st.one_of(small, small, small, st.sampled_from([lowest, int(info.max), 0]))


def elements(dtype, values="any"):
    if dtype == "bool":
        return st.booleans()
    if dtype in INTS:
        return _int_elements(dtype, values)
    return _float_elements(dtype, values)


@st.composite
def shapes(draw, min_dims=0, max_dims=4, max_side=4, allow_empty=True):
    nd = draw(st.integers(min_dims, max_dims))
    sides = st.integers(1, max_side)
    if allow_empty:
        sides = st.one_of(sides, sides, sides, sides, sides, sides, sides, sides, sides, st.just(0))
    return tuple(draw(sides) for _ in range(nd))


@st.composite
def arrays(draw, dtype, shape, values="any"):
    """The data of one tensor.  A third of the draws use only plain values even when specials are allowed."""
    if values == "any" and draw(st.integers(0, 2)) == 0:
        values = "finite"
    return draw(hnp.arrays(np.dtype(dtype), shape, elements=elements(dtype, values)))


@st.composite
def tensor(draw, dtype, shape, values="any", grad=None, layouts=True):
    data = draw(arrays(dtype, shape, values))
    can_grad = dtype in REAL
    g = draw(st.booleans()) if grad is None else grad
    layout = "contig"
    expand_to = None
    if layouts:
        options = ["contig", "contig", "contig"]
        if len(shape) >= 2:
            options.append("permuted")
        if len(shape) >= 1:
            options.append("strided")
        if any(n != 1 for n in shape):
            options.append("expanded")
        layout = draw(st.sampled_from(options))
        if layout == "expanded":
            # keep each dim or squash it to 1 (then broadcast back)
            small = tuple(1 if (n != 1 and draw(st.booleans())) else n for n in shape)
            if small == tuple(shape):
                layout = "contig"
            else:
                data = data[tuple(slice(0, 1) if s == 1 and n != 1 else slice(None)
                                  for s, n in zip(small, shape))]
                data = np.ascontiguousarray(data)
                expand_to = tuple(shape)
    return Arr(data, grad=bool(g and can_grad and dtype in FLOATS), layout=layout, expand_to=expand_to)


@st.composite
def broadcast_shapes(draw, n=2, min_dims=0, max_dims=4, bad=True):
    """``n`` shapes that broadcast together; with a small chance (``bad``) ones that do not."""
    if bad and draw(st.integers(0, 14)) == 0:
        return tuple(draw(shapes(min_dims, max_dims)) for _ in range(n))
    res = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims, max_dims=max_dims,
                                                 min_side=0 if draw(st.integers(0, 9)) == 0 else 1,
                                                 max_side=4))
    return res.input_shapes


@st.composite
def scalar(draw, kind=None):
    kind = kind or draw(st.sampled_from(["int", "float", "bool", "float_special"]))
    if kind == "int":
        return draw(st.integers(-4, 4))
    if kind == "bool":
        return draw(st.booleans())
    if kind == "float_special":
        return draw(st.sampled_from([float("nan"), float("inf"), -float("inf"), -0.0, 1e30, 1e-30]))
    return draw(st.sampled_from([0.5, -1.5, 2.0, 0.0, 3.25, -0.25]))


# ------------------------------------------------------------------------------------------ case builders
@st.composite
def unary_case(draw, dtypes_=ALL, values="any", min_dims=0, max_dims=4):
    dt = draw(dtypes(dtypes_))
    shp = draw(shapes(min_dims, max_dims))
    return Case([draw(tensor(dt, shp, values))])


@st.composite
def binary_case(draw, dtypes_=ALL, values="any", scalars=True, same_dtype=False):
    sa, sb = draw(broadcast_shapes(2))
    da = draw(dtypes(dtypes_))
    db = da if same_dtype or draw(st.booleans()) else draw(dtypes(dtypes_))
    a = draw(tensor(da, sa, values))
    b = draw(tensor(db, sb, values))
    if scalars:
        mode = draw(st.integers(0, 5))
        if mode == 0:
            b = draw(scalar())
        elif mode == 1 and scalars == "both":
            a = draw(scalar())
    return Case([a, b])


@st.composite
def ternary_case(draw, dtypes_=FLOATS, values="any"):
    sa, sb, sc = draw(broadcast_shapes(3))
    dt = draw(dtypes(dtypes_))
    return Case([draw(tensor(dt, sa, values)), draw(tensor(dt, sb, values)), draw(tensor(dt, sc, values))])


@st.composite
def dim_arg(draw, ndim, allow_none=True, allow_tuple=True, bad=True):
    """A dim argument for an ``ndim``-d tensor: None, an int (negative too) or a tuple of distinct ints; rarely
    out of range."""
    n = max(ndim, 1)
    lo, hi = (-n - 1, n) if bad and draw(st.integers(0, 9)) == 0 else (-n, n - 1)
    choices = ["int"]
    if allow_none:
        choices.append("none")
    if allow_tuple and ndim >= 1:
        choices.append("tuple")
    kind = draw(st.sampled_from(choices))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(lo, hi))
    k = draw(st.integers(1, max(1, ndim)))
    dims = draw(st.permutations(range(ndim)))[:k]
    return tuple(d - ndim if draw(st.booleans()) else d for d in dims)


@st.composite
def reduction_case(draw, dtypes_=ALL, values="any", allow_none=True, allow_tuple=True, keepdim=True,
                   min_dims=0, max_dims=4):
    dt = draw(dtypes(dtypes_))
    shp = draw(shapes(min_dims, max_dims))
    x = draw(tensor(dt, shp, values))
    kw = {}
    d = draw(dim_arg(len(shp), allow_none, allow_tuple))
    if d is not None:
        kw["dim"] = d
        if keepdim and draw(st.booleans()):
            kw["keepdim"] = True
    return Case([x], kw)
