"""nn.functional families (activations, conv, pooling, resampling, norms, losses), RNN layers and linear
algebra.  Shapes are drawn to fit the op most of the time; the rest are bad inputs both libraries must reject."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .oracle import Arr, Case
from .strategies import ALL, FLOATS, INTS, NUM, REAL, dtypes, shapes, tensor, unary_case


def F(m):
    return m.nn.functional


def _with(case_st, *extra):
    """Append drawn python values to a case's args."""
    return st.tuples(case_st, *extra).map(lambda t: Case(t[0].args + list(t[1:]), t[0].kwargs))


# ------------------------------------------------------------------------------------------------ activations
_ACT = {
    "relu": {}, "relu6": {}, "elu": {"alpha": [1.0, 0.5]}, "selu": {}, "celu": {"alpha": [1.0, 2.0]},
    "leaky_relu": {"negative_slope": [0.01, 0.2]}, "gelu": {"approximate": ["none", "tanh"]}, "silu": {},
    "mish": {}, "softplus": {"beta": [1.0, 2.0], "threshold": [20.0, 1.0]}, "softsign": {}, "tanhshrink": {},
    "softshrink": {"lambd": [0.5, 1.0]}, "hardshrink": {"lambd": [0.5, 1.0]}, "hardtanh": {"min_val": [-1.0, -2.0]},
    "hardswish": {}, "hardsigmoid": {}, "logsigmoid": {}, "sigmoid": {}, "tanh": {},
    "threshold": {"threshold": [0.5, 3.0], "value": [-1.0, 0.0]},
    "glu": {"dim": [-1, 0]}, "softmin": {"dim": [-1, 0]}, "softmax": {"dim": [-1, 0]},
    "log_softmax": {"dim": [-1, 0]}, "normalize": {"p": [2.0, 1.0], "dim": [1, -1]},
    "rrelu": {"training": [False]}, "prelu": {},
}


@st.composite
def act_case(draw, name):
    kw = {k: draw(st.sampled_from(v)) for k, v in _ACT[name].items()}
    dts = NUM if name in ("relu", "hardtanh", "relu6", "threshold", "leaky_relu", "softshrink",
                          "hardshrink") else REAL
    if name == "threshold":
        kw = {"threshold": kw["threshold"], "value": kw["value"]}
    case = draw(unary_case(dts, min_dims=1 if name in ("glu", "normalize", "softmax", "softmin", "log_softmax")
                           else 0))
    if name == "prelu":
        x = case.args[0]
        c = x.shape()[1] if len(x.shape()) >= 2 else 1
        w = draw(tensor(str(x.data.dtype) if x.data.dtype.kind == "f" else "float32",
                        (draw(st.sampled_from([1, c])),), "finite"))
        return Case([x, w])
    return Case(case.args, kw)


def _act_fn(name):
    if name == "prelu":
        return lambda m, x, w: F(m).prelu(x, w)
    if name == "threshold":
        return lambda m, x, **kw: F(m).threshold(x, kw["threshold"], kw["value"])
    return lambda m, x, **kw: getattr(F(m), name)(x, **kw)


