"""View chains, in-place writes through views and on bases, indexing get/set, index ops, autograd graph
idioms and creation ops.  A view chain is drawn step by step on a torch "meta" tensor (shapes only) so each
step usually fits the current shape; a step that does not fit ends the chain (both libraries must raise)."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from .oracle import Arr, Case
from .strategies import ALL, FLOATS, INTS, NUM, REAL, dtypes, scalar, shapes, tensor


# ------------------------------------------------------------------------------------------------ view chains
def apply_step(m, x, step):
    op, *a = step
    if op == "slice":
        dim, start, stop, stp = a
        return x[(slice(None),) * dim + (slice(start, stop, stp),)]
    if op == "int":
        return x[a[0]]
    if op == "int2":
        return x[a[0], a[1]]
    if op == "ellipsis_int":
        return x[..., a[0]]
    if op == "newaxis":
        return x[None]
    if op == "split":
        size, dim, k = a
        return x.split(size, dim)[k]
    if op == "chunk":
        n, dim, k = a
        return x.chunk(n, dim)[k]
    if op == "unbind":
        dim, k = a
        return x.unbind(dim)[k]
    if op == "mT":
        return x.mT
    if op == "T2":
        return x.t()
    if op in ("contiguous", "clone", "detach", "flatten0", "ravel"):
        return {"contiguous": lambda: x.contiguous(), "clone": lambda: x.clone(), "detach": lambda: x.detach(),
                "flatten0": lambda: x.flatten(), "ravel": lambda: x.ravel()}[op]()
    if op == "view":
        return x.view(*a[0])
    if op == "reshape":
        return x.reshape(*a[0])
    if op == "expand":
        return x.expand(*a[0])
    if op == "flip":
        return x.flip(a[0])
    if op == "rot90":
        return m.rot90(x, a[0], list(a[1]))
    return getattr(x, op)(*a)


def apply_chain(m, x, chain):
    for step in chain:
        x = apply_step(m, x, step)
    return x


@st.composite
def view_step(draw, shape):
    nd = len(shape)
    d = (lambda: draw(st.integers(-nd, nd - 1))) if nd else (lambda: draw(st.sampled_from([0, -1])))
    kinds = ["slice", "transpose", "permute", "unsqueeze", "squeeze", "select", "int", "narrow", "expand",
             "diagonal", "view", "reshape", "flatten", "movedim", "unfold", "split", "unbind", "flip", "mT",
             "contiguous", "clone", "detach", "int2", "ellipsis_int", "newaxis", "T2", "chunk", "rot90", "fliplr",
             "flatten0", "swapaxes", "squeeze_all", "ravel", "view_as_strided"]
    k = draw(st.sampled_from(kinds))
    size = (lambda dim: shape[dim] if nd else 1)
    if k == "slice" and nd:
        dim = draw(st.integers(0, nd - 1))
        n = shape[dim]
        start = draw(st.none() | st.integers(-n - 1, n + 1))
        stop = draw(st.none() | st.integers(-n - 1, n + 1))
        step = draw(st.sampled_from([None, 1, 2, 3]))
        return ("slice", dim, start, stop, step)
    if k == "transpose":
        return ("transpose", d(), d())
    if k == "swapaxes":
        return ("swapaxes", d(), d())
    if k == "permute":
        return ("permute", *draw(st.permutations(range(nd))))
    if k == "unsqueeze":
        return ("unsqueeze", draw(st.integers(-nd - 1, nd)))
    if k == "squeeze":
        return ("squeeze", d())
    if k == "squeeze_all":
        return ("squeeze",)
    if k in ("select", "narrow", "unfold", "split", "unbind", "chunk"):
        dim = d()
        n = size(dim) if nd else 1
        if k == "select":
            return ("select", dim, draw(st.integers(-n, max(n - 1, 0))))
        if k == "narrow":
            start = draw(st.integers(0, n))
            return ("narrow", dim, start, draw(st.integers(0, max(n - start, 0))))
        if k == "unfold":
            sz = draw(st.integers(1, max(n, 1)))
            return ("unfold", dim, sz, draw(st.integers(1, 2)))
        if k == "split":
            return ("split", draw(st.integers(1, max(n, 1))), dim, 0)
        if k == "chunk":
            return ("chunk", draw(st.integers(1, 3)), dim, 0)
        return ("unbind", dim, draw(st.integers(0, max(n - 1, 0))))
    if k in ("int", "int2", "ellipsis_int"):
        n0 = shape[0] if nd else 1
        i = draw(st.integers(-n0, max(n0 - 1, 0)))
        if k == "int2" and nd >= 2:
            return ("int2", i, draw(st.integers(-shape[1], max(shape[1] - 1, 0))))
        if k == "ellipsis_int" and nd:
            return ("ellipsis_int", draw(st.integers(-shape[-1], max(shape[-1] - 1, 0))))
        return ("int", i)
    if k == "expand":
        extra = draw(st.lists(st.integers(1, 3), max_size=1))
        new = tuple(extra) + tuple(draw(st.sampled_from([1, 2, 3])) if s == 1 else
                                   draw(st.sampled_from([s, -1])) for s in shape)
        return ("expand", new)
    if k == "diagonal":
        return ("diagonal", draw(st.integers(-2, 2)), d(), d())
    if k in ("view", "reshape"):
        total = int(np.prod(shape)) if nd else 1
        opts = [(-1,), (total,)]
        if nd >= 2:
            opts.append((shape[0] * shape[1],) + tuple(shape[2:]))
            opts.append((-1, shape[-1]))
        if nd >= 1 and shape[-1] % 2 == 0 and shape[-1]:
            opts.append(tuple(shape[:-1]) + (2, shape[-1] // 2))
        opts.append(tuple(shape) + (1,))
        return (k, draw(st.sampled_from(opts)))
    if k == "flatten":
        a, b = sorted((d(), d()), key=lambda v: v % max(nd, 1))
        return ("flatten", a, b)
    if k == "movedim":
        return ("movedim", d(), d())
    if k == "flip":
        return ("flip", tuple(sorted(set(draw(st.lists(st.integers(0, max(nd - 1, 0)), min_size=1, max_size=2))))))
    if k == "rot90":
        return ("rot90", draw(st.integers(-1, 2)), (0, 1))
    if k == "view_as_strided":
        return ("contiguous",)
    return (k,)


@st.composite
def chain(draw, shape, min_len=1, max_len=4):
    meta = torch.empty(shape, device="meta")
    steps = []
    for _ in range(draw(st.integers(min_len, max_len))):
        s = draw(view_step(tuple(meta.shape)))
        steps.append(s)
        try:
            meta = apply_step(torch, meta, s)
        except Exception:  # noqa: BLE001 - the invalid step stays: both libraries must raise
            break
    return steps


@st.composite
def chain_case(draw, dtypes_=ALL, grad=None):
    dt = draw(dtypes(dtypes_))
    shp = draw(shapes(1, 4, allow_empty=draw(st.integers(0, 9)) == 0))
    x = draw(tensor(dt, shp, "finite", grad=grad, layouts=draw(st.integers(0, 3)) == 0))
    return Case([x, draw(chain(shp))])


INPLACE = ["add_", "mul_", "sub_", "div_", "fill_", "zero_", "clamp_", "neg_", "exp_", "copy_", "setitem_all",
           "setitem_0", "masked_fill_", "pow_", "abs_", "sigmoid_", "relu_", "tanh_"]


def apply_inplace(m, v, op, other):
    if op in ("add_", "mul_", "sub_", "div_", "pow_"):
        return getattr(v, op)(other if other is not None else 2)
    if op == "fill_":
        return v.fill_(1.5)
    if op == "clamp_":
        return v.clamp_(-0.5, 0.5)
    if op == "copy_":
        return v.copy_(other if other is not None else m.ones(()))
    if op == "setitem_all":
        v[...] = other if other is not None else 7
        return v
    if op == "setitem_0":
        v[0] = 5
        return v
    if op == "masked_fill_":
        return v.masked_fill_(v > 0, -2.0)
    return getattr(v, op)()


@st.composite
def inplace_case(draw, on="view"):
    case = draw(chain_case(ALL if draw(st.integers(0, 3)) == 0 else FLOATS))
    op = draw(st.sampled_from(INPLACE))
    other = None
    x = case.args[0]
    if op in ("add_", "mul_", "sub_", "div_", "copy_", "setitem_all") and draw(st.booleans()):
        try:
            vs = tuple(apply_chain(torch, torch.empty(x.shape(), device="meta"), case.args[1]).shape)
        except Exception:  # noqa: BLE001
            vs = ()
        if on == "base":
            vs = x.shape()
        k = draw(st.integers(0, len(vs)))
        other = draw(tensor(draw(dtypes(FLOATS)), vs[k:], "finite", layouts=False))
    return Case([x, case.args[1], op, other])


def fn_inplace_view(m, x, steps, op, other):
    base = x.clone()
    v = apply_chain(m, base, steps)
    apply_inplace(m, v, op, other)
    return base, v


def fn_inplace_base(m, x, steps, op, other):
    base = x.clone()
    v = apply_chain(m, base, steps)
    apply_inplace(m, base, op, other)
    return v, base


def fn_inplace_leaf_view(m, x, steps, op, other):
    """In-place on a view of a leaf that requires grad: PyTorch raises; without grad both write through."""
    v = apply_chain(m, x, steps)
    apply_inplace(m, v, op, other)
    return x


_SAVERS = {"exp": lambda m, t: t.exp(), "sigmoid": lambda m, t: t.sigmoid(), "tanh": lambda m, t: t.tanh(),
           "pow2": lambda m, t: t.pow(2), "mul_self": lambda m, t: t * t, "sqrt": lambda m, t: t.abs().sqrt(),
           "relu": lambda m, t: t.relu(), "softmax": lambda m, t: t.softmax(-1) if t.dim() else t.exp()}


@st.composite
def saved_case(draw):
    case = draw(inplace_case())
    return Case(case.args + [draw(st.sampled_from(sorted(_SAVERS))), draw(st.sampled_from(["input", "output"]))])


def fn_saved(m, x, steps, op, other, saver, which):
    """Modify a tensor an op saved for backward (through a view): backward must raise in both, or neither."""
    y = x.clone()
    z = _SAVERS[saver](m, y)
    target = y if which == "input" else z
    v = apply_chain(m, target, steps)
    apply_inplace(m, v, op, other)
    return z


# ------------------------------------------------------------------------------------------------ indexing
def make_index(m, desc):
    def one(c):
        k = c[0]
        if k == "int":
            return c[1]
        if k == "slice":
            return slice(*c[1:])
        if k == "none":
            return None
        if k == "ell":
            return Ellipsis
        if k == "list":
            return list(c[1])
        if k == "bool":
            return c[1]
        if k == "tensor":
            dt = getattr(m, c[1])
            return m.tensor(c[2], dtype=dt)
        if k == "zero_d":
            return m.tensor(c[1])
        raise ValueError(c)
    kind, comps = desc
    if kind == "single":
        return one(comps[0])
    if kind == "list_of_0d":
        return [m.tensor(c[1]) for c in comps]
    return tuple(one(c) for c in comps)


@st.composite
def index_desc(draw, shape):
    nd = len(shape)
    comps = []
    dim = 0
    used_ell = False
    for _ in range(draw(st.integers(1, 3))):
        n = shape[dim] if dim < nd else 1
        kinds = ["int", "slice", "slice", "none", "list", "tensor", "mask", "zero_d", "ell", "bool", "uint8mask",
                 "empty_list"]
        k = draw(st.sampled_from(kinds))
        lo, hi = (-n, n - 1) if draw(st.integers(0, 14)) else (-n - 2, n + 1)
        if k == "int":
            comps.append(("int", draw(st.integers(lo, max(hi, lo)))))
            dim += 1
        elif k == "slice":
            comps.append(("slice", draw(st.none() | st.integers(-n - 1, n + 1)),
                          draw(st.none() | st.integers(-n - 1, n + 1)), draw(st.sampled_from([None, 1, 2, 3]))))
            dim += 1
        elif k == "none":
            comps.append(("none",))
        elif k == "ell":
            if used_ell:
                continue
            used_ell = True
            comps.append(("ell",))
            dim = nd
        elif k == "bool":
            comps.append(("bool", draw(st.booleans())))
        elif k == "empty_list":
            comps.append(("list", []))
            dim += 1
        elif k in ("list", "tensor"):
            idx = draw(st.lists(st.integers(lo, max(hi, lo)), min_size=1, max_size=3))
            if k == "list":
                comps.append(("list", idx))
            else:
                if draw(st.booleans()) and len(idx) >= 2:
                    idx = [idx[:2], idx[:1] * 2]
                comps.append(("tensor", draw(st.sampled_from(["int64", "int32", "int64"])), idx))
            dim += 1
        elif k == "zero_d":
            comps.append(("zero_d", draw(st.integers(lo, max(hi, lo)))))
            dim += 1
        elif k in ("mask", "uint8mask"):
            span = draw(st.integers(1, max(1, min(2, nd - dim)))) if dim < nd else 1
            ms = tuple(shape[dim:dim + span]) if dim < nd else (1,)
            mask = draw(st.lists(st.booleans(), min_size=int(np.prod(ms)), max_size=int(np.prod(ms))))
            mask = np.array(mask, dtype=bool).reshape(ms).tolist()
            if k == "mask":
                comps.append(("tensor", "bool", mask))
            else:
                comps.append(("tensor", "uint8", np.array(mask, dtype=np.uint8).tolist()))
            dim += span
    form = draw(st.sampled_from(["tuple", "tuple", "single", "list_of_0d"]))
    if form == "single" or len(comps) == 1 and draw(st.booleans()):
        return ("single", comps[:1])
    if form == "list_of_0d":
        n0 = shape[0] if nd else 1
        return ("list_of_0d", [("zero_d", draw(st.integers(-n0, max(n0 - 1, 0))))
                               for _ in range(draw(st.integers(1, 2)))])
    return ("tuple", comps)


@st.composite
def getitem_case(draw):
    dt = draw(dtypes(ALL))
    shp = draw(shapes(0, 4))
    x = draw(tensor(dt, shp, "finite"))
    return Case([x, draw(index_desc(shp))])


@st.composite
def setitem_case(draw):
    case = draw(getitem_case())
    x, desc = case.args
    try:
        rs = tuple(torch.from_numpy(x.data)[make_index(torch, desc)].shape) if x.layout != "expanded" else ()
    except Exception:  # noqa: BLE001
        rs = ()
    if draw(st.booleans()):
        val = draw(scalar(draw(st.sampled_from(["int", "float", "bool"]))))
    else:
        k = draw(st.integers(0, len(rs)))
        val = draw(tensor(draw(dtypes(FLOATS if x.data.dtype.kind == "f" else ALL)), rs[k:], "finite",
                          layouts=False))
    return Case([x, desc, val])


def fn_setitem(m, x, desc, val):
    base = x.clone()
    base[make_index(m, desc)] = val
    return base


# ------------------------------------------------------------------------------------------------ index ops
@st.composite
def dim_index_case(draw, op):
    dt = draw(dtypes(NUM))
    shp = draw(shapes(1, 3, allow_empty=False))
    x = draw(tensor(dt, shp, "finite"))
    nd = len(shp)
    dim = draw(st.integers(-nd, nd - 1))
    n = shp[dim]
    lo, hi = (-n, n - 1) if draw(st.integers(0, 9)) == 0 else (0, n - 1)
    if draw(st.integers(0, 19)) == 0:
        hi += 1
    if op in ("index_select", "index_add", "index_copy", "index_fill"):
        idx = draw(st.lists(st.integers(lo, hi), min_size=0, max_size=4))
        ishape = (len(idx),)
    else:
        ishape = tuple(draw(st.integers(1, s)) if i != dim % nd else draw(st.integers(1, 4))
                       for i, s in enumerate(shp))
        idx = draw(st.lists(st.integers(lo, hi), min_size=int(np.prod(ishape)),
                            max_size=int(np.prod(ishape))))
    idx_arr = Arr(np.array(idx, dtype=np.int64).reshape(ishape))
    src_shape = list(shp)
    if op in ("index_add", "index_copy"):
        src_shape[dim] = len(idx)
    elif op in ("scatter", "scatter_add", "scatter_reduce"):
        src_shape = list(ishape)
    src = draw(tensor(dt, tuple(src_shape), "finite", layouts=False))
    return Case([x, dim, idx_arr, src])


def _idx_op(op):
    def fn(m, x, dim, idx, src):
        if op == "index_select":
            return m.index_select(x, dim, idx)
        if op == "gather":
            return m.gather(x, dim, idx)
        if op == "take_along_dim":
            return m.take_along_dim(x, idx, dim)
        if op == "scatter":
            return m.scatter(x, dim, idx, src)
        if op == "scatter_add":
            return m.scatter_add(x, dim, idx, src)
        if op == "scatter_reduce":
            return m.scatter_reduce(x, dim, idx, src, reduce="amax")
        if op == "index_add":
            return m.index_add(x, dim, idx, src, alpha=2)
        if op == "index_copy":
            return m.index_copy(x, dim, idx, src)
        if op == "index_fill":
            return m.index_fill(x, dim, idx, -1)
        if op == "take":
            return m.take(x, idx)
        raise ValueError(op)
    return fn


# ------------------------------------------------------------------------------------------------ creation
@st.composite
def range_case(draw, op):
    ints = st.integers(-5, 8)
    fl = st.sampled_from([0.5, -1.5, 2.25, 3.0, 0.1, -0.3, 7.9])
    num = st.one_of(ints, fl)
    dt = draw(st.none() | st.sampled_from(["int64", "int32", "float32", "float64", "uint8", "int16", "float16"]))
    if op == "arange":
        a = [draw(num)]
        if draw(st.booleans()):
            a.append(draw(num))
            if draw(st.booleans()):
                a.append(draw(st.sampled_from([1, 2, -1, 0.5, -0.7, 3, 0])))
        return Case([a, dt])
    return Case([[draw(num), draw(num), draw(st.integers(0, 6))], dt])


def fn_range(op):
    def fn(m, a, dt):
        kw = {"dtype": getattr(m, dt)} if dt else {}
        return getattr(m, op)(*a, **kw)
    return fn


@st.composite
def full_case(draw):
    shp = draw(shapes(0, 3))
    v = draw(scalar())
    dt = draw(st.none() | st.sampled_from(["int64", "float32", "float64", "bool", "uint8"]))
    return Case([shp, v, dt])


def fn_full(m, shp, v, dt):
    kw = {"dtype": getattr(m, dt)} if dt else {}
    return m.full(shp, v, **kw)


@st.composite
def literal_case(draw):
    elem = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, -1.25, 2.0]), st.booleans())
    data = draw(st.one_of(elem, st.lists(elem, max_size=3), st.lists(st.lists(elem, min_size=2, max_size=2),
                                                                      max_size=2)))
    dt = draw(st.none() | st.sampled_from(["int64", "float32", "float64", "bool", "uint8", "int8"]))
    return Case([data, dt])


def fn_literal(m, data, dt):
    kw = {"dtype": getattr(m, dt)} if dt else {}
    return m.tensor(data, **kw)


def register(add):
    add("view_chain", "view", lambda m, x, steps: apply_chain(m, x, steps), chain_case())
    add("inplace_through_view", "inplace", fn_inplace_view, inplace_case())
    add("inplace_on_base_then_view", "inplace", fn_inplace_base, inplace_case("base"))
    add("inplace_on_leaf_view", "inplace", fn_inplace_leaf_view, inplace_case(), alias=False)
    add("inplace_saved_tensor", "autograd", fn_saved, saved_case())
    add("getitem", "index", lambda m, x, desc: x[make_index(m, desc)], getitem_case())
    add("setitem", "index", fn_setitem, setitem_case())
    for op in ("index_select", "gather", "take_along_dim", "scatter", "scatter_add", "scatter_reduce", "index_add",
               "index_copy", "index_fill", "take"):
        add(op, "index", _idx_op(op), dim_index_case(op))
    add("masked_select", "index", lambda m, x, c: m.masked_select(x, c > 0),
        st.tuples(st.integers(0, 1)).flatmap(lambda _: _binary_float()))
    add("nonzero", "index", lambda m, x: m.nonzero(x), _unary(ALL), grad=False)
    add("argwhere", "index", lambda m, x: m.argwhere(x), _unary(ALL), grad=False)
    add("nonzero_tuple", "index", lambda m, x: m.nonzero(x, as_tuple=True), _unary(ALL), grad=False)
    for op in ("arange", "linspace", "logspace"):
        add(op, "creation", fn_range(op), range_case(op), grad=False)
    add("full", "creation", fn_full, full_case(), grad=False)
    add("tensor_literal", "creation", fn_literal, literal_case(), grad=False)
    add("zeros_like_dtype", "creation", lambda m, x, dt: m.zeros_like(x, dtype=getattr(m, dt) if dt else None),
        st.tuples(_unary(ALL), st.none() | st.sampled_from(["int64", "float32", "bool"]))
        .map(lambda t: Case(t[0].args + [t[1]])))
    add("full_like", "creation", lambda m, x, v: m.full_like(x, v),
        st.tuples(_unary(ALL), scalar()).map(lambda t: Case(t[0].args + [t[1]])))
    add("eye", "creation", lambda m, n, k, dt: m.eye(n, k, dtype=getattr(m, dt)) if k is not None
        else m.eye(n, dtype=getattr(m, dt)),
        st.tuples(st.integers(0, 4), st.none() | st.integers(0, 4), st.sampled_from(["float32", "int64", "bool"]))
        .map(lambda t: Case(list(t))), grad=False)
    for op in ("tril", "triu"):
        add(op, "creation", (lambda o: lambda m, x, k: getattr(m, o)(x, k))(op),
            st.tuples(_unary(ALL, 2), st.integers(-2, 2)).map(lambda t: Case(t[0].args + [t[1]])))
    add("tril_indices", "creation", lambda m, r, c, o: m.tril_indices(r, c, o),
        st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(-2, 2)).map(lambda t: Case(list(t))),
        grad=False)
    add("triu_indices", "creation", lambda m, r, c, o: m.triu_indices(r, c, o),
        st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(-2, 2)).map(lambda t: Case(list(t))),
        grad=False)
    add("meshgrid", "creation", lambda m, a, b, ind: m.meshgrid(a.flatten(), b.flatten(), indexing=ind),
        st.tuples(_binary_float(), st.sampled_from(["ij", "xy"])).map(lambda t: Case(t[0].args + [t[1]])))
    add("cartesian_prod", "creation", lambda m, a, b: m.cartesian_prod(a.flatten(), b.flatten()),
        _binary_float())
    add("diag", "creation", lambda m, x, k: m.diag(x, k),
        st.tuples(_unary(ALL, 1, 2), st.integers(-2, 2)).map(lambda t: Case(t[0].args + [t[1]])))
    add("diag_embed", "creation", lambda m, x: m.diag_embed(x), _unary(FLOATS, 1, 3))
    for op in ("cat", "stack", "hstack", "vstack", "dstack", "column_stack"):
        add(op, "view", (lambda o: lambda m, a, b: getattr(m, o)([a, b]) if o in ("hstack", "vstack", "dstack",
                                                                                "column_stack")
                         else getattr(m, o)([a, b], dim=-1))(op), _pair_same_rank())
    add("flip", "view", lambda m, x, dims: m.flip(x, dims),
        st.tuples(_unary(ALL, 1), st.sampled_from([(0,), (-1,), (0, -1)])).map(lambda t: Case(t[0].args + [t[1]])))
    add("roll", "view", lambda m, x, s, d: m.roll(x, s, d),
        st.tuples(_unary(ALL, 1), st.integers(-3, 3), st.sampled_from([0, -1, None]))
        .map(lambda t: Case(t[0].args + [t[1], t[2]])))
    add("repeat", "view", lambda m, x, r: x.repeat(*r),
        st.tuples(_unary(ALL, 0, 2), st.sampled_from([(2,), (1, 2), (2, 1, 3), (0, 2)]))
        .map(lambda t: Case(t[0].args + [t[1]])))
    add("repeat_interleave", "view", lambda m, x, r, d: m.repeat_interleave(x, r, dim=d),
        st.tuples(_unary(ALL, 1, 2), st.integers(0, 3), st.sampled_from([0, -1, None]))
        .map(lambda t: Case(t[0].args + [t[1], t[2]])))
    add("tile", "view", lambda m, x, r: m.tile(x, r),
        st.tuples(_unary(ALL, 0, 2), st.sampled_from([(2,), (1, 2), (2, 1, 3)]))
        .map(lambda t: Case(t[0].args + [t[1]])))
    add("clone_preserve", "view", lambda m, x: x.clone(memory_format=m.preserve_format), _unary(ALL, 0, 4))
    add("contiguous", "view", lambda m, x: x.contiguous(), _unary(ALL, 0, 4))
    add("Tensor.to_dtype", "view", lambda m, x, dt: x.to(getattr(m, dt)),
        st.tuples(_unary(ALL), st.sampled_from(["float32", "float64", "int64", "bool", "uint8", "int8", "float16"]))
        .map(lambda t: Case(t[0].args + [t[1]])))
    add("unfold_method", "view", lambda m, x, d, s, st_: x.unfold(d, s, st_),
        st.tuples(_unary(ALL, 1, 3), st.integers(-1, 0), st.integers(1, 3), st.integers(1, 2))
        .map(lambda t: Case(t[0].args + list(t[1:]))))
    add("as_strided", "view", lambda m, x: x.contiguous().as_strided((2, 2), (1, 1)) if x.numel() >= 3
        else x.contiguous().as_strided((1,), (1,)) if x.numel() else x, _unary(ALL, 1, 2))
    add("autograd_reuse", "autograd", fn_autograd_reuse, _unary(FLOATS))
    add("autograd_retain_hook", "autograd", fn_hook, _unary(FLOATS))
    add("detach_inplace", "autograd", fn_detach_inplace, _unary(FLOATS, 1))


def fn_autograd_reuse(m, x):
    """A tensor used several times, an in-place op on an intermediate, a no_grad block."""
    y = x * 2
    z = y.exp() + y * y
    z.mul_(0.5)
    with m.no_grad():
        w = z * 3
    return z + y.sin(), w


def fn_hook(m, x):
    y = x * 3
    y.register_hook(lambda g: g * 2)
    return (y * y).sum() if y.dim() else y * y


def fn_detach_inplace(m, x):
    y = x * 2
    d = y.detach()
    d.add_(1)   # shares storage with y: y's value changes too
    return y * 1, d


def _unary(dts, min_dims=0, max_dims=4):
    from .strategies import unary_case
    return unary_case(dts, min_dims=min_dims, max_dims=max_dims)


def _binary_float():
    from .strategies import binary_case
    return binary_case(FLOATS, scalars=False)


@st.composite
def _pair_same_rank(draw):
    dt = draw(dtypes(ALL))
    shp = draw(shapes(1, 3))
    other = list(shp)
    if draw(st.booleans()):
        other[-1] = draw(st.integers(0, 3))
    return Case([draw(tensor(dt, shp, "finite")), draw(tensor(draw(dtypes(ALL)), tuple(other), "finite"))])
