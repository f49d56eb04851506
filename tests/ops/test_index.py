"""Indexing vs PyTorch: __getitem__ (ints, slices, None, Ellipsis, masks, integer arrays with duplicates),
__setitem__, gather/scatter/scatter_add, index_select, masked_fill, take_along_dim, and the index errors."""
import numpy as np
import pytest
import torch

import ember
from helpers import compare, gradcheck

IDX = np.array([0, 2, 2, 1])
MASK = np.array([True, False, True])


def _t(m, a):
    return m.tensor(a)


GETITEM = {
    "int": lambda m, x: x[1],
    "neg_int": lambda m, x: x[-1],
    "int_int": lambda m, x: x[1, 2],
    "slice": lambda m, x: x[1:3],
    "slice_step": lambda m, x: x[::2, 1:],
    "slice_neg": lambda m, x: x[-2:, :-1],
    "slice_beyond": lambda m, x: x[1:100],
    "slice_empty": lambda m, x: x[3:1],
    "none": lambda m, x: x[None, :, None],
    "ellipsis": lambda m, x: x[..., 1],
    "ellipsis_none": lambda m, x: x[..., None],
    "int_list_dup": lambda m, x: x[[0, 2, 2, 1]],
    "int_tensor_dup": lambda m, x: x[_t(m, IDX)],
    "int_tensor_2d": lambda m, x: x[_t(m, np.array([[0, 1], [2, 2]]))],
    "int_tensor_neg": lambda m, x: x[_t(m, np.array([-1, 0, -1]))],
    "two_arrays": lambda m, x: x[_t(m, IDX), _t(m, np.array([1, 1, 0, 3]))],
    "array_slice": lambda m, x: x[_t(m, IDX), 1:3],
    "slice_array": lambda m, x: x[:, _t(m, np.array([3, 0, 3]))],
    "mask_rows": lambda m, x: x[_t(m, MASK)],
    "mask_full": lambda m, x: x[x > 0],
    "mask_cols": lambda m, x: x[:, _t(m, np.array([True, False, True, True]))],
    "int_and_array": lambda m, x: x[1, _t(m, np.array([0, 0, 3]))],
    "scalar_tensor_idx": lambda m, x: x[_t(m, np.array(2))],
}


@pytest.mark.parametrize("name", sorted(GETITEM))
def test_getitem_matches_torch(name):
    compare(GETITEM[name], [(3, 4)])


@pytest.mark.parametrize("name", sorted(GETITEM))
def test_getitem_noncontiguous(name):
    compare(lambda m, x: GETITEM[name](m, x.t()), [(4, 3)])


@pytest.mark.parametrize("name", sorted(GETITEM))
def test_getitem_gradcheck(name):
    if name == "mask_full":
        pytest.skip("data-dependent mask")
    assert gradcheck(lambda x: GETITEM[name](ember, x), [(3, 4)])


def test_getitem_3d_and_0d():
    compare(lambda m, x: x[1, ..., None, 1:], [(2, 3, 4)])
    compare(lambda m, x: x[..., 0], [(2, 3, 4)])
    compare(lambda m, x: x[None], [()])
    compare(lambda m, x: x[...], [()])
    compare(lambda m, x: x[:, [0, 2]][[1, 1]], [(2, 3, 4)])


def test_getitem_duplicates_accumulate():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 0, 2]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_getitem_double_backward():
    x = ember.randn(5, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: (t[[0, 0, 3]] ** 2).sum() * t[1:3].sum(), [x])


@pytest.mark.parametrize("index,match", [
    (5, r"index.*5.*out of range.*\(3, 4\)|out of bounds"),
    (-4, r"-4.*\(3, 4\)"),
    ((1, 7), r"7.*\(3, 4\)"),
    ((0, 0, 0), r"(?i)\(3, 4\).*too many indices"),
    ([0, 3], r"\(3, 4\).*index 3"),
    (np.array([[0], [9]]), r"9|out of"),
    (1.5, r"(?i)float|type"),
    ("a", r"(?i)str|type"),
])
def test_getitem_errors(index, match):
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match=match):
        x[index]


def test_index_errors_tensor_and_mask():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match=r"(?i)float"):
        x[ember.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match=r"(?i)mask|shape|dimension"):
        x[ember.tensor([True, False])]
    with pytest.raises(IndexError, match=r"(?i)out of|range|bounds"):
        x[ember.tensor([1, 3])]


