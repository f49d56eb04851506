"""Regression tests for differences the differential fuzzer found in the view, index, inplace, sort, reduce and
linalg families (issue 11).  Every expected value comes from running the same call in PyTorch 2.13."""
import numpy as np
import pytest
import torch

import ember

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")


def _np(x):
    return x.detach().numpy() if isinstance(x, ember.Tensor) else x.detach().cpu().numpy()


def same(e, t, rtol=1e-6, atol=0.0):
    assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", ""), f"dtype {e.dtype} != torch {t.dtype}"
    assert tuple(e.shape) == tuple(t.shape), f"shape {tuple(e.shape)} != torch {tuple(t.shape)}"
    np.testing.assert_allclose(_np(e).astype(np.float64), _np(t).astype(np.float64), rtol=rtol, atol=atol,
                               equal_nan=True)


def both(fn):
    return fn(ember), fn(torch)


# ------------------------------------------------------------------ in-place writes through overlapping views
def test_inplace_add_through_overlapping_unfold_updates_shared_element_twice():
    def f(m):
        z = m.tensor([False, False, False]).exp()
        z.unfold(0, 2, 1).add_(1)
        return z
    same(*both(f))         # [2, 3, 2]: the middle element belongs to both windows


def test_inplace_mul_through_overlapping_unfold_in_graph():
    def f(m):
        x = m.tensor([0.5, 1.0, 2.0], requires_grad=True)
        y = x * 1
        y.unfold(0, 2, 1).mul_(m.tensor([[2.0, 3.0], [5.0, 7.0]]))
        return y
    same(*both(f))         # [1, 15, 14]


def test_inplace_exp_through_as_strided_overlap():
    def f(m):
        x = m.tensor([0.1, 0.2, 0.3, 0.4])
        x.as_strided((3, 2), (1, 1)).exp_()
        return x
    same(*both(f))


# ------------------------------------------------------------------ order statistics
@pytest.mark.parametrize("vals,k", [([0.0, 0.0, 0.0], 1), ([0.0] * 17, 1), ([0.0, 1.0, 0.0], 1),
                                    ([2.0, float("nan"), 1.0, float("nan")], 3), ([3, 1, 1, 3, 2, 1], 2)])
def test_kthvalue_index_among_ties_is_pytorchs(vals, k):
    e, t = both(lambda m: m.kthvalue(m.tensor(vals), k, 0))
    assert e[1].item() == t[1].item()
    same(e[0], t[0])


def test_kthvalue_ties_per_row_and_gradient():
    def f(m):
        x = m.zeros(3, 4, requires_grad=True)
        v, i = m.kthvalue(x, 2, 1)
        v.sum().backward()
        return i, x.grad
    (ei, eg), (ti, tg) = both(f)
    assert ei.tolist() == ti.tolist()
    same(eg, tg)


# ------------------------------------------------------------------ var / std with correction >= n
@pytest.mark.parametrize("fn", ["var", "std", "var_mean", "std_mean"])
@pytest.mark.parametrize("vals,c,dim", [([0.7], 2, 0), ([0.7, 0.2], 2, 0), ([1.0, 2.0, 3.0], 3, None),
                                        ([1.0, 2.0, 3.0], 4, None), ([[1.0, 2.0], [3.0, 5.0]], 4, 1),
                                        (2.0, 2, 0), ([0.5, 0.5], 2, None)])
def test_var_std_gradient_when_correction_reaches_n(fn, vals, c, dim):
    def f(m):
        x = m.tensor(vals, dtype=m.float64, requires_grad=True)
        kw = {} if dim is None else {"dim": dim}
        r = getattr(m, fn)(x, correction=c, **kw)
        out = r[0] * 0.3 + r[1] * 0.9 if isinstance(r, tuple) else r
        out.sum().backward()
        return x.grad
    same(*both(f))


# ------------------------------------------------------------------ norms of one element
@pytest.mark.parametrize("p", [2, "fro", 3, 1.5, 0.5, float("inf"), -1])
@pytest.mark.parametrize("shape,dim", [((), None), ((1,), None), ((2, 1), 1), ((), 0)])
def test_norm_of_one_element_is_abs_without_overflow(p, shape, dim):
    def f(m):
        x = m.tensor(np.full(shape, 1e30, np.float32), requires_grad=True)
        kw = {} if dim is None else {"dim": dim}
        n = m.norm(x, p=p, **kw)
        n.sum().backward()
        return n, x.grad
    (en, eg), (tn, tg) = both(f)
    same(en, tn)
    same(eg, tg)


