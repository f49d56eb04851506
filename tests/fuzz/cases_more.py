"""More op families: matrix-product variants, statistics, set ops, splitting, scatter views, and a few
nn.functional ops (linear, embedding, attention, bilinear, grid sampling, more losses and pooling)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .oracle import Arr, Case
from .strategies import ALL, FLOATS, INTS, NUM, REAL, dtypes, shapes, tensor, unary_case


def F(m):
    return m.nn.functional


def _with(case_st, *extra):
    return st.tuples(case_st, *extra).map(lambda t: Case(t[0].args + list(t[1:]), t[0].kwargs))


@st.composite
def tensors(draw, *shape_fns, dts=FLOATS, values="finite", same_dtype=True):
    """Tensors whose shapes come from ``shape_fns`` applied to a drawn dict of sizes."""
    sz = {k: draw(st.integers(1 if draw(st.integers(0, 9)) else 0, 4)) for k in "bnmpkc"}
    dt = draw(dtypes(dts))
    out = []
    for f in shape_fns:
        out.append(draw(tensor(dt if same_dtype else draw(dtypes(dts)), tuple(f(sz)), values)))
    return Case(out)


@st.composite
def linear_case(draw):
    sz = {k: draw(st.integers(1, 4)) for k in "bio"}
    dt = draw(dtypes(FLOATS))
    lead = draw(shapes(0, 2, max_side=3))
    x = draw(tensor(dt, lead + (sz["i"],), "finite"))
    w = draw(tensor(dt, (sz["o"], sz["i"]) if draw(st.integers(0, 5)) else (sz["i"],), "finite"))
    bshape = draw(st.sampled_from([None, (sz["o"],), (1,), ()]))
    b = None if bshape is None else draw(tensor(dt, bshape, "finite"))
    return Case([x, w, b])


@st.composite
def embedding_case(draw):
    n, d = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    w = draw(tensor(draw(dtypes(FLOATS)), (n, d), "finite"))
    ishape = draw(shapes(0, 2, max_side=3))
    hi = n - 1 if draw(st.integers(0, 14)) else n
    idx = np.array(draw(st.lists(st.integers(0, hi), min_size=int(np.prod(ishape)), max_size=int(np.prod(ishape)))),
                   dtype=np.int64).reshape(ishape)
    pad = draw(st.none() | st.integers(0, n - 1))
    return Case([Arr(idx), w], {"padding_idx": pad})


@st.composite
def sdpa_case(draw):
    b, lq, lk, e = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dt = draw(dtypes(FLOATS))
    q = draw(tensor(dt, (b, lq, e), "finite"))
    k = draw(tensor(dt, (b, lk, e), "finite"))
    v = draw(tensor(dt, (b, lk, draw(st.integers(1, 3))), "finite"))
    causal = draw(st.booleans())
    mask = None
    if not causal and draw(st.booleans()):
        mask = Arr(np.array(draw(st.lists(st.booleans(), min_size=lq * lk, max_size=lq * lk))).reshape(lq, lk))
    return Case([q, k, v, mask], {"is_causal": causal})


@st.composite
def grid_case(draw):
    n, c, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dt = draw(dtypes(FLOATS))
    x = draw(tensor(dt, (n, c, h, w), "finite"))
    grid = Arr(np.clip(draw(tensor(dt, (n, draw(st.integers(1, 3)), draw(st.integers(1, 3)), 2), "finite",
                                   layouts=False)).data / 3, -1.2, 1.2).astype(dt), grad=True)
    return Case([x, grid], {"mode": draw(st.sampled_from(["bilinear", "nearest"])),
                            "padding_mode": draw(st.sampled_from(["zeros", "border", "reflection"])),
                            "align_corners": draw(st.booleans())})


@st.composite
def quantile_case(draw):
    case = draw(unary_case(FLOATS, "finite", min_dims=1, max_dims=2))
    q = draw(st.sampled_from([0.0, 0.25, 0.5, 1.0, 0.9]))
    kw = {"interpolation": draw(st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]))}
    if draw(st.booleans()):
        kw["dim"] = draw(st.integers(-1, 0))
        kw["keepdim"] = draw(st.booleans())
    return Case(case.args + [q], kw)


@st.composite
def scatter_view_case(draw, kind):
    shp = draw(shapes(2, 3, allow_empty=False))
    dt = draw(dtypes(FLOATS))
    x = draw(tensor(dt, shp, "finite"))
    dim = draw(st.integers(0, len(shp) - 1))
    if kind == "select":
        i = draw(st.integers(-shp[dim], shp[dim] - 1))
        src = draw(tensor(dt, shp[:dim] + shp[dim + 1:], "finite"))
        return Case([x, src, dim, i])
    if kind == "slice":
        start = draw(st.integers(0, shp[dim]))
        step = draw(st.integers(1, 2))
        n = len(range(start, shp[dim], step))
        src = draw(tensor(dt, shp[:dim] + (n,) + shp[dim + 1:], "finite"))
        return Case([x, src, dim, start, step])
    off = draw(st.integers(-1, 1))
    n = len(np.diagonal(np.empty(shp[:2]), off))
    src = draw(tensor(dt, shp[2:] + (n,), "finite"))
    return Case([x, src, off])


def register(add):
    add("addmm", "linalg", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2),
        tensors(lambda s: (s["n"], s["p"]) if s["b"] > 1 else (s["p"],), lambda s: (s["n"], s["k"]),
                lambda s: (s["k"], s["p"])), tol=10, scale_atol=1e-3)
    add("addmv", "linalg", lambda m, c, a, b: m.addmv(c, a, b), tensors(lambda s: (s["n"],), lambda s: (s["n"], s["k"]),
                                                                       lambda s: (s["k"],)), tol=10, scale_atol=1e-3)
    add("addr", "linalg", lambda m, c, a, b: m.addr(c, a, b), tensors(lambda s: (s["n"], s["p"]), lambda s: (s["n"],),
                                                                     lambda s: (s["p"],)), tol=10, scale_atol=1e-3)
    add("baddbmm", "linalg", lambda m, c, a, b: m.baddbmm(c, a, b, beta=0.5),
        tensors(lambda s: (s["b"], s["n"], s["p"]), lambda s: (s["b"], s["n"], s["k"]),
                lambda s: (s["b"], s["k"], s["p"])), tol=10, scale_atol=1e-3)
    add("addbmm", "linalg", lambda m, c, a, b: m.addbmm(c, a, b),
        tensors(lambda s: (s["n"], s["p"]), lambda s: (s["b"], s["n"], s["k"]),
                lambda s: (s["b"], s["k"], s["p"])), tol=10, scale_atol=1e-3)
    add("chain_matmul", "linalg", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
        tensors(lambda s: (s["n"], s["k"]), lambda s: (s["k"], s["p"]), lambda s: (s["p"], s["m"])),
        tol=10, scale_atol=1e-3)
    add("cross", "linalg", lambda m, a, b: m.cross(a, b, dim=-1),
        tensors(lambda s: (s["n"], 3), lambda s: (s["n"], 3), dts=FLOATS + INTS), tol=10)
    add("cdist", "linalg", lambda m, a, b, p: m.cdist(a, b, p=p),
        _with(tensors(lambda s: (s["n"], s["c"]), lambda s: (s["p"], s["c"])), st.sampled_from([1.0, 2.0, 0.0])),
        tol=100, grad_tol=10)
    add("logdet", "linalg", lambda m, x: m.logdet(x @ x.mT + m.diag(m.arange(1, x.shape[-1] + 1, dtype=x.dtype))),
        tensors(lambda s: (s["k"], s["k"])), tol=100)
    add("matrix_power", "linalg", lambda m, x, k: m.linalg.matrix_power(x * 0.3, k),
        _with(tensors(lambda s: (s["k"], s["k"])), st.integers(0, 3)), tol=100, scale_atol=1e-3)
    add("block_diag", "creation", lambda m, a, b: m.block_diag(a, b),
        tensors(lambda s: (s["n"], s["k"]), lambda s: (s["p"],), dts=ALL, same_dtype=False))
    add("trapezoid", "reduce", lambda m, y: m.trapezoid(y, dx=0.5), unary_case(FLOATS, "finite", min_dims=1))
    add("cumulative_trapezoid", "reduce", lambda m, y: m.cumulative_trapezoid(y),
        unary_case(FLOATS, "finite", min_dims=1))
    add("atleast_2d", "view", lambda m, x: m.atleast_2d(x), unary_case(ALL, max_dims=3))
    add("vander", "creation", lambda m, x, n: m.vander(x, n), _with(unary_case(FLOATS + ("int64",), "finite", 1, 1),
                                                                    st.none() | st.integers(0, 4)))
    add("corrcoef", "reduce", lambda m, x: m.corrcoef(x), unary_case(FLOATS, "finite", 1, 2), tol=100)
    add("cov", "reduce", lambda m, x, c: m.cov(x, correction=c),
        _with(unary_case(FLOATS, "finite", 1, 2), st.integers(0, 1)), tol=100)
    add("quantile", "reduce", lambda m, x, q, **kw: m.quantile(x, q, **kw), quantile_case(), tol=10)
    add("nanquantile", "reduce", lambda m, x, q, **kw: m.nanquantile(x, q, **kw), quantile_case(), tol=10)
    add("isin", "sort", lambda m, a, b, inv: m.isin(a, b, invert=inv),
        _with(tensors(lambda s: (s["n"], s["k"]), lambda s: (s["p"],), dts=("int64", "float32")), st.booleans()),
        grad=False)
    add("frexp", "unary", lambda m, x: m.frexp(x), unary_case(FLOATS))
    add("combinations", "sort", lambda m, x, r, rep: m.combinations(x.flatten(), r, with_replacement=rep),
        _with(unary_case(ALL, "finite", 1, 1), st.integers(0, 3), st.booleans()))
    add("tensor_split", "view", lambda m, x, k, d: m.tensor_split(x, k, dim=d),
        _with(unary_case(ALL, "finite", 1, 3), st.sampled_from([1, 2, 3, [1, 2], [0, 5]]), st.integers(-1, 0)))
    add("hsplit", "view", lambda m, x, k: m.hsplit(x, k), _with(unary_case(ALL, "finite", 1, 3), st.integers(1, 3)))
    add("diagflat", "creation", lambda m, x, o: m.diagflat(x, o), _with(unary_case(ALL, "finite", 0, 2),
                                                                       st.integers(-1, 1)))
    add("renorm", "norm", lambda m, x, p, d, mx: m.renorm(x, p, d, mx),
        _with(unary_case(FLOATS, "finite", 1, 3), st.sampled_from([1.0, 2.0]), st.integers(0, 0), st.sampled_from(
            [0.5, 5.0])), tol=10)
    add("narrow_copy", "view", lambda m, x, s, n: m.narrow_copy(x, 0, s, n),
        _with(unary_case(ALL, "finite", 1, 2), st.integers(0, 2), st.integers(0, 2)))
    for kind in ("select", "slice", "diagonal"):
        fn = {"select": lambda m, x, src, d, i: m.select_scatter(x, src, d, i),
              "slice": lambda m, x, src, d, s, st_: m.slice_scatter(x, src, d, s, None, st_),
              "diagonal": lambda m, x, src, o: m.diagonal_scatter(x, src, o)}[kind]
        add(f"{kind}_scatter", "index", fn, scatter_view_case(kind))
    add("F.linear", "linalg", lambda m, x, w, b: F(m).linear(x, w, b), linear_case(), tol=10, scale_atol=1e-3)
    add("F.bilinear", "linalg", lambda m, a, b, w: F(m).bilinear(a, b, w),
        tensors(lambda s: (s["n"], s["k"]), lambda s: (s["n"], s["p"]), lambda s: (s["c"], s["k"], s["p"])),
        tol=10, scale_atol=1e-3)
    add("F.embedding", "index", lambda m, i, w, **kw: F(m).embedding(i, w, **kw), embedding_case())
    add("F.one_hot", "index", lambda m, x, n: F(m).one_hot(x.abs(), n),
        _with(unary_case(("int64",), "finite"), st.sampled_from([-1, 6])), grad=False)
    add("F.scaled_dot_product_attention", "linalg",
        lambda m, q, k, v, mask, **kw: F(m).scaled_dot_product_attention(q, k, v, attn_mask=mask, **kw),
        sdpa_case(), tol=100)
    add("F.cosine_embedding_loss", "loss", lambda m, a, b, red: F(m).cosine_embedding_loss(
        a, b, m.ones(a.shape[0]) if a.dim() == 2 else m.ones(()), margin=0.2, reduction=red),
        _with(tensors(lambda s: (s["n"], s["c"]), lambda s: (s["n"], s["c"])), st.sampled_from(["mean", "none"])),
        tol=10)
    add("F.triplet_margin_loss", "loss", lambda m, a, p, n: F(m).triplet_margin_loss(a, p, n, swap=True),
        tensors(lambda s: (s["n"], s["c"]), lambda s: (s["n"], s["c"]), lambda s: (s["n"], s["c"])), tol=10)
    add("F.local_response_norm", "norm", lambda m, x, s: F(m).local_response_norm(x, s),
        _with(unary_case(FLOATS, "finite", 3, 4), st.integers(1, 3)), tol=10)
    add("F.lp_pool2d", "pool", lambda m, x, p, k: F(m).lp_pool2d(x, p, k),
        _with(unary_case(FLOATS, "positive", 4, 4), st.sampled_from([1.0, 2.0]), st.integers(1, 2)), tol=10)
    add("F.grid_sample", "pool", lambda m, x, g, **kw: F(m).grid_sample(x, g, **kw), grid_case(), tol=10)
    add("F.affine_grid", "pool", lambda m, t, ac: F(m).affine_grid(t, [1, 1, 2, 3], align_corners=ac),
        _with(tensors(lambda s: (1, 2, 3)), st.booleans()), tol=10)
    # pdist of zero rows traps (SIGFPE) inside PyTorch 2.13 and kills the process: at least one row
    add("F.pdist", "linalg", lambda m, x: F(m).pdist(x), tensors(lambda s: (s["n"] + 1, s["c"])), tol=100)
    add("put", "index", lambda m, x, i, v: m.put(x, i, v),
        tensors(lambda s: (s["n"] + 1, 2), lambda s: (s["p"],), lambda s: (s["p"],), dts=("float32",))
        .map(lambda c: Case([c.args[0], Arr(np.zeros(c.args[1].shape(), dtype=np.int64)), c.args[2]])))