# -- setitem --------------------------------------------------------------------------------------------------------
SETITEM = [
    ("int", lambda x, v: x.__setitem__(1, v[0])),
    ("slice", lambda x, v: x.__setitem__(slice(0, 2), v[:2])),
    ("scalar", lambda x, v: x.__setitem__((0, 1), 5.0)),
    ("scalar_bcast", lambda x, v: x.__setitem__(slice(None), 2.0)),
    ("mask", lambda x, v: x.__setitem__(x > 0, 0.0)),
    ("int_array", lambda x, v: x.__setitem__([0, 2], v[1:3])),
    ("bcast_row", lambda x, v: x.__setitem__(slice(1, 3), v[0])),
]


@pytest.mark.parametrize("name,fn", SETITEM, ids=[s[0] for s in SETITEM])
def test_setitem_graph(name, fn):
    # x is a non-leaf (x0 * 1), v requires grad: gradients flow to x0 (except overwritten slots) and v
    def f(m, x0, v):
        x = x0 * 1.0
        fn(x, v)
        return x * 2
    compare(f, [(3, 4), (3, 4)])


@pytest.mark.parametrize("name,fn", SETITEM, ids=[s[0] for s in SETITEM])
def test_setitem_no_grad(name, fn):
    a = np.random.default_rng(0).standard_normal((3, 4))
    e, t = ember.tensor(a), torch.tensor(a)
    fn(e, ember.tensor(a * 2))
    fn(t, torch.tensor(a * 2))
    np.testing.assert_allclose(e.numpy(), t.numpy())


def test_setitem_leaf_requires_grad_raises():
    x = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x[0] = 1.0
    with ember.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]


def test_setitem_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match=r"\(3, 4\)"):
        x[5] = 1.0
    with pytest.raises(RuntimeError, match=r"setitem.*\(2,\).*\(3, 4\)"):
        x[0] = ember.zeros(2)
    y = ember.zeros(3, 4) * ember.ones(1, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"setitem|shape"):
        y[0] = ember.zeros(2)


# -- gather / scatter / index_select / masked_fill / take_along_dim ---------------------------------------------
GI = np.array([[0, 2, 2], [1, 0, 0]])


def test_gather():
    for dim in (0, 1, -1):
        compare(lambda m, x: m.gather(x, dim, _t(m, GI)), [(3, 4)])
    compare(lambda m, x: x.t().gather(1, _t(m, GI)), [(4, 3)])
    assert gradcheck(lambda x: ember.gather(x, 1, ember.tensor(GI)), [(2, 4)])


def test_scatter_add_and_scatter():
    for dim in (0, 1):
        compare(lambda m, x, s: m.scatter_add(x, dim, _t(m, GI), s), [(3, 4), (2, 3)])
        compare(lambda m, x, s: x.scatter(dim, _t(m, np.array([[0, 2, 1], [1, 0, 2]])), s), [(3, 4), (2, 3)])
    compare(lambda m, x: x.scatter(1, _t(m, GI), 1.5), [(3, 4)])
    compare(lambda m, x, s: x.scatter(1, _t(m, GI), s, reduce="add") if m is torch else
            x.scatter(1, _t(m, GI), s, reduce="add"), [(3, 4), (2, 3)], grad=False)
    assert gradcheck(lambda x, s: ember.scatter_add(x, 1, ember.tensor(GI), s), [(2, 4), (2, 3)])


def test_index_select():
    for dim in (0, 1, -1):
        compare(lambda m, x: m.index_select(x, dim, _t(m, np.array([2, 0, 2]))), [(3, 4)])
    compare(lambda m, x: x.index_select(0, _t(m, np.array([], np.int64))), [(3, 4)])
    assert gradcheck(lambda x: ember.index_select(x, 0, ember.tensor([1, 1, 0])), [(3, 2)])


def test_index_add():
    compare(lambda m, x, s: x.index_add(0, _t(m, np.array([0, 2, 0])), s), [(3, 4), (3, 4)])
    compare(lambda m, x, s: x.index_add(1, _t(m, np.array([3, 3])), s, alpha=2.0), [(3, 4), (3, 2)])