@pytest.mark.parametrize("p", [2, 3, 4, 0.5, 1.5, 2.5])
def test_vector_norm_gradient_of_a_tiny_single_element(p):
    def f(m):
        x = m.tensor([5.6e-123], dtype=m.float64, requires_grad=True)
        n = m.linalg.vector_norm(x, p)
        n.backward()
        return n, x.grad
    (en, eg), (tn, tg) = both(f)
    same(en, tn, rtol=1e-12)
    same(eg, tg, rtol=1e-12)


# ------------------------------------------------------------------ matrix transposes of 0-d tensors
@pytest.mark.parametrize("attr", ["mT", "mH", "H", "adjoint"])
def test_matrix_transpose_of_0d_is_a_view_and_1d_raises(attr):
    def get(x):
        return x.adjoint() if attr == "adjoint" else getattr(x, attr)

    def f(m):
        x = m.zeros(1, 1)
        v = get(x[0, 0])
        v.add_(2)
        return x
    same(*both(f))
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="only supported on matrices"):
            get(m.zeros(3))
    with pytest.raises(RuntimeError, match="2-D"):
        ember.zeros(2, 3, 4).H


# ------------------------------------------------------------------ result layouts
def _strides_of(fn):
    out = []
    for m in (ember, torch):
        r = fn(m)
        r = r if isinstance(r, (tuple, list)) else (r,)
        out.append([tuple(t.stride()) for t in r])
    return out


@pytest.mark.parametrize("name,fn", [
    ("sort", lambda m: m.sort(m.zeros(2, 3).t(), stable=True)),
    ("sort_dim0", lambda m: m.sort(m.zeros(2, 3).t(), dim=0, descending=True)),
    ("sort_nondense", lambda m: m.sort(m.zeros(2, 3, 4)[:, ::2, :].permute(2, 0, 1), 1)),
    ("argsort", lambda m: m.argsort(m.zeros(2, 3).t(), dim=0)),
    ("msort", lambda m: m.msort(m.zeros(2, 3).t())),
    ("roll", lambda m: m.roll(m.zeros(2, 3, dtype=m.bool).t(), 0, 0)),
    ("roll_shift", lambda m: m.roll(m.zeros(2, 3).t(), 1, 1)),
    ("matrix_power0", lambda m: m.linalg.matrix_power(m.zeros(2, 2, requires_grad=True).t(), 0)),
    ("matrix_power1", lambda m: m.linalg.matrix_power(m.zeros(2, 2).t(), 1)),
    ("renorm", lambda m: m.renorm(m.zeros(2, 3).t(), 2, 0, 1.0)),
    ("unique_dim", lambda m: m.unique(m.zeros(2, 3, 4, dtype=m.int64), dim=2)),
    ("unique_dim_permuted", lambda m: m.unique(m.tensor([[1, 2, 2], [1, 3, 3]]).t(), dim=1)),
    ("unique_consecutive_dim", lambda m: m.unique_consecutive(m.zeros(2, 3, 4, dtype=m.int64), dim=2)),
])
def test_result_layout_is_pytorchs(name, fn):
    e, t = _strides_of(fn)
    assert e == t


# ------------------------------------------------------------------ empty results never check index values
@pytest.mark.parametrize("name,fn", [
    ("tensor", lambda m: m.zeros(0, 3)[:, m.tensor([5])]),
    ("list", lambda m: m.zeros(0, 3)[:, [5]]),
    ("2d", lambda m: m.zeros(0, 3)[:, m.tensor([[5, -9]])]),
    ("two_arrays", lambda m: m.zeros(2, 0, 3)[[0, 5], :, [1, 2]]),
    ("none_ellipsis", lambda m: m.zeros(0, 3)[None, ..., m.tensor([4])]),
    ("mask_then_array", lambda m: m.zeros(2, 0, 3)[m.tensor([True, False]), :, m.tensor([9])]),
])
def test_getitem_empty_result_with_out_of_range_array_index(name, fn):
    e, t = both(fn)
    assert tuple(e.shape) == tuple(t.shape)