# ------------------------------------------------------------------------------------------------ conv
@st.composite
def conv_case(draw, nd, transpose=False):
    n = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 1, 2]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    sp = tuple(draw(st.integers(1, 6)) for _ in range(nd))
    dt = draw(st.sampled_from(["float32", "float64", "float64"] + (["int64"] if draw(st.integers(0, 19)) == 0
                                                                   else [])))
    x = draw(tensor(dt, (n, cin) + sp, "any" if draw(st.integers(0, 4)) == 0 else "finite"))
    wshape = (cin, cout // groups) + k if transpose else (cout, cin // groups) + k
    w = draw(tensor(dt, wshape, "finite"))
    b = draw(st.none() | tensor(dt, (cout,), "finite"))
    kw = {"stride": draw(st.integers(1, 2)), "groups": groups}
    if transpose:
        kw["padding"] = draw(st.integers(0, 1))
        kw["output_padding"] = draw(st.integers(0, 1)) if kw["stride"] > 1 else 0
        kw["dilation"] = draw(st.integers(1, 2))
    else:
        kw["padding"] = draw(st.sampled_from([0, 1, 2, "valid", "same"] if kw["stride"] == 1 else [0, 1]))
        kw["dilation"] = draw(st.integers(1, 2))
    return Case([x, w, b], kw)


@st.composite
def conv_module_case(draw):
    n = draw(st.integers(1, 3))
    cin, cout = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    pad = draw(st.integers(0, 2))
    hw = (draw(st.integers(max(pad + 1, k), 6)), draw(st.integers(max(pad + 1, k), 6)))
    x = draw(tensor(draw(st.sampled_from(FLOATS)), (n, cin) + hw, "finite"))
    w = np.asarray(np.random.default_rng(k * 7 + cin).standard_normal((cout, cin, k, k)))
    return Case([x, w], {"padding": pad, "padding_mode": mode, "stride": draw(st.integers(1, 2))})


def fn_conv_module(m, x, w, **kw):
    conv = m.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], bias=False, **kw).to(x)   # x's dtype and device
    with m.no_grad():
        conv.weight.copy_(m.tensor(w, dtype=x.dtype))
    return conv(x)