def test_masked_fill():
    mask = np.array([[True, False, False, True]])
    compare(lambda m, x: x.masked_fill(_t(m, mask), -1.5), [(3, 4)])
    compare(lambda m, x: m.masked_fill(x, _t(m, mask), float("-inf")).softmax(-1), [(3, 4)])
    compare(lambda m, x, v: x.masked_fill(_t(m, mask), v.sum()), [(3, 4), (2,)])
    with pytest.raises(RuntimeError, match="bool"):
        ember.zeros(3).masked_fill(ember.tensor([1, 0, 1]), 1.0)
    with pytest.raises(RuntimeError, match=r"masked_fill.*\(2,\).*\(3,\)"):
        ember.zeros(3).masked_fill(ember.tensor([True, False]), 1.0)


def test_take_along_dim_and_masked_select():
    idx = np.array([[0, 3], [1, 1], [2, 0]])
    compare(lambda m, x: m.take_along_dim(x, _t(m, idx), 1), [(3, 4)])
    compare(lambda m, x: m.take_along_dim(x, _t(m, np.array([5, 0, 11]))), [(3, 4)])
    compare(lambda m, x: m.take_along_dim(x, _t(m, np.array([[0, 2]])), 1), [(3, 4)])
    compare(lambda m, x: m.masked_select(x, x > 0), [(3, 4)])
    compare(lambda m, x: x.argmax(1, keepdim=True) * 0 + m.take_along_dim(x, x.argmax(1, keepdim=True), 1), [(3, 4)])


def test_nonzero_where_tril_triu_diag():
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    np.testing.assert_array_equal(ember.nonzero(ember.tensor(a)).numpy(), torch.nonzero(torch.tensor(a)).numpy())
    for e, t in zip(ember.where(ember.tensor(a) != 0), torch.where(torch.tensor(a) != 0)):
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    compare(lambda m, x: m.tril(x), [(3, 4)])
    compare(lambda m, x: m.triu(x, 1), [(3, 4)])
    compare(lambda m, x: m.tril(x, -1), [(2, 3, 3)])
    compare(lambda m, x: m.diagonal(x), [(3, 4)])
    compare(lambda m, x: m.diagonal(x, 1), [(3, 4)])
    compare(lambda m, x: m.diag(x), [(3,)])
    compare(lambda m, x: m.trace(x), [(3, 3)])


@pytest.mark.parametrize("fn,exc,match", [
    (lambda x: x.gather(1, ember.tensor([[0, 4]])), RuntimeError, r"gather.*4.*size 4|out of"),
    (lambda x: x.gather(1, ember.tensor([[0.0, 1.0]])), RuntimeError, r"gather.*int64"),
    (lambda x: x.gather(1, ember.tensor([0, 1])), RuntimeError, r"gather.*dimensions"),
    (lambda x: x.gather(2, ember.tensor([[0, 1]])), IndexError, r"(?i)gather.*dim.*range"),
    (lambda x: x.index_select(0, ember.tensor([3])), IndexError, r"index_select.*size 3"),
    (lambda x: x.index_select(0, ember.tensor([[0]])), IndexError, r"index_select"),
    (lambda x: x.scatter_add(1, ember.tensor([[5]]), ember.ones(1, 1)), RuntimeError, r"scatter_add.*5"),
    (lambda x: x.index_add(0, ember.tensor([7]), ember.ones(1, 4)), RuntimeError, r"index_add.*7"),
    (lambda x: ember.take_along_dim(x, ember.tensor([[9]]), 1), RuntimeError, r"9"),
])
def test_gather_family_errors(fn, exc, match):
    x = ember.zeros(3, 4)
    with pytest.raises(exc, match=match):
        fn(x)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_argsort_topk(dim, descending):
    compare(lambda m, x: m.sort(x, dim=dim, descending=descending), [(3, 4)])
    compare(lambda m, x: m.argsort(x, dim=dim, descending=descending), [(3, 4)])
    compare(lambda m, x: x.topk(2, dim=dim, largest=not descending), [(3, 4)])
    assert gradcheck(lambda x: ember.sort(x, dim=dim, descending=descending).values, [(3, 4)])
    assert gradcheck(lambda x: x.topk(2, dim=dim).values, [(3, 4)])
    with pytest.raises(RuntimeError, match="topk.*5"):
        ember.randn(3, 4).topk(5, dim=dim)