def test_getitem_nonempty_result_out_of_range_still_raises():
    with pytest.raises(IndexError, match="out of range"):
        ember.zeros(2, 1, 3)[[0, 5], :, [1, 2]]


def test_setitem_and_backward_on_empty_tensor_with_out_of_range_index():
    def f(m):
        x = m.zeros(0, 3, requires_grad=True)
        y = x * 1
        y[:, m.tensor([5])] = 1.0
        z = x[:, m.tensor([7])]
        (z.sum() + y.sum()).backward()
        return x.grad
    same(*both(f))


def test_inplace_on_empty_tensor_with_repeated_zero_strides():
    def f(m):
        x = m.zeros(1, 4, 0, 1, dtype=m.float64).clone()
        x.reciprocal_()
        x += 1
        return x
    same(*both(f))


@pytest.mark.parametrize("how", ["copy", "setitem", "copy_graph"])
def test_copy_into_overlapping_view_keeps_pytorchs_last_write(how):
    def f(m):
        x = m.zeros(4, 1, 2, requires_grad=how == "copy_graph")
        x = x * 1 if how == "copy_graph" else x
        v = x.unfold(0, 3, 1)                         # shape (2, 1, 2, 3), strides (2, 2, 1, 2)
        src = m.arange(12.0).reshape(v.shape) + 1
        if how == "setitem":
            v[...] = src
        else:
            v.copy_(src)
        return x
    same(*both(f))


@pytest.mark.parametrize("dtype,value", [("uint8", -2.0), ("uint8", 300), ("int8", 255), ("int32", 2 ** 40)])
@pytest.mark.parametrize("shape", [(0,), (2,)])
def test_masked_fill_range_checks_the_value_even_when_nothing_is_filled(dtype, value, shape):
    for m in (ember, torch):
        x = m.zeros(*shape, dtype=getattr(m, dtype))
        with pytest.raises(RuntimeError, match="without overflow|out of range|overflow"):
            x.masked_fill_(x > 0, value)


@pytest.mark.parametrize("name,fn", [
    ("select_scatter_strided", lambda m: m.select_scatter(m.zeros(4, 1)[::2], m.zeros(1), 0, 0)),
    ("slice_scatter_strided", lambda m: m.slice_scatter(m.zeros(4, 6)[::2, ::3], m.ones(1, 2), 0, 0, 1)),
    ("diagonal_scatter_strided", lambda m: m.diagonal_scatter(m.zeros(4, 1, 1)[::2], m.zeros(1, 0), 1)),
    ("select_scatter_permuted", lambda m: m.select_scatter(m.zeros(2, 2).t(), m.zeros(2), 0, 0)),
    ("select_scatter_expanded", lambda m: m.select_scatter(m.zeros(2, 1).expand(2, 3), m.zeros(3), 0, 0)),
    ("put_permuted_empty", lambda m: m.put(m.zeros(2, 2).t(), m.zeros(0, dtype=m.int64), m.zeros(0))),
    ("put_permuted", lambda m: m.put(m.zeros(2, 2).t(), m.tensor([1]), m.ones(1))),
])
def test_scatter_views_and_put_layout(name, fn):
    e, t = both(fn)
    same(e, t)
    assert e.stride() == t.stride()


@pytest.mark.parametrize("shape,where", [((3, 2), "plain"), ((2, 3), "ellipsis"), ((3, 2), "ellipsis"),
                                         ((2, 3), "none"), ((2, 3), "with_bool")])
def test_setitem_uint8_mask_error_type(shape, where):
    def f(m):
        mk = m.tensor([1, 0], dtype=m.uint8)
        idx = {"plain": mk, "ellipsis": (Ellipsis, mk), "none": (None, mk), "with_bool": (mk, True)}[where]
        y = m.zeros(*shape)
        try:
            y[idx] = 1.0
        except (RuntimeError, IndexError) as e:
            return type(e)
        return None
    e, t = both(f)
    assert e is t


@pytest.mark.parametrize("call", ["expand", "view", "reshape", "permute", "repeat"])
def test_shape_methods_without_sizes_raise_type_error(call):
    for m in (ember, torch):
        with pytest.raises(TypeError):
            getattr(m.zeros(()), call)()
    assert ember.zeros(()).expand(()).shape == ()