@st.composite
def unfold_case(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    hw = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    x = draw(tensor(draw(st.sampled_from(FLOATS)), (n, c) + hw, "finite"))
    return Case([x], {"kernel_size": draw(st.sampled_from([1, 2, (1, 2)])), "padding": draw(st.integers(0, 1)),
                      "stride": draw(st.integers(1, 2)), "dilation": draw(st.integers(1, 2))})


@st.composite
def fold_case(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    k = draw(st.sampled_from([1, 2]))
    out = (draw(st.integers(k, 5)), draw(st.integers(k, 5)))
    stride = draw(st.integers(1, 2))
    L = ((out[0] - k) // stride + 1) * ((out[1] - k) // stride + 1)
    x = draw(tensor(draw(st.sampled_from(FLOATS)), (n, c * k * k, L), "finite"))
    return Case([x], {"output_size": out, "kernel_size": k, "stride": stride})


# ------------------------------------------------------------------------------------------------ pooling
def _pool_window_past_plane(sp, k, s, p, d, ceil):
    """A dilated max-pool window lying entirely in the padding whose PyTorch arg-max index (the position its
    loop would start at) is outside the input plane: torch's backward then writes out of bounds."""
    hw = (1,) * (2 - len(sp)) + tuple(sp)
    ranges = []
    for size in hw if len(sp) == 2 else (hw[1],):
        o = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
        if ceil and (o - 1) * s >= size + p:
            o -= 1
        firsts = []
        for i in range(max(o, 0)):
            start = i * s - p
            pos = start + (-start + d - 1) // d * d if start < 0 else start
            firsts.append((pos, pos < min(start + (k - 1) * d + 1, size)))
        ranges.append(firsts)
    if len(ranges) == 1:
        ranges.insert(0, [(0, True)])
    h, w = hw
    return any(not (oh and ow) and not 0 <= ph * w + pw < h * w
               for ph, oh in ranges[0] for pw, ow in ranges[1])


@st.composite
def pool_case(draw, nd, kind):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    sp = tuple(draw(st.integers(1, 7)) for _ in range(nd))
    batched = draw(st.integers(0, 5)) > 0
    shape = ((n,) if batched else ()) + (c,) + sp
    dt = draw(st.sampled_from(FLOATS + (("int64",) if kind == "max" and draw(st.integers(0, 9)) == 0 else ())))
    x = draw(tensor(dt, shape, "any" if draw(st.integers(0, 3)) == 0 else "finite"))
    if kind == "adaptive":
        return Case([x], {"output_size": tuple(draw(st.integers(1, 4)) for _ in range(nd)) if nd > 1
                          else draw(st.integers(1, 4))})
    k = draw(st.integers(1, 3))
    kw = {"kernel_size": k, "stride": draw(st.none() | st.integers(1, 3)), "padding": draw(st.integers(0, k // 2)),
          "ceil_mode": draw(st.booleans())}
    if kind == "max":
        kw["dilation"] = draw(st.integers(1, 2))
        kw["return_indices"] = draw(st.booleans())
        if _pool_window_past_plane(sp, k, kw["stride"] or k, kw["padding"], kw["dilation"], kw["ceil_mode"]):
            kw["padding"] = 0   # torch's backward writes out of bounds there (heap corruption): not a case
    else:
        kw["count_include_pad"] = draw(st.booleans())
        if nd == 2 and draw(st.integers(0, 3)) == 0:
            kw["divisor_override"] = draw(st.integers(1, 3))
    return Case([x], kw)


@st.composite
def interp_case(draw):
    nd = draw(st.integers(1, 2))
    mode = draw(st.sampled_from(["nearest", "bilinear", "bicubic", "linear", "nearest-exact", "area"]))
    if mode in ("bilinear", "bicubic"):
        nd = 2
    if mode == "linear":
        nd = 1
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    sp = tuple(draw(st.integers(1, 5)) for _ in range(nd))
    x = draw(tensor(draw(st.sampled_from(FLOATS)), (n, c) + sp, "any" if draw(st.booleans()) else "finite"))
    kw = {"mode": mode}
    if draw(st.booleans()):
        kw["size"] = tuple(draw(st.integers(1, 7)) for _ in range(nd))
    else:
        kw["scale_factor"] = draw(st.sampled_from([2, 0.5, 1.5, 3]))
    if mode in ("bilinear", "bicubic", "linear"):
        kw["align_corners"] = draw(st.booleans())
    return Case([x], kw)


@st.composite
def pad_case(draw):
    shp = draw(shapes(2, 4, allow_empty=False))
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    npad = draw(st.integers(1, min(len(shp) - 1, 2)))
    # negative (cropping) pads: not for circular, where torch 2.13 reads uninitialized memory when it crops
    pads = tuple(draw(st.integers(-1 if mode != "circular" else 0, 2)) for _ in range(2 * npad))
    x = draw(tensor(draw(dtypes(REAL if mode != "constant" else NUM)), shp, "finite"))
    kw = {"mode": mode}
    if mode == "constant":
        kw["value"] = draw(st.sampled_from([0.0, 1.5]))
    return Case([x, pads], kw)


# ------------------------------------------------------------------------------------------------ norms
@st.composite
def norm_case(draw, kind):
    n = draw(st.integers(0 if draw(st.integers(0, 9)) == 0 else 1, 3))
    c = draw(st.sampled_from([1, 2, 4]))
    sp = tuple(draw(st.integers(1, 4)) for _ in range(draw(st.integers(0 if kind in ("batch", "layer") else 1, 2))))
    dt = draw(st.sampled_from(FLOATS))
    x = draw(tensor(dt, (n, c) + sp, "any" if draw(st.integers(0, 5)) == 0 else "finite"))
    if kind == "batch":
        training = draw(st.booleans())
        rm = Arr(np.linspace(-1, 1, c).astype(dt))
        rv = Arr(np.linspace(0.5, 2, c).astype(dt))
        w = draw(st.none() | tensor(dt, (c,), "finite"))
        b = draw(st.none() | tensor(dt, (c,), "finite"))
        return Case([x, rm, rv, w, b], {"training": training, "momentum": 0.1, "eps": 1e-5})
    if kind == "layer":
        k = draw(st.integers(1, x.data.ndim))
        ns = x.shape()[-k:]
        return Case([x, tuple(ns), draw(st.none() | tensor(dt, ns, "finite")), draw(st.none() | tensor(dt, ns, "finite"))])
    if kind == "group":
        g = draw(st.sampled_from([d for d in (1, 2, 4) if c % d == 0]))
        return Case([x, g, draw(st.none() | tensor(dt, (c,), "finite")), draw(st.none() | tensor(dt, (c,), "finite"))])
    if kind == "rms":
        k = draw(st.integers(1, x.data.ndim))
        ns = x.shape()[-k:]
        return Case([x, tuple(ns), draw(st.none() | tensor(dt, ns, "finite"))])
    return Case([x, draw(st.none() | tensor(dt, (c,), "finite")), draw(st.none() | tensor(dt, (c,), "finite"))])


def fn_batch_norm(m, x, rm, rv, w, b, **kw):
    rm, rv = rm.clone(), rv.clone()
    y = F(m).batch_norm(x, rm, rv, w, b, **kw)
    return y, rm, rv


# ------------------------------------------------------------------------------------------------ losses
RED = st.sampled_from(["mean", "sum", "none"])


@st.composite
def pair_loss_case(draw, kind="any"):
    shp = draw(shapes(0, 3, allow_empty=draw(st.integers(0, 9)) == 0))
    dt = draw(st.sampled_from(FLOATS))
    vals = "finite"
    x = draw(tensor(dt, shp, vals))
    tshape = shp if draw(st.integers(0, 9)) else draw(shapes(0, 3))
    y = draw(tensor(dt, tshape, vals, grad=kind == "any" and None))
    if kind == "prob":
        x = Arr(np.asarray(1 / (1 + np.exp(-x.data)), dtype=dt), grad=x.grad)
        y = Arr(np.asarray(np.clip(np.abs(y.data) / 4, 0, 1), dtype=dt), grad=False)
    if kind == "sign":
        y = Arr(np.where(y.data >= 0, 1, -1).astype(dt), grad=False, layout=y.layout, expand_to=y.expand_to)
    return Case([x, y], {"reduction": draw(RED)})


@st.composite
def class_loss_case(draw, kind):
    n = draw(st.integers(0 if draw(st.integers(0, 9)) == 0 else 1, 3))
    c = draw(st.integers(1, 4))
    extra = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 1))))
    dt = draw(st.sampled_from(FLOATS))
    batched = draw(st.integers(0, 5)) > 0
    x = draw(tensor(dt, ((n,) if batched else ()) + (c,) + extra, "finite"))
    tshape = ((n,) if batched else ()) + extra
    if kind == "prob_target" and draw(st.booleans()):
        t = Arr(np.abs(draw(tensor(dt, x.shape(), "finite", grad=False, layouts=False)).data) / 4)
    else:
        hi = c - 1 if draw(st.integers(0, 19)) else c
        t = Arr(np.array(draw(st.lists(st.integers(-1 if kind != "multi_margin" else 0, hi),
                                       min_size=int(np.prod(tshape)), max_size=int(np.prod(tshape)))),
                         dtype=np.int64).reshape(tshape))
    kw = {"reduction": draw(RED)}
    w = draw(st.none() | tensor(dt, (c,), "positive", grad=False, layouts=False)) if kind != "multi_margin" else None
    if kind in ("cross_entropy", "prob_target", "nll"):
        kw["ignore_index"] = draw(st.sampled_from([-100, -1, 0]))
        if kind != "nll":
            kw["label_smoothing"] = draw(st.sampled_from([0.0, 0.0, 0.1]))
    if kind == "multi_margin":
        kw["p"] = draw(st.sampled_from([1, 2]))
        kw["margin"] = draw(st.sampled_from([1.0, 0.5, 0.0]))
        x = Arr(np.round(x.data * 2) / 2, grad=x.grad)   # ties: margin exactly 0 happens
        if not batched or not extra == ():
            pass
    return Case([x, t, w], kw)


def fn_class_loss(name):
    def fn(m, x, t, w, **kw):
        if name == "nll":
            return F(m).nll_loss(F(m).log_softmax(x, 1 if x.dim() > 1 else 0), t, weight=w, **kw)
        if name == "multi_margin":
            return F(m).multi_margin_loss(x, t, weight=w, **kw)
        return F(m).cross_entropy(x, t, weight=w, **kw)
    return fn


# ------------------------------------------------------------------------------------------------ RNN
@st.composite
def rnn_case(draw, kind):
    batch_first = draw(st.booleans())
    b, t = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    inp, hid = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    layers = draw(st.integers(1, 2))
    bidir = draw(st.booleans())
    batched = draw(st.integers(0, 5)) > 0
    dt = draw(st.sampled_from(FLOATS))
    shape = ((b, t, inp) if batch_first else (t, b, inp)) if batched else (t, inp)
    x = draw(tensor(dt, shape, "finite"))
    h0 = None
    if draw(st.booleans()):
        hs = ((layers * (2 if bidir else 1), b, hid) if batched else (layers * (2 if bidir else 1), hid))
        h0 = draw(tensor(dt, hs, "finite"))
    kw = {"batch_first": batch_first, "num_layers": layers, "bidirectional": bidir, "hidden_size": hid,
          "input_size": inp}
    if kind == "RNN":
        kw["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    if kind == "LSTM" and draw(st.integers(0, 3)) == 0 and hid > 1:
        kw["proj_size"] = 1
    c0 = None
    if kind == "LSTM" and h0 is not None:
        hs = list(h0.shape())
        if "proj_size" in kw:
            hs[-1] = hid
            h0 = Arr(h0.data[..., :1].copy(), grad=h0.grad)
        c0 = draw(tensor(dt, tuple(hs), "finite"))
    return Case([x, h0, c0, kind], kw)


def fn_rnn(m, x, h0, c0, kind, **kw):
    mod = getattr(m.nn, kind)(**kw).to(x)    # x's dtype and device
    rng = np.random.default_rng(len(kw) + kw["hidden_size"])
    with m.no_grad():
        for _, p in mod.named_parameters():
            p.copy_(m.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)), dtype=x.dtype))
    if kind == "LSTM":
        out = mod(x, None if h0 is None else (h0, c0))
    else:
        out = mod(x, h0)
    return out