def test_index_put():
    rows, cols = np.array([0, 2]), np.array([1, 3])
    compare(lambda m, x, v: x.index_put((_t(m, rows), _t(m, cols)), v), [(3, 4), (2,)])
    compare(lambda m, x, v: x.index_put((_t(m, np.array([0, 0])),), v, accumulate=True), [(3, 4), (4,)])
    compare(lambda m, x, v: m.index_put(x, (_t(m, np.array([0, 0, 2])),), v, accumulate=True), [(3, 4), (3, 4)])
    x = ember.zeros(3)
    x.index_put_((ember.tensor([0, 0]),), ember.tensor(1.0), accumulate=True)
    assert x.tolist() == [2.0, 0.0, 0.0]


def _random_index(rng, shape):
    idx, dims_left, used_ell, adv = [], len(shape), False, 0
    for _ in range(rng.integers(1, len(shape) + 2)):
        kind = rng.choice(["int", "slice", "none", "ell", "arr", "mask"])
        if kind == "ell" and not used_ell:
            idx.append(Ellipsis)
            used_ell = True
            continue
        if kind == "none":
            idx.append(None)
            continue
        if dims_left == 0 or used_ell:
            break
        size = shape[len(shape) - dims_left]
        if kind == "int":
            idx.append(int(rng.integers(-size, size)))
        elif kind == "slice":
            idx.append(slice(rng.choice([None, int(rng.integers(-size, size + 1))]),
                             rng.choice([None, int(rng.integers(-size, size + 2))]), rng.choice([None, 1, 2])))
        elif kind == "arr":
            idx.append(("arr", rng.integers(-size, size, int(rng.integers(1, 4)))))
            adv += 1
        else:
            idx.append(("mask", rng.random(size) < 0.5))
            adv += 1
        dims_left -= 1
    return idx, adv


def test_random_indices_match_torch():
    """Mixed ints / slices / None / Ellipsis / one integer array or mask: torch's placement of the result dims
    (ints select first), values and gradients."""
    rng = np.random.default_rng(0)
    done = 0
    while done < 150:
        shape = tuple(int(s) for s in rng.integers(1, 4, int(rng.integers(1, 4))))
        idx, adv = _random_index(rng, shape)
        if adv > 1:
            continue

        def conv(m):
            return tuple(m.tensor(i[1]) if isinstance(i, tuple) else i for i in idx)
        try:
            torch.zeros(shape)[conv(torch)]
        except (IndexError, RuntimeError):
            continue
        compare(lambda m, x: x[conv(m)], [shape])
        done += 1


def test_setitem_int_and_array_separated():
    for m in (torch, ember):
        x = m.zeros(2, 2, 4)
        x[0, None, :, m.tensor([0, 3])] = m.tensor([1.0, 2.0])
        assert x.nonzero().tolist() == [[0, 0, 0], [0, 0, 3], [0, 1, 0], [0, 1, 3]]
    compare(lambda m, w, v: (lambda y: (y.__setitem__((1, m.tensor([0, 2])), v), y * y)[1])(w * 1), [(2, 3), (2,)])


# -- every index form PyTorch accepts, in get and set (issue 11 class 7, issue 12 class 6) --------------------------
_M = np.arange(12.0).reshape(3, 4)


def _forms():
    # (id, index builder taking the library module)
    return [
        ("uint8_mask", lambda m: m.tensor([1, 0, 1], dtype=m.uint8)),
        ("uint8_mask_2d", lambda m: m.tensor((_M % 3 == 0).astype(np.uint8))),
        ("list_of_0d_tensors", lambda m: [m.tensor(1), m.tensor(2)]),
        ("list_int_and_0d", lambda m: [1, m.tensor(2)]),
        ("list_of_1d_tensors", lambda m: [m.tensor([1, 0]), m.tensor([2, 3])]),
        ("list_of_lists", lambda m: [[0, 1], [1, 2]]),
        ("list_with_slice", lambda m: [slice(None), 1]),
        ("list_with_none", lambda m: [None, 1]),
        ("list_of_ints", lambda m: [2, 0, 2]),
        ("list_of_bools", lambda m: [True, False, True]),
        ("empty_list", lambda m: []),
        ("range", lambda m: range(1, 3)),
        ("range_in_tuple", lambda m: (slice(None), range(0, 4, 2))),
        ("numpy_ints", lambda m: np.array([0, 2])),
        ("numpy_bools", lambda m: np.array([True, False, True])),
        ("numpy_0d", lambda m: np.array(1)),
        ("numpy_int_scalar", lambda m: np.int64(2)),
        ("tensor_0d", lambda m: m.tensor(1)),
        ("tensor_0d_pair", lambda m: (m.tensor(1), m.tensor(-1))),
        ("tensor_0d_bool", lambda m: m.tensor(True)),
        ("bool_true", lambda m: True),
        ("bool_false", lambda m: False),
        ("none_ellipsis", lambda m: (None, ..., 1)),
        ("tuple_in_tuple", lambda m: ((0, 2),)),
        ("int_then_list", lambda m: (1, [0, 3])),
        ("list_slice_list", lambda m: ([0, 2], slice(1, 3))),
        ("mask_and_list", lambda m: (m.tensor([True, False, True]), [1, 2])),
        ("neg_list", lambda m: [-1, -3]),
    ]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name,make", _forms(), ids=[f[0] for f in _forms()])