@pytest.mark.parametrize("where", ["all", "row", "col", "adv"])
def test_setitem_into_expanded_region(where):
    def f(m):
        x = m.zeros(2, 1).expand(2, 3)
        try:
            if where == "all":
                x[...] = 1.0
            elif where == "row":
                x[0] = 1.0
            elif where == "col":
                x[:, 0] = 1.0
            else:
                x[m.tensor([0])] = 1.0
        except RuntimeError:
            return "raised"
        return x.tolist()
    e, t = both(f)
    assert e == t


@pytest.mark.parametrize("vals", [float("nan"), [float("nan")], [float("nan"), 1.0], [[float("nan")], [2.0]]])
def test_nanmean_nansum_gradient_multiplies_by_the_mask(vals):
    def f(m):
        x = m.tensor(vals, requires_grad=True)
        m.nanmean(x).backward()
        y = m.tensor(vals, requires_grad=True)
        m.nansum(y).backward(m.tensor(float("inf")))
        return x.grad, y.grad
    (e1, e2), (t1, t2) = both(f)
    same(e1, t1)
    same(e2, t2)


@pytest.mark.parametrize("mask", [[True, False], [False, False], [False, True]])
def test_masked_fill_into_expanded_tensor_writes_element_by_element(mask):
    def f(m):
        x = m.tensor([1.0]).expand(2)
        x.masked_fill_(m.tensor(mask), -2.0)
        return x
    same(*both(f))


def test_setitem_uint8_mask_with_one_element_value_tensor_raises():
    for m in (ember, torch):
        y = m.zeros(2, 3, dtype=m.int16)
        with pytest.raises(RuntimeError, match="masked_fill_ only supports boolean masks"):
            y[(m.tensor([[0, 0, 0], [0, 0, 1]], dtype=m.uint8),)] = m.tensor([0], dtype=m.int16)


@pytest.mark.parametrize("op", ["median", "nanmedian", "mode", "kthvalue"])
def test_selection_values_are_contiguous_for_permuted_input(op):
    def f(m):
        x = m.zeros(2, 3, 4).permute(2, 0, 1)
        fn = getattr(m, op)
        r = fn(x, 1, 1) if op == "kthvalue" else fn(x, 1)
        return r[0]
    e, t = both(f)
    assert e.stride() == t.stride()


@pytest.mark.parametrize("name,fn", [
    ("count_nonzero", lambda m: m.count_nonzero(m.zeros(2, 2, 1).permute(2, 1, 0), 0)),
    ("norm_one_element", lambda m: m.norm(m.zeros(2, 2, 1).permute(2, 1, 0), 1, dim=0)),
    ("vector_norm_one_element", lambda m: m.linalg.vector_norm(m.zeros(2, 2, 1).permute(2, 1, 0), 2, dim=0)),
])
def test_reductions_over_a_size_one_dim_are_contiguous(name, fn):
    e, t = both(fn)
    assert e.stride() == t.stride()


def test_setitem_empty_region_with_out_of_range_index_without_graph():
    def f(m):
        x = m.zeros(1, 0, dtype=m.int8)
        x[m.tensor([1])] = m.zeros(1, 0, dtype=m.int8)
        return x
    e, t = both(f)
    assert tuple(e.shape) == tuple(t.shape)
    with pytest.raises(IndexError):
        ember.zeros(2, 1)[ember.tensor([5])] = 1.0


@pytest.mark.parametrize("p", [2.0, 3.0, 1.0])
def test_cdist_of_one_feature_underflows_like_pytorch(p):
    def f(m):
        x = m.tensor([[0.0]], dtype=m.float64)
        y = m.tensor([[2.8e-182]], dtype=m.float64, requires_grad=True)
        d = m.cdist(x, y, p)
        d.sum().backward()
        return d, y.grad
    (ed, eg), (td, tg) = both(f)
    same(ed, td)
    same(eg, tg)