@st.composite
def cell_case(draw, kind):
    b = draw(st.integers(1, 3))
    inp, hid = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dt = draw(st.sampled_from(FLOATS))
    batched = draw(st.integers(0, 4)) > 0
    x = draw(tensor(dt, (b, inp) if batched else (inp,), "finite"))
    h = draw(st.none() | tensor(dt, (b, hid) if batched else (hid,), "finite"))
    c = draw(tensor(dt, (b, hid) if batched else (hid,), "finite")) if h is not None and kind == "LSTMCell" else None
    return Case([x, h, c, kind], {"input_size": inp, "hidden_size": hid})


def fn_cell(m, x, h, c, kind, **kw):
    mod = getattr(m.nn, kind)(**kw).to(x)    # x's dtype and device
    rng = np.random.default_rng(kw["hidden_size"] * 3 + kw["input_size"])
    with m.no_grad():
        for _, p in mod.named_parameters():
            p.copy_(m.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)), dtype=x.dtype))
    if kind == "LSTMCell":
        return mod(x, None if h is None else (h, c))
    return mod(x, h)


# ------------------------------------------------------------------------------------------------ linalg
@st.composite
def matmul_case(draw, kind="matmul"):
    dt = draw(dtypes(FLOATS + (("int64", "int32") if draw(st.integers(0, 5)) == 0 else ())))
    n, k, p = draw(st.integers(0 if draw(st.integers(0, 9)) == 0 else 1, 4)), draw(st.integers(1, 4)), \
        draw(st.integers(1, 4))
    if kind == "matmul":
        ra, rb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        batch = draw(shapes(0, 2, max_side=3, allow_empty=False))
        sa = (k,) if ra == 1 else tuple(batch[len(batch) - (ra - 2):] if ra > 2 else ()) + (n, k)
        sb = (k,) if rb == 1 else tuple(batch[len(batch) - (rb - 2):] if rb > 2 else ()) + (k, p)
        if draw(st.integers(0, 14)) == 0:
            sb = (k + 1,) + sb[1:]
    elif kind == "mm":
        sa, sb = (n, k), (k, p)
    elif kind == "bmm":
        bb = draw(st.integers(1, 3))
        sa, sb = (bb, n, k), (bb, k, p)
    elif kind == "mv":
        sa, sb = (n, k), (k,)
    elif kind in ("dot", "vdot"):
        sa, sb = (k,), (k,)
    elif kind == "inner":
        sa = draw(shapes(0, 3, allow_empty=False)) + ((k,) if draw(st.booleans()) else ())
        sb = draw(shapes(0, 2, allow_empty=False)) + ((k,) if sa and sa[-1] == k else ())
    elif kind in ("outer", "ger"):
        sa, sb = (n,), (p,)
    elif kind == "kron":
        sa, sb = draw(shapes(1, 2, max_side=3)), draw(shapes(1, 2, max_side=3))
    else:
        raise ValueError(kind)
    return Case([draw(tensor(dt, sa, "finite")), draw(tensor(dt, sb, "finite"))])