def test_index_forms_get_as_torch(name, make):
    e, t = ember.tensor(_M.copy()), torch.tensor(_M.copy())
    re_, rt = e[make(ember)], t[make(torch)]
    assert tuple(re_.shape) == tuple(rt.shape)
    np.testing.assert_array_equal(re_.numpy(), rt.numpy())
    assert re_._is_view() == rt._is_view()
    assert re_.stride() == rt.stride()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name,make", [f for f in _forms() if not f[0].startswith("uint8")],
                         ids=[f[0] for f in _forms() if not f[0].startswith("uint8")])
def test_index_forms_set_as_torch(name, make):
    for value in (lambda m, shp: -1.0, lambda m, shp: m.arange(float(np.prod(shp[-1:]) if shp else 1), dtype=m.float64).reshape(shp[-1:])):
        e, t = ember.tensor(_M.copy()), torch.tensor(_M.copy())
        shp = tuple(t[make(torch)].shape)
        t[make(torch)] = value(torch, shp)
        e[make(ember)] = value(ember, shp)
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_index_forms_gradients():
    compare(lambda m, x: x[[m.tensor(1), m.tensor(2)]] * 2, [(3, 4)])
    compare(lambda m, x: x[range(1, 3)] * 2, [(3, 4)])
    compare(lambda m, x: x[np.array([0, 2, 0])] * 2, [(3, 4)])
    compare(lambda m, x: x[[]] * 2, [(3, 4)])
    compare(lambda m, x: x[None, ..., 1] * 2, [(3, 4)])


def test_index_warnings_as_torch():
    x = ember.zeros(3, 4)
    with pytest.warns(UserWarning, match="uint8"):
        x[ember.tensor([1, 0, 1], dtype=ember.uint8)]
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        x[[ember.tensor(1), ember.tensor(2)]]


@pytest.mark.parametrize("index,exc", [(slice(None, None, -1), ValueError), (slice(None, None, 0), ValueError),
                                       (1.0, IndexError), (ember.tensor([1.0]), IndexError)])
def test_index_form_errors(index, exc):
    x = ember.zeros(3, 4)
    with pytest.raises(exc):
        x[index]