def test_inplace_on_one_of_several_integer_views_is_allowed():
    """PyTorch forbids in-place writes in a graph to one of several views returned by one function (chunk, split,
    unbind) only for differentiable (floating) views: a bool or integer view takes the write."""
    import ember
    torch = pytest.importorskip("torch")
    for dt in ("bool", "int64", "float32"):
        for n in (0, 2):
            outcome = []
            for m in (ember, torch):
                x = m.zeros(n, dtype=getattr(m, dt))
                v = x.chunk(1, 0)[0]
                try:
                    v.copy_(m.zeros(n, requires_grad=True).exp())
                    outcome.append("ok")
                except RuntimeError:
                    outcome.append("raise")
            assert outcome[0] == outcome[1], (dt, n, outcome)


# ------------------------------------------------------------------ writes through expand()ed views in a graph
def _expanded_in_graph(m):
    x = m.tensor([[1.0], [2.0]], requires_grad=True)
    base = x * 1
    return x, base, base.expand(2, 3)


@pytest.mark.parametrize("op", ["fill_", "zero_", "masked_fill_"])
def test_fill_of_expanded_view_in_graph_writes_and_its_backward_raises(op):
    """PyTorch's fill_/zero_/masked_fill_ skip the overlap check: the write goes through, and the base's
    CopySlices then raises when its backward writes the gradient into the overlapping view."""
    for m in (torch, ember):
        x, base, v = _expanded_in_graph(m)
        {"fill_": lambda: v.fill_(1.5), "zero_": lambda: v.zero_(),
         "masked_fill_": lambda: v.masked_fill_(v > 0, -2.0)}[op]()
        assert base.requires_grad and v.requires_grad
        np.testing.assert_array_equal(_np(base), {"fill_": [[1.5], [1.5]], "zero_": [[0.0], [0.0]],
                                                   "masked_fill_": [[-2.0], [-2.0]]}[op])
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            base.sum().backward()


def test_fill_of_expanded_view_in_graph_leaves_other_histories_working():
    def f(m):
        x = m.tensor([[1.0], [2.0]], requires_grad=True)
        y = x * 1
        z = y.exp()                    # saved its output, not y: y's write does not concern it
        y.expand(2, 3).zero_()
        z.sum().backward()
        return x.grad
    same(*both(f))


def test_fill_with_a_tensor_value_checks_overlap_as_pytorch():
    for m in (torch, ember):
        for g in (False, True):
            v = m.tensor([[1.0], [2.0]]).expand(2, 3)
            with pytest.raises(RuntimeError, match="more than one element"):
                v.fill_(m.tensor(2.0, requires_grad=g))
        with pytest.raises(RuntimeError, match="more than one element"):
            _expanded_in_graph(m)[2].add_(1)


@pytest.mark.parametrize("view", ["select", "t"])
def test_setitem_of_non_overlapping_region_of_expanded_view_in_graph(view):
    """x.expand(2, 3)[0] has stride 0, but its element [0] does not overlap: PyTorch writes it (copy_ into the
    region) and the gradients flow; ember used to check the whole view and raise."""
    def f(m):
        x = m.tensor([[1.0], [2.0]], requires_grad=True)
        val = m.tensor(4.0, requires_grad=True)
        base = x * 1
        e = base.expand(2, 3)
        v = e[0] if view == "select" else e.t()
        v[0] = val
        (base * m.tensor([[3.0], [5.0]])).sum().backward()
        return base.detach(), x.grad, val.grad
    for e, t in zip(*both(f)):
        same(e, t)


def test_setitem_of_overlapping_region_of_expanded_view_in_graph_raises():
    for m in (torch, ember):
        x, base, v = _expanded_in_graph(m)
        with pytest.raises(RuntimeError, match="more than one element"):
            v[0] = 5.0


@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize("value", ["0d", "wrong-shape", "number"])
def test_setitem_false_index_writes_nothing_and_records_nothing(dtype, value):
    """x[False] = v: PyTorch returns before looking at v's shape or dtype (no write, no graph, no version bump)."""
    def f(m):
        x = m.zeros(2, 0, dtype=getattr(m, dtype))
        v = {"0d": lambda: m.tensor(2.0, requires_grad=True), "wrong-shape": lambda: m.ones(5, requires_grad=True),
             "number": lambda: 3}[value]()
        x[False] = v
        return x
    e, t = both(f)
    same(e, t)
    assert e.requires_grad == t.requires_grad is False and e.grad_fn is None
    assert e._version[0] == t._version == 0