@st.composite
def square_case(draw, batch=True, rect=False):
    dt = draw(st.sampled_from(FLOATS))
    n = draw(st.integers(1 if draw(st.integers(0, 9)) else 0, 4))
    c = draw(st.integers(1, 4)) if rect else n
    bs = draw(shapes(0, 1, max_side=3, allow_empty=False)) if batch else ()
    x = draw(tensor(dt, bs + (n, c), "plain"))
    return Case([x])


def _wellcond(m, x):
    n = x.shape[-1]
    # diagonally dominant with distinct diagonal entries: well conditioned, distinct singular values
    return x * 0.05 + m.diag(m.arange(1, n + 1, dtype=x.dtype)) if x.shape[-1] == x.shape[-2] else x


def _spd(m, x):
    a = _wellcond(m, x)
    # distinct eigenvalues (1..n apart), so eigenvector-dependent gradients are well defined
    return a @ a.mT * 0.1 + m.diag(m.arange(1, x.shape[-1] + 1, dtype=x.dtype))


@st.composite
def einsum_case(draw):
    eq, shp = draw(st.sampled_from([
        ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
        ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("...ij,...jk", [(2, 2, 3), (3, 2)]), ("i,i->", [(3,), (3,)]),
        ("i,j->ij", [(2,), (3,)]), ("ij->ji", [(2, 3)]), ("...i->...", [(2, 3)]), ("...,...->...", [(2, 3), (3,)]),
        ("ij,ij->i", [(2, 3), (2, 3)]), ("bi,bi", [(2, 3), (2, 3)]), ("i...->...", [(2, 3, 2)]),
        ("...ii->...i", [(2, 3, 3)]), ("ijk->kji", [(2, 3, 1)]), ("ab,ab", [(2, 2), (2, 2)]),
        ("...a,a...", [(2, 3), (3, 2)]),
    ]))
    dt = draw(st.sampled_from(FLOATS))
    return Case([eq] + [draw(tensor(dt, s, "finite")) for s in shp])