def test_setitem_value_types_as_torch():
    x = ember.zeros(3, 4)
    with pytest.raises(TypeError, match="list"):
        x[0] = [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(TypeError, match="ndarray"):
        x[0] = np.ones(4)
    with pytest.raises(RuntimeError, match="dtype"):
        ember.arange(4)[ember.tensor([0, 1])] = ember.tensor([1.5, 2.5])
    x[0, 1] = ember.tensor([9.0])           # a one-element value fills a 0-d target
    x[1] = ember.ones(1, 1, 4)              # leading size-1 dims of the value are dropped
    x[2, 1:3] = ember.tensor([True, False])
    assert x.tolist() == [[0.0, 9.0, 0.0, 0.0], [1.0] * 4, [0.0, 1.0, 0.0, 0.0]]


@pytest.mark.parametrize("op", [
    lambda m, x: x.index_select(0, m.tensor([-1])),
    lambda m, x: x.index_select(1, m.tensor([4])),
    lambda m, x: x.gather(1, m.tensor([[-1]])),
    lambda m, x: x.gather(1, m.tensor([[4]])),
    lambda m, x: x.scatter(0, m.tensor([[-1]]), 1.0),
    lambda m, x: x.scatter_add(0, m.tensor([[-1]]), m.ones(1, 1)),
    lambda m, x: x.index_add(0, m.tensor([-1]), m.ones(1, 4)),
])
def test_negative_or_out_of_range_indices_raise_as_torch(op):
    with pytest.raises((IndexError, RuntimeError)):
        op(torch, torch.zeros(3, 4))
    with pytest.raises((IndexError, RuntimeError), match=r"(?i)out of (range|bounds)"):
        op(ember, ember.zeros(3, 4))


def test_take_and_take_along_dim_wrap_negative_indices_as_torch():
    compare(lambda m, x: x.take(m.tensor([-1, 0])), [(3, 4)])
    compare(lambda m, x: m.take_along_dim(x, m.tensor([[-1], [0], [-4]]), 1), [(3, 4)])


def test_uint8_mask_setitem_with_a_scalar_raises_as_torch():
    for m in (ember, torch):
        x = m.zeros(2)
        with pytest.raises(RuntimeError, match="boolean masks"):
            x[m.tensor([1, 0], dtype=m.uint8)] = 1.0
        y = m.zeros(2, 2)
        for idx in ((Ellipsis, 0), (slice(None), 0), (0, None), (1, 0), (0, 1)):
            with pytest.raises(RuntimeError, match="boolean masks"):
                y[tuple(m.tensor([1, 0], dtype=m.uint8) if i == 0 else i for i in idx)] = 1.0
        y[m.tensor([1, 0], dtype=m.uint8), m.tensor([1, 0], dtype=m.uint8)] = 1.0     # two masks: fine
    x = ember.zeros(2, 2)           # a uint8 mask with a tensor value is an index_put, as torch
    x[ember.tensor([1, 0], dtype=ember.uint8)] = ember.tensor([5.0, 6.0])
    assert x.tolist() == [[5.0, 6.0], [0.0, 0.0]]


def test_masked_fill_broadcasts_the_result_up_as_torch():
    compare(lambda m, x: x.masked_fill(m.tensor([[True], [False]]), 0.5), [(3,)])
    compare(lambda m, x: x.masked_fill(m.tensor([[True]]), 0.5), [()])
    with pytest.raises(RuntimeError):
        ember.ones(3).masked_fill_(ember.tensor([[True], [False]]), 0.0)


@pytest.mark.parametrize("v", [0.0, 3.0])
def test_nonzero_of_0d_as_torch(v):
    e, t = ember.nonzero(ember.tensor(v)), torch.nonzero(torch.tensor(v))
    assert tuple(e.shape) == tuple(t.shape)
    assert [a.tolist() for a in ember.nonzero(ember.tensor(v), as_tuple=True)] == \
        [a.tolist() for a in torch.nonzero(torch.tensor(v), as_tuple=True)]


def test_inplace_method_variants_exist_for_every_op():
    names = ("floor ceil trunc frac erf abs log2 log10 asin acos atan sinh cosh relu sign round neg sigmoid tanh "
             "eq ne lt le gt ge cumsum cumprod addmm baddbmm lerp addcmul addcdiv logical_not bitwise_not "
             "index_fill index_copy scatter_reduce masked_scatter t transpose squeeze unsqueeze as_strided").split()
    assert [n + "_" for n in names if not hasattr(ember.Tensor, n + "_")] == []
    x = ember.tensor([1.0, 2.0, 3.0])
    x.eq_(2.0)
    assert x.tolist() == [0.0, 1.0, 0.0]
    compare(lambda m, a: (a * 1).cumsum_(0).sigmoid_(), [(4,)])


# -- index_copy / index_fill / scatter_reduce / masked_scatter ----------------------------------------------------
def test_index_copy_and_fill_as_torch():
    compare(lambda m, x, s: x.index_copy(1, m.tensor([2, 0]), s) * 2, [(3, 4), (3, 2)])
    compare(lambda m, x: x.index_fill(0, m.tensor([-1, 0]), 1.5) * 2, [(3, 4)])
    compare(lambda m, x, v: m.index_fill(x, 1, m.tensor(1), v.sum()) * 2, [(3, 4), (2,)])
    for m in (ember, torch):
        with pytest.raises(IndexError, match="out of bounds"):
            m.zeros(3).index_copy(0, m.tensor([-1]), m.ones(1))
        with pytest.raises(RuntimeError, match="dtype"):
            m.zeros(3).index_copy(0, m.tensor([1]), m.ones(1, dtype=m.float64))
        with pytest.raises(IndexError, match="out of bounds"):
            m.zeros(3).index_fill(0, m.tensor([3]), 1.0)
    e = ember.zeros(3)
    e.index_fill_(0, ember.tensor([1]), 2.0)
    assert e.tolist() == [0.0, 2.0, 0.0]


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_as_torch(reduce, include_self):
    idx = np.array([[0, 1, 0, 2], [2, 2, 1, 0]])
    compare(lambda m, x, s: x.scatter_reduce(1, m.tensor(idx), s, reduce, include_self=include_self),
            [(2, 3), (2, 4)])
    ties = np.array([[1.0, 3.0, 3.0], [0.0, 2.0, 0.0]])
    compare(lambda m, x, s: x.scatter_reduce(1, m.tensor(idx[:, :3]), s, reduce, include_self=include_self),
            [ties.copy(), np.array([[3.0, 0.0, 2.0], [0.0, 5.0, 0.0]])])
    a = np.arange(6).reshape(2, 3)
    e = ember.tensor(a).scatter_reduce(1, ember.tensor(idx[:, :3]), ember.tensor(a + 5), reduce,
                                       include_self=include_self)
    t = torch.tensor(a).scatter_reduce(1, torch.tensor(idx[:, :3]), torch.tensor(a + 5), reduce,
                                       include_self=include_self)
    assert e.tolist() == t.tolist()


def test_masked_scatter_as_torch():
    mask = np.array([[True, False, True], [False, True, False]])
    compare(lambda m, x, s: x.masked_scatter(m.tensor(mask), s) * 2, [(2, 3), (5,)])
    compare(lambda m, x, s: m.masked_scatter(x, m.tensor(mask[0]), s), [(2, 3), (2, 2)])


def test_gather_scatter_with_0d_index_src_or_self_as_torch():
    # PyTorch takes a 0-d index/src/self beside a 1-d partner as a one-element 1-d one: the tutorials' one-hot
    # ``zeros(10).scatter_(0, tensor(y), value=1)`` sets one element (ember set all of them)
    i0, i1 = np.array(1), np.array([1])
    assert ember.zeros(3).scatter_(0, ember.tensor(1), value=1).tolist() == [0.0, 1.0, 0.0]
    compare(lambda m, x: x.scatter(0, m.tensor(i0), 2.5), [(3,)])
    compare(lambda m, x, s: x.scatter(0, m.tensor(i0), s) * m.arange(3.0), [(3,), np.array(4.0)])
    compare(lambda m, x, s: x.scatter(0, m.tensor(np.array(0)), s) * 3, [np.array(2.0), np.array(4.0)])
    compare(lambda m, x, s: x.scatter_add(0, m.tensor(i0), s) * m.arange(3.0), [(3,), np.array(4.0)])
    compare(lambda m, x, s: x.scatter_add(0, m.tensor(i1), s) * m.arange(3.0), [(3,), np.array(4.0)])
    compare(lambda m, x, s: x.scatter_add(0, m.tensor(np.array(0)), s) * 3, [np.array(2.0), np.array(4.0)])
    for reduce in ("sum", "prod", "mean", "amax"):
        compare(lambda m, x, s: x.scatter_reduce(0, m.tensor(i0), s, reduce) * m.arange(3.0), [(3,), np.array(4.0)])
        compare(lambda m, x, s: x.scatter_reduce(0, m.tensor(np.array([0])), s, reduce), [np.array(2.0), (1,)])
    compare(lambda m, x: x.gather(0, m.tensor(np.array(2))), [(3,)])
    compare(lambda m, x: x.gather(0, m.tensor(np.array([0, 0]))), [np.array(7.0)])
    compare(lambda m, x: x.gather(0, m.tensor(np.array(0))), [np.array(7.0)])
    e = ember.tensor([1.0, 2.0, 3.0]).gather(0, ember.tensor(2))
    assert e.shape == () and e.grad_fn is None
    x = ember.ones(3, requires_grad=True)
    assert x.scatter(0, ember.tensor(1), 2.0).grad_fn.name() == "ScatterBackward0"
    with pytest.raises(RuntimeError, match="dimensions"):
        ember.zeros(2, 3).scatter_(0, ember.tensor(1), value=1)
    with pytest.raises(RuntimeError, match="out of bounds"):
        ember.zeros(3).scatter_(0, ember.tensor(3), value=1)