def test_setitem_false_index_still_rejects_a_non_number_value():
    for m in (torch, ember):
        with pytest.raises(TypeError):
            m.zeros(2)[False] = "abc"
        with pytest.raises(RuntimeError, match="without overflow"):     # the number becomes a uint8 tensor first
            m.zeros(0, dtype=m.uint8)[False] = -1.5


_ADVANCED_WRITES = {
    "list": lambda m, v: v.__setitem__([0], 5.0),
    "mask": lambda m, v: v.__setitem__(m.tensor([True, False]), 5.0),
    "tuple-list": lambda m, v: v.__setitem__((slice(None), [0, 2]), 5.0),
    "index_put_": lambda m, v: v.index_put_((m.tensor([0]),), m.tensor(5.0)),
    "index_fill_": lambda m, v: v.index_fill_(1, m.tensor([0]), 5.0),
}


@pytest.mark.parametrize("op", sorted(_ADVANCED_WRITES))
def test_advanced_index_write_through_expanded_view_as_pytorch(op):
    """index_put_ (x[idx] = v with an advanced index) and index_fill_ on an expand()ed view only warn in PyTorch:
    they write, with or without a graph; in a graph the base's backward then raises."""
    for m in (torch, ember):
        plain = m.tensor([[1.0], [2.0]]).expand(2, 3)
        _ADVANCED_WRITES[op](m, plain)
        x, base, v = _expanded_in_graph(m)
        _ADVANCED_WRITES[op](m, v)
        np.testing.assert_array_equal(_np(base), _np(plain)[:, :1])
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            base.sum().backward()


def test_write_through_expanded_view_backward_raises_only_when_the_base_needs_grad():
    """Only the written value requires grad: PyTorch's CopySlices writes no gradient back into the base, so its
    backward runs."""
    for m in (torch, ember):
        base = m.tensor([[1.0], [2.0]])
        base.expand(2, 3)[[1]] = m.tensor(4.0, requires_grad=True) * m.ones(3)
        assert base.requires_grad
        base.sum().backward()
        np.testing.assert_array_equal(_np(base), [[1.0], [4.0]])


@pytest.mark.parametrize("grad", [False, True])
def test_inplace_through_overlapping_unfold_in_another_dtype_copies_one_result_back(grad):
    """float16 data += float32 values through unfold(0, 2, 1): PyTorch computes into a float32 temporary from the
    old values and copies it back element by element, so the shared element keeps the last copy (3), not both
    updates (5) as in the same dtype."""
    def f(m):
        x = m.tensor([0.0, 0.0, 0.0], dtype=m.float16, requires_grad=grad)
        b = x * 1 if grad else x.clone()
        b.unfold(0, 2, 1).add_(m.tensor([[1.0, 2.0], [3.0, 4.0]]))
        if grad:
            b.backward(m.tensor([1.0, 10.0, 100.0], dtype=m.float16))
            return b.detach(), x.grad
        return b, b
    for e, t in zip(*both(f)):
        same(e, t)


@pytest.mark.parametrize("index", ["empty-mask-second", "empty-mask-first", "empty-uint8-mask", "ok-mask"])
def test_bool_mask_must_match_the_dims_it_indexes(index):
    """NumPy lets an empty mask through on a dim of size 1 or 2; PyTorch raises IndexError (get and set)."""
    def make(m):
        return {"empty-mask-second": (m.tensor([True, False]), m.tensor([], dtype=m.bool), None),
                "empty-mask-first": (m.tensor([], dtype=m.bool),),
                "empty-uint8-mask": (m.tensor([], dtype=m.bool), m.tensor([], dtype=m.uint8), None),
                "ok-mask": (Ellipsis, m.tensor([True, False, True]))}[index]
    shape = (0, 1, 0) if index == "empty-uint8-mask" else (2, 1, 3)
    for m in (torch, ember):
        if index == "ok-mask":
            x = m.zeros(shape)
            x[make(m)] = 1.0
            assert tuple(x[make(m)].shape) == (2, 1, 2) and float(x.sum()) == 4.0
            continue
        with pytest.raises(IndexError):
            m.zeros(shape)[make(m)]
        with pytest.raises(IndexError):
            m.zeros(shape)[make(m)] = 0