def register(add):
    for name in _ACT:
        add(f"F.{name}", "activation", _act_fn(name), act_case(name))
    for nd in (1, 2):
        add(f"F.conv{nd}d", "conv", (lambda d: lambda m, x, w, b, **kw: getattr(F(m), f"conv{d}d")(x, w, b, **kw))(nd),
            conv_case(nd), tol=10, scale_atol=1e-4)
        add(f"F.conv_transpose{nd}d", "conv",
            (lambda d: lambda m, x, w, b, **kw: getattr(F(m), f"conv_transpose{d}d")(x, w, b, **kw))(nd),
            conv_case(nd, transpose=True), tol=10, scale_atol=1e-4)
    add("nn.Conv2d_padding_mode", "conv", fn_conv_module, conv_module_case(), tol=10, scale_atol=1e-4)
    add("F.unfold", "conv", lambda m, x, **kw: F(m).unfold(x, **kw), unfold_case())
    add("F.fold", "conv", lambda m, x, **kw: F(m).fold(x, **kw), fold_case())
    add("conv_stack_view", "conv", lambda m, x, w, b, **kw: (lambda y: y.view(y.size(0), -1))(
        F(m).conv2d(x, w, b, **kw)), conv_case(2), tol=10, scale_atol=1e-4)
    for nd in (1, 2):
        add(f"F.max_pool{nd}d", "pool", (lambda d: lambda m, x, **kw: getattr(F(m), f"max_pool{d}d")(x, **kw))(nd),
            pool_case(nd, "max"))
        add(f"F.avg_pool{nd}d", "pool", (lambda d: lambda m, x, **kw: getattr(F(m), f"avg_pool{d}d")(x, **kw))(nd),
            pool_case(nd, "avg"))
        add(f"F.adaptive_avg_pool{nd}d", "pool",
            (lambda d: lambda m, x, **kw: getattr(F(m), f"adaptive_avg_pool{d}d")(x, **kw))(nd),
            pool_case(nd, "adaptive"))
        add(f"F.adaptive_max_pool{nd}d", "pool",
            (lambda d: lambda m, x, **kw: getattr(F(m), f"adaptive_max_pool{d}d")(x, **kw))(nd),
            pool_case(nd, "adaptive"))
    add("F.interpolate", "pool", lambda m, x, **kw: F(m).interpolate(x, **kw), interp_case(), tol=10)
    add("F.pad", "pool", lambda m, x, pads, **kw: F(m).pad(x, pads, **kw), pad_case())
    add("F.pixel_shuffle", "pool", lambda m, x: F(m).pixel_shuffle(x, 2),
        st.builds(lambda c: c, unary_case(FLOATS, min_dims=3, max_dims=4)))
    add("F.batch_norm", "norm", fn_batch_norm, norm_case("batch"), tol=100, grad_tol=10, scale_atol=1e-4)
    add("F.layer_norm", "norm", lambda m, x, ns, w, b: F(m).layer_norm(x, ns, w, b), norm_case("layer"),
        tol=100, grad_tol=10, scale_atol=1e-4)
    add("F.group_norm", "norm", lambda m, x, g, w, b: F(m).group_norm(x, g, w, b), norm_case("group"),
        tol=100, grad_tol=10, scale_atol=1e-4)
    add("F.instance_norm", "norm", lambda m, x, w, b: F(m).instance_norm(x, weight=w, bias=b),
        norm_case("instance"), tol=100, grad_tol=10, scale_atol=1e-4)
    add("F.rms_norm", "norm", lambda m, x, ns, w: F(m).rms_norm(x, ns, w), norm_case("rms"), tol=10)
    for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss",
                 "binary_cross_entropy_with_logits", "poisson_nll_loss", "gaussian_nll_loss",
                 "hinge_embedding_loss", "kl_div", "binary_cross_entropy", "multilabel_soft_margin_loss"):
        kind = {"binary_cross_entropy": "prob", "hinge_embedding_loss": "sign", "soft_margin_loss": "sign",
                "multilabel_soft_margin_loss": "prob"}.get(name, "any")
        if name == "gaussian_nll_loss":
            fn = lambda m, x, y, **kw: F(m).gaussian_nll_loss(x, y, (y * 0 + 1.5), **kw)  # noqa: E731
        else:
            fn = (lambda n: lambda m, x, y, **kw: getattr(F(m), n)(x, y, **kw))(name)
        add(f"F.{name}", "loss", fn, pair_loss_case(kind), tol=10, scale_atol=1e-4)
    add("F.cross_entropy", "loss", fn_class_loss("ce"), class_loss_case("cross_entropy"), tol=10)
    add("F.cross_entropy_probs", "loss", fn_class_loss("ce"), class_loss_case("prob_target"), tol=10)
    add("F.nll_loss", "loss", fn_class_loss("nll"), class_loss_case("nll"), tol=10)
    add("F.multi_margin_loss", "loss", fn_class_loss("multi_margin"), class_loss_case("multi_margin"), tol=10)
    add("F.margin_ranking_loss", "loss", lambda m, a, b, **kw: F(m).margin_ranking_loss(a, b, (a - b).sign(), **kw),
        pair_loss_case(), tol=10)
    add("F.cosine_similarity", "loss", lambda m, a, b: F(m).cosine_similarity(a, b, dim=-1),
        st.tuples(matmul_case("dot")).map(lambda t: t[0]), tol=10)
    add("F.pairwise_distance", "loss", lambda m, a, b: F(m).pairwise_distance(a, b),
        st.tuples(matmul_case("dot")).map(lambda t: t[0]), tol=10)
    for kind in ("RNN", "LSTM", "GRU"):
        add(f"nn.{kind}", "rnn", fn_rnn, rnn_case(kind), tol=10, alias=False)
        add(f"nn.{kind}Cell", "rnn", fn_cell, cell_case(kind + "Cell"), tol=10, alias=False)
    for kind in ("matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "kron"):
        add(kind, "linalg", (lambda k: lambda m, a, b: getattr(m, k)(a, b))(kind), matmul_case(kind),
            tol=10, scale_atol=1e-3)
    add("operator@", "linalg", lambda m, a, b: a @ b, matmul_case("matmul"), tol=10, scale_atol=1e-3)
    add("tensordot", "linalg", lambda m, a, b, d: m.tensordot(a, b, dims=d),
        st.tuples(matmul_case("mm"), st.sampled_from([1, 0])).map(lambda t: Case(t[0].args + [t[1]])),
        tol=10, scale_atol=1e-3)
    add("einsum", "linalg", lambda m, eq, *xs: m.einsum(eq, *xs), einsum_case(), tol=10, scale_atol=1e-3)
    add("trace", "linalg", lambda m, x: m.trace(x), unary_case(NUM, min_dims=2, max_dims=2))
    lin = {
        "linalg.det": lambda m, x: m.linalg.det(_wellcond(m, x)),
        "det": lambda m, x: m.det(_wellcond(m, x)),
        "linalg.slogdet": lambda m, x: m.linalg.slogdet(_wellcond(m, x)),
        "linalg.inv": lambda m, x: m.linalg.inv(_wellcond(m, x)),
        "inverse": lambda m, x: m.inverse(_wellcond(m, x)),
        "linalg.solve": lambda m, x: m.linalg.solve(_wellcond(m, x), x[..., :1] * 1),
        "linalg.cholesky": lambda m, x: m.linalg.cholesky(_spd(m, x)),
        "linalg.eigvalsh": lambda m, x: m.linalg.eigvalsh(_spd(m, x)),
        "linalg.svdvals": lambda m, x: m.linalg.svdvals(_wellcond(m, x)),
        "linalg.pinv": lambda m, x: m.linalg.pinv(_wellcond(m, x)),
        "linalg.matrix_norm": lambda m, x: m.linalg.matrix_norm(x),
        "linalg.matrix_norm_nuc": lambda m, x: m.linalg.matrix_norm(_wellcond(m, x), "nuc"),
        "linalg.vector_norm": lambda m, x: m.linalg.vector_norm(x, 3),
        "linalg.norm": lambda m, x: m.linalg.norm(x),
        "linalg.norm_ord": lambda m, x: m.linalg.norm(x, 1, dim=(-2, -1)),
        "linalg.qr_R_abs": lambda m, x: m.linalg.qr(_wellcond(m, x))[1].abs(),
        "linalg.lstsq": lambda m, x: m.linalg.lstsq(_wellcond(m, x), x[..., :1] * 1).solution,
        "linalg.multi_dot": lambda m, x: m.linalg.multi_dot([x, x.mT, x]) if x.dim() == 2 else x,
        "linalg.cross": lambda m, x: m.linalg.cross(x[..., :3], x[..., :3].flip(-1))
        if x.shape[-1] >= 3 else x * 1,
        "linalg.eigh_values": lambda m, x: m.linalg.eigh(_spd(m, x))[0],
    }
    for name, fn in lin.items():
        add(name, "linalg", fn, square_case(rect=name in ("linalg.matrix_norm", "linalg.vector_norm", "linalg.norm",
                                                           "linalg.norm_ord", "linalg.cross")),
            tol=1000, scale_atol=1e-3)
