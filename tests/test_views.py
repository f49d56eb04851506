"""Views and copies exactly as PyTorch: which ops share memory, their strides and storage offsets, `_is_view()`
and `_base`, writes through views, in-place ops on views and on bases inside a graph (CopySlices and the view
rebase), the saved-tensor check through views, `as_strided` / `unfold`, and `clone(memory_format=...)`."""
import numpy as np
import pytest
import torch

import ember
from tests.helpers import compare

A = np.arange(24, dtype=np.float64).reshape(4, 6)
B = np.arange(60, dtype=np.float64).reshape(3, 4, 5)


def _both(a):
    return ember.tensor(a.copy()), torch.tensor(a.copy())


def _layout(t):
    return tuple(t.shape), tuple(t.stride()), t.storage_offset(), t.is_contiguous(), t._is_view()


# op, input; each applied to both libraries
VIEW_OPS = [
    ("int_1d", lambda x: x[1], A[0]),
    ("int_int_2d", lambda x: x[1, 2], A),
    ("neg_int_2d", lambda x: x[-1, -2], A),
    ("row", lambda x: x[2], A),
    ("slice_cols", lambda x: x[:, 1:], A),
    ("slice_step", lambda x: x[1:, ::2], A),
    ("ellipsis_int", lambda x: x[..., 1], B),
    ("none_ellipsis", lambda x: x[None, ..., None, 1], B),
    ("none_none", lambda x: x[None, None], A),
    ("empty_tuple", lambda x: x[()], A),
    ("zero_d_tensor_index", lambda x: x[x.new_tensor(1).long()], A),
    ("view", lambda x: x.view(2, 12), A),
    ("view_same", lambda x: x.view(4, 6), A),
    ("reshape_view", lambda x: x.reshape(-1), A),
    ("reshape_same", lambda x: x.reshape(4, 6), A),
    ("flatten", lambda x: x.flatten(), B),
    ("permute", lambda x: x.permute(2, 0, 1), B),
    ("permute_identity", lambda x: x.permute(0, 1), A),
    ("transpose", lambda x: x.transpose(0, 2), B),
    ("t", lambda x: x.t(), A),
    ("t_1d", lambda x: x.t(), A[0]),
    ("T", lambda x: x.T, B),
    ("mT", lambda x: x.mT, B),
    ("expand", lambda x: x[:1].expand(3, 6), A),
    ("expand_same", lambda x: x.expand(4, 6), A),
    ("narrow", lambda x: x.narrow(1, 2, 3), A),
    ("narrow_full", lambda x: x.narrow(0, 0, 4), A),
    ("select", lambda x: x.select(1, 3), A),
    ("unsqueeze", lambda x: x.unsqueeze(1), A),
    ("unsqueeze_last_of_transposed", lambda x: x.t().unsqueeze(2), A),
    ("unsqueeze_mid_of_transposed", lambda x: x.t().unsqueeze(1), A),
    ("unsqueeze_of_stepped", lambda x: x[:, ::2].unsqueeze(2).unsqueeze(0), A),
    ("squeeze_keeps_strides", lambda x: x[:1, ::2].squeeze(0), A),
    ("squeeze", lambda x: x.unsqueeze(0).squeeze(), A),
    ("squeeze_noop", lambda x: x.squeeze(0), A),
    ("unflatten", lambda x: x.unflatten(1, (2, 3)), A),
    ("split_piece", lambda x: x.split(4, 1)[1], A),
    ("chunk_piece", lambda x: x.chunk(3, 1)[2], A),
    ("unbind_piece", lambda x: x.unbind(1)[2], A),
    ("diagonal", lambda x: x.diagonal(), A),
    ("diagonal_offset", lambda x: x.diagonal(2), A),
    ("diagonal_neg_offset", lambda x: x.diagonal(-1), A),
    ("diagonal_3d", lambda x: x.diagonal(1, 0, 2), B),
    ("movedim", lambda x: x.movedim(0, 2), B),
    ("unfold", lambda x: x.unfold(1, 2, 2), A),
    ("unfold_overlap", lambda x: x.unfold(0, 3, 1), A),
    ("as_strided", lambda x: x.as_strided((3, 2), (1, 6), 2), A),
    ("view_of_view", lambda x: x[1:][:, 2:].t()[0], A),
]


@pytest.mark.parametrize("name,op,a", VIEW_OPS, ids=[v[0] for v in VIEW_OPS])
def test_view_ops_share_memory_with_torch_layout(name, op, a):
    e, t = _both(a)
    re_, rt = op(e), op(t)
    assert _layout(re_) == _layout(rt)
    assert re_._is_view() and re_._base is e
    np.testing.assert_array_equal(re_.numpy(), rt.numpy())
    if name.startswith("expand") and name != "expand_same" or name == "unfold_overlap":
        return      # writing to overlapping memory is refused in both
    re_.add_(100)
    rt.add_(100)
    np.testing.assert_array_equal(e.numpy(), t.numpy())    # the write went through to the base


COPY_OPS = [
    ("flip", lambda x: x.flip(0), A),
    ("flip_2", lambda x: x.flip(0, 1), A),
    ("fliplr", lambda x: x.fliplr(), A),
    ("flipud", lambda x: x.flipud(), A),
    ("rot90_0", lambda x: x.rot90(0), A),
    ("rot90_1", lambda x: x.rot90(1), A),
    ("rot90_2", lambda x: x.rot90(2), A),
    ("rot90_3", lambda x: x.rot90(3), A),
    ("rot90_neg", lambda x: x.rot90(-1, (1, 2)), B),
    ("clone", lambda x: x.clone(), A),
    ("int_list", lambda x: x[[0, 2]], A),
    ("mask", lambda x: x[x > 5], A),
    ("adv_after_slice", lambda x: x[:, [0, 2]], A),
    ("reshape_copy", lambda x: x.t().reshape(-1), A),
    ("contiguous_copy", lambda x: x.t().contiguous(), A),
    ("diag_fn", lambda x: x.diag(), A),
    ("bool_true", lambda x: x[True], A),
]


@pytest.mark.parametrize("name,op,a", COPY_OPS, ids=[v[0] for v in COPY_OPS])
def test_copy_ops_do_not_alias(name, op, a):
    e, t = _both(a)
    re_, rt = op(e), op(t)
    assert _layout(re_)[:2] + _layout(re_)[3:] == _layout(rt)[:2] + _layout(rt)[3:]
    assert not re_._is_view() and re_._base is None
    np.testing.assert_array_equal(re_.numpy(), rt.numpy())
    re_.add_(100)
    np.testing.assert_array_equal(e.numpy(), a)     # the input is untouched


def test_flatten_of_1d_and_contiguous_return_self():
    e = ember.arange(3.0)
    assert e.flatten() is e and e.contiguous() is e


def test_int_index_is_a_0d_view():
    x = ember.arange(5.0)
    y = x[0]
    y += 5
    assert x.tolist() == [5.0, 1.0, 2.0, 3.0, 4.0]
    m = ember.zeros(2, 3)
    z = m[1, 2]
    z.fill_(7)
    assert m[1, 2].item() == 7.0 and z.shape == () and z._base is m


def test_inplace_on_indexed_element_inside_graph():
    # x[0] *= 3 on a non-leaf: CopySlices rewrites x's history
    compare(lambda m, a: _mul_first(a), [(4,)])
    compare(lambda m, a: _mul_first(a.reshape(2, 2)), [(4,)])


def _mul_first(a):
    x = a * 1
    x[0] *= 3
    x[-1] += x[0]
    return x * x


def test_diagonal_write_through_and_gradient():
    e = ember.zeros(3, 3)
    e.diagonal().fill_(1)
    assert e.tolist() == np.eye(3).tolist()
    compare(lambda m, x: x.diagonal(1) * 2, [(3, 4)])
    compare(lambda m, x: x.diagonal(-1, 0, 2).exp(), [(3, 4, 5)])
    compare(lambda m, x: torch_or(m).diagonal(x, 0, 1, 2).sin(), [(2, 3, 3)])
    compare(lambda m, x: _diag_inplace(x), [(3, 3)])


def _diag_inplace(x):
    y = x * 1
    y.diagonal().mul_(5)
    return y


def torch_or(m):
    return m


CLONE_CASES = [
    ("dense_t", lambda m: m.zeros(4, 6).t(), None),
    ("dense_perm", lambda m: m.zeros(2, 3, 4).permute(2, 0, 1), None),
    ("sliced_t", lambda m: m.zeros(4, 6).t()[1:], None),
    ("sliced_perm", lambda m: m.zeros(2, 3, 4).permute(2, 0, 1)[:, :, 1:], None),
    ("expanded", lambda m: m.zeros(1, 4).expand(3, 4), None),
    ("expanded_col", lambda m: m.zeros(3, 1).expand(3, 4), None),
    ("contiguous_format", lambda m: m.zeros(4, 6).t(), "contiguous_format"),
    ("channels_last", lambda m: m.zeros(2, 3, 4, 5), "channels_last"),
    ("preserve_channels_last", lambda m: m.zeros(2, 4, 5, 3).permute(0, 3, 1, 2), "preserve_format"),
]


@pytest.mark.parametrize("name,make,fmt", CLONE_CASES, ids=[c[0] for c in CLONE_CASES])
def test_clone_memory_format(name, make, fmt):
    e, t = make(ember), make(torch)
    if fmt is None:
        ce, ct = e.clone(), t.clone()
    else:
        ce, ct = e.clone(memory_format=getattr(ember, fmt)), t.clone(memory_format=getattr(torch, fmt))
    assert tuple(ce.stride()) == tuple(ct.stride())
    assert ce.is_contiguous() == ct.is_contiguous()


def test_contiguous_channels_last():
    e = ember.arange(120.0).reshape(2, 3, 4, 5)
    t = torch.arange(120.0).reshape(2, 3, 4, 5)
    ce, ct = e.contiguous(memory_format="channels_last"), t.contiguous(memory_format=torch.channels_last)
    assert ce.stride() == ct.stride()
    assert ce.contiguous(memory_format="channels_last") is ce
    np.testing.assert_array_equal(ce.numpy(), ct.numpy())


def test_clone_keeps_gradient():
    compare(lambda m, x: x.t().clone() * 3, [(3, 4)])


# -- in-place writes to a base after a view was taken (PyTorch's view rebase) ----------------------------------------
def _rebase_mul(m, a):
    x = a + 0
    v = x[:, 1:]
    x.mul_(3)
    return v


def _rebase_chain(m, a):
    x = a * 1
    v = x.t()[1:]
    w = v[0]
    x.add_(x)
    x[0].mul_(4)        # another view's in-place write also rebases v and w
    return v * w.sum()


def _rebase_copy_into_plain_base(m, a):
    x = m.zeros(3, 4, dtype=a.dtype)
    v = x.narrow(1, 1, 2)
    x.copy_(a.exp())        # x had no history when v was taken
    return v


@pytest.mark.parametrize("fn", [_rebase_mul, _rebase_chain, _rebase_copy_into_plain_base])
def test_view_history_follows_inplace_on_base(fn):
    compare(fn, [(3, 4)])


@pytest.mark.parametrize("split", [lambda x: x.unbind(0), lambda x: x.split(1), lambda x: x.chunk(3)])
def test_multi_output_views_refuse_inplace_in_graph(split):
    for m in (ember, torch):
        a = m.ones(3, 4, requires_grad=True)
        x = a * 2
        rows = split(x)
        x.sub_(a)
        assert rows[1].requires_grad
        for _ in range(2):          # every use raises, not only the first
            with pytest.raises(RuntimeError, match=r"(?i)view.*modified.*inplace|modified in place"):
                rows[1] * 2
        with pytest.raises(RuntimeError, match=r"(?i)view.*(modified|being modified) in ?place"):
            split(a * 2)[0].mul_(2)
    with ember.no_grad():       # without a graph it is a plain write
        x = ember.zeros(2, 2)
        x.unbind(0)[1].add_(1)
    assert x.tolist() == [[0.0, 0.0], [1.0, 1.0]]


def test_rebased_view_requires_grad_and_is_not_leaf():
    a = ember.ones(3, 4, requires_grad=True)
    x = ember.zeros(3, 4)
    v = x[1]
    assert not v.requires_grad
    x.copy_(a)
    assert v.requires_grad and not v.is_leaf
    v.sum().backward()
    assert a.grad.tolist() == [[0.0] * 4, [1.0] * 4, [0.0] * 4]


def test_modifying_saved_tensor_through_view_raises():
    a = ember.randn(3, requires_grad=True)
    y = a.exp()             # saves its output
    y[0:2].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    b = ember.randn(3, 4, requires_grad=True)
    x = b * 1
    z = x * x               # saves its inputs
    x.t()[1].add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_view_made_in_no_grad_then_modified_with_grad_raises():
    a = ember.randn(3, requires_grad=True)
    x = a * 1
    with ember.no_grad():
        v = x[:2]
    assert v._base is x
    with pytest.raises(RuntimeError, match="no_grad"):
        v.mul_(2)


def test_view_inplace_without_graph_writes_base():
    x = ember.zeros(2, 3)
    x.t()[1].add_(5)
    x.unsqueeze(0).squeeze(0)[0, 0] = 7
    assert x.tolist() == [[7.0, 5.0, 0.0], [0.0, 5.0, 0.0]]


# -- as_strided / unfold ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size,stride,offset", [((3, 2), (1, 6), 2), ((2, 2), (6, 1), None), ((4, 3), (1, 1), 0),
                                                ((3,), (0,), 5), ((0, 2), (1, 1), 23)])
def test_as_strided_values_layout_and_grad(size, stride, offset):
    compare(lambda m, x: (x * 1).as_strided(size, stride, offset) * 2, [(4, 6)])
    compare(lambda m, x: m.as_strided(x, size, stride, offset).sin(), [(4, 6)])
    e, t = _both(A)
    assert _layout(e.as_strided(size, stride, offset)) == _layout(t.as_strided(size, stride, offset))


def test_as_strided_uses_the_storage_of_a_view():
    e, t = _both(A)
    ve, vt = e[1:, 2:], t[1:, 2:]
    assert ve.storage_offset() == vt.storage_offset() == 8
    np.testing.assert_array_equal(ve.as_strided((2, 2), (6, 1)).numpy(), vt.as_strided((2, 2), (6, 1)).numpy())
    np.testing.assert_array_equal(ve.as_strided((2,), (1,), 0).numpy(), vt.as_strided((2,), (1,), 0).numpy())
    compare(lambda m, x: x.t()[1:].as_strided((2, 3), (1, 4), 1) * 1, [(4, 6)])


def test_as_strided_errors():
    x = ember.zeros(4, 6)
    with pytest.raises(RuntimeError, match=r"as_strided.*out of bounds"):
        x.as_strided((5, 6), (6, 1))
    with pytest.raises(RuntimeError, match=r"as_strided.*negative"):
        x.as_strided((2,), (-1,), 5)
    with pytest.raises(RuntimeError, match=r"as_strided.*length"):
        x.as_strided((2, 2), (1,))


@pytest.mark.parametrize("dim,size,step", [(1, 2, 1), (1, 3, 2), (0, 4, 1), (-1, 1, 3), (0, 2, 5)])
def test_unfold_values_layout_and_grad(dim, size, step):
    compare(lambda m, x: x.unfold(dim, size, step) * 3, [(4, 6)])
    e, t = _both(A)
    assert _layout(e.unfold(dim, size, step)) == _layout(t.unfold(dim, size, step))


def test_unfold_errors():
    x = ember.zeros(4, 6)
    with pytest.raises(RuntimeError, match=r"unfold.*size"):
        x.unfold(1, 7, 1)
    with pytest.raises(RuntimeError, match=r"unfold.*step"):
        x.unfold(1, 2, 0)


def test_select_and_errors():
    compare(lambda m, x: x.select(1, -1) * 2, [(3, 4)])
    with pytest.raises(IndexError, match=r"select.*out of range"):
        ember.zeros(3, 4).select(1, 4)


# -- overlapping memory, saved outputs of in-place ops ------------------------------------------------------------------
def test_expand_slices_are_writable_but_overlapping_writes_raise():
    for m in (ember, torch):
        a = m.ones(3, 3, requires_grad=True)
        x = a * 1.0
        x.expand(2, 3, 3)[0][...] = 3.0           # the slice [0] does not overlap itself
        assert x.tolist() == [[3.0] * 3] * 3
        y = m.ones(3, 3)
        y.expand(2, 3, 3)[1].mul_(5)
        assert y.tolist() == [[5.0] * 3] * 3
        for write in (lambda t: t.add_(1), lambda t: t.copy_(m.zeros(3, 3)), lambda t: t.uniform_()):
            with pytest.raises(RuntimeError, match="single memory location"):
                write(m.ones(1, 3).expand(3, 3))


@pytest.mark.parametrize("second", [lambda x, v: x.mul_(2), lambda x, v: v.sub_(1), lambda x, v: x[0].zero_()])
def test_saved_output_of_inplace_op_is_version_checked(second):
    for m in (ember, torch):
        a = m.randn(3, 4, requires_grad=True)
        x = a * 1.0
        v = x.narrow(1, 1, 2)
        v.exp_()                    # Exp saves its output: v's memory
        second(x, v)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            x.sum().backward()
        b = m.randn(3, requires_grad=True)
        y = b * 1.0
        y.exp_()
        second(y.unsqueeze(0), y)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


_VIEWS = [lambda x: x[1:], lambda x: x[0], lambda x: x.t() if x.dim() == 2 else x.unsqueeze(0),
          lambda x: x.unsqueeze(-1), lambda x: x.narrow(-1, 0, max(1, x.shape[-1] - 1)),
          lambda x: x.diagonal() if x.dim() >= 2 else x[None], lambda x: x.unfold(-1, 1, 1),
          lambda x: x.transpose(0, -1), lambda x: x[..., ::2], lambda x: x.select(0, -1),
          lambda x: x.expand(2, *x.shape)[0]]
_INPLACE = [lambda v, w: v.mul_(2.5), lambda v, w: v.add_(w.sum()), lambda v, w: v.sub_(1.0),
            lambda v, w: v.copy_(w.sum().expand(v.shape) * 0.5), lambda v, w: v.exp_(),
            lambda v, w: v.__setitem__(..., 3.0), lambda v, w: v.clamp_(min=0.1)]


def _chain(m, seed, data):
    import random
    rnd = random.Random(seed)
    a = m.tensor(data.copy(), requires_grad=True)
    b = m.tensor(data.copy() * 0.3, requires_grad=True)
    x = a * 1.0 + b
    tensors, outs = [x], []
    for _ in range(rnd.randint(1, 6)):
        src = tensors[rnd.randrange(len(tensors))]
        if rnd.random() < 0.55:
            f = _VIEWS[rnd.randrange(len(_VIEWS))]
            if src.dim() == 0:
                continue
            tensors.append(f(src))
        else:
            _INPLACE[rnd.randrange(len(_INPLACE))](src, b)
        if rnd.random() < 0.3:
            outs.append(tensors[rnd.randrange(len(tensors))])
    outs += [tensors[rnd.randrange(len(tensors))], x]
    try:
        sum((o * (i + 1)).sum() for i, o in enumerate(outs)).backward()
    except RuntimeError as e:
        return "raised: " + ("inplace" if "inplace" in str(e) else str(e))
    return [o.detach().numpy().copy() for o in outs] + [a.grad.numpy().copy(), b.grad.numpy().copy()]


@pytest.mark.parametrize("seed", range(40))
def test_random_view_and_inplace_chains_match_torch(seed):
    data = np.random.default_rng(seed).standard_normal([(3, 4), (4,), (2, 3, 4), (3, 3)][seed % 4])
    rt, re_ = _chain(torch, seed, data), _chain(ember, seed, data)
    if isinstance(rt, str) or isinstance(re_, str):
        assert rt == re_
        return
    for p, q in zip(rt, re_):
        np.testing.assert_allclose(q, p, atol=1e-9)


# -- in-place view ops (t_, transpose_, squeeze_, unsqueeze_, as_strided_) ------------------------------------------
@pytest.mark.parametrize("op", [lambda y: y.t_(), lambda y: y.transpose_(0, 1), lambda y: y.unsqueeze_(1),
                                lambda y: y.unsqueeze_(0).squeeze_(0), lambda y: y.swapaxes_(0, 1),
                                lambda y: y.as_strided_((3, 2), (1, 3))])
def test_view_inplace_ops(op):
    def f(m, a):
        y = a * 2
        r = op(y)
        assert r is y
        return y * y
    compare(f, [(2, 3)])
    sums = []
    for m in (ember, torch):
        x = m.zeros(2, 3)
        v = x[0:1]
        op(v)
        v.fill_(1.0)            # still a view of x
        assert v._base is x
        sums.append(x.sum().item())
    assert sums[0] == sums[1]
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="leaf"):
            op(m.ones(2, 3, requires_grad=True))
        a = m.ones(2, 3, requires_grad=True)
        y = a * 1
        z = y * y
        op(y)                   # an in-place op: the saved y is now stale
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_zero_d_results_are_writable_arrays():
    out = ember.eq(ember.tensor(False), 0)
    out.fill_(True)
    assert out.item() is True
    i = ember.argmax(ember.tensor([1.0, 3.0]))
    i += 1
    assert i.item() == 2


def test_view_dtype_reinterprets_bits_as_torch():
    for dt in ("int32", "float64", "uint8", "int16"):
        e, t = ember.arange(8.0).reshape(2, 4), torch.arange(8.0).reshape(2, 4)
        ve, vt = e.view(getattr(ember, dt)), t.view(getattr(torch, dt))
        assert tuple(ve.shape) == tuple(vt.shape) and ve.dtype is getattr(ember, dt)
        np.testing.assert_array_equal(ve.numpy(), vt.numpy())
        ve.zero_()
        vt.zero_()
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    with pytest.raises(RuntimeError, match="divisible"):
        ember.ones(3).view(ember.float64)
    compare(lambda m, x: x.view(x.dtype) * 2 + x, [(2, 3)])    # view(dtype) is outside the graph, as torch


def test_more_view_aliases():
    compare(lambda m, x: x.split_with_sizes([1, 3], 1)[1] * 2, [(2, 4)])
    compare(lambda m, x: m.split_with_sizes(x, [2, 2], 1)[0] * 2, [(2, 4)])
    compare(lambda m, x: x.adjoint() * 2, [(2, 3, 4)])
    compare(lambda m, x: x.narrow_copy(1, 1, 2) * 2, [(2, 4)])
    e = ember.ones(2, 4)
    assert e.real is e and not e.narrow_copy(1, 1, 2)._is_view()
    with pytest.raises(RuntimeError, match="complex"):
        e.imag


def test_data_has_its_own_version_counter_but_detach_shares_it():
    for m in (ember, torch):
        a = m.ones(3, requires_grad=True)
        y = a * 1
        z = y * y
        y.data.mul_(2)              # not tracked: backward uses the new values, as torch
        z.sum().backward()
        assert a.grad.tolist() == [4.0, 4.0, 4.0]
        a = m.ones(3, requires_grad=True)
        y = a * 1
        z = y * y
        y.detach().mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_deepcopy_of_a_view_is_not_a_view():
    import copy
    x = ember.zeros(3)
    c = copy.deepcopy(x[1:])
    assert not c._is_view() and c._base is None


@pytest.mark.parametrize("second", [lambda v: v.clamp_(min=0.1), lambda v: v * 2])
def test_view_replay_after_the_base_changed_shape_in_place(second):
    # the base's own shape changes (unsqueeze_/t_) after a view was taken: the view is re-derived from its
    # position in the base's memory, as PyTorch's as_strided replay
    def f(m, a):
        x = a * 1
        v = x[:2]
        x.unsqueeze_(0)
        x.mul_(3)
        return second(v), x
    compare(f, [(4,)])
    compare(lambda m, a: _t_then_view(a, second), [(3, 4)])


def _t_then_view(a, second):
    x = a * 1
    v = x[1]
    x.t_()
    x.add_(1)
    return second(v) * x.sum()


def _random_view_op(rnd, t):
    nd, shp = t.dim(), tuple(t.shape)
    u = rnd.randint(0, nd)
    ops = [lambda x: x.expand(2, *x.shape), lambda x: x.unsqueeze(u)]
    if nd >= 2:
        p = list(range(nd))
        rnd.shuffle(p)
        d0, d1 = rnd.randrange(nd), rnd.randrange(nd)
        off = rnd.randint(-1, 1)
        ops += [lambda x: x.permute(*p), lambda x: x.transpose(d0, d1), lambda x: x.diagonal(off, d0, (d0 + 1) % nd)]
    if nd >= 1:
        d, d2 = rnd.randrange(nd), rnd.randrange(nd)
        ops += [lambda x: x.squeeze(), lambda x: x.flatten(), lambda x: x.movedim(d, d2),
                lambda x: x.reshape(-1)]
        if shp[d] > 0:
            start, step, size = rnd.randrange(shp[d]), rnd.randint(1, 3), rnd.randint(1, shp[d])
            idx = (slice(None),) * d + (slice(start, None, step),)
            ops += [lambda x: x[idx], lambda x: x.select(d, start), lambda x: x.narrow(d, 0, size),
                    lambda x: x.unfold(d, size, step)]
    return rnd.choice(ops)


@pytest.mark.parametrize("seed", range(60))
def test_random_view_chains_layout_as_torch(seed):
    import random
    rnd = random.Random(seed)
    shp = tuple(rnd.randint(1, 4) for _ in range(rnd.randint(0, 4)))
    a = np.arange(int(np.prod(shp)), dtype=np.float32).reshape(shp)
    e, t = ember.tensor(a.copy()), torch.tensor(a.copy())
    for _ in range(rnd.randint(1, 4)):
        op = _random_view_op(rnd, t)
        e, t = op(e), op(t)
        big = [i for i, n in enumerate(t.shape) if n > 1]
        assert tuple(e.shape) == tuple(t.shape)
        if t.numel() > 1:
            assert [e.stride(i) for i in big] == [t.stride(i) for i in big]
            assert e.storage_offset() == t.storage_offset()
        assert e.is_contiguous() == t.is_contiguous() and e._is_view() == t._is_view()
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_retain_grad_follows_inplace_ops_and_view_rebase():
    res = []
    for m in (ember, torch):
        a = m.ones(3, requires_grad=True)
        x = a * 1
        x.retain_grad()
        x.mul_(2)                   # x.grad is w.r.t. the new x
        (x * 3).sum().backward()
        b = m.ones(3, requires_grad=True)
        y = b * 1
        v = y[:2]
        v.retain_grad()
        y.mul_(3)                   # v is rebased; its retained grad comes from the new history
        (v * 2).sum().backward()
        res.append((x.grad.tolist(), v.grad.tolist(), b.grad.tolist()))
    assert res[0] == res[1]


def test_ravel_copies_a_non_contiguous_input_and_cat_layout_as_torch():
    for m in (ember, torch):
        x = m.zeros(3, 4)
        r = x[:, :1].ravel()
        r.fill_(1.0)                # a copy: x is untouched
        assert x.sum().item() == 0.0 and r.stride() == (1,)
        assert x.ravel()._base is x
    cases = [lambda m: m.cat([m.zeros(3, 4).t(), m.zeros(3, 4).t()], 0),
             lambda m: m.hstack([m.zeros(2, 2).t(), m.zeros(2, 2).t()]),
             lambda m: m.cat([m.zeros(2, 3, 4, 5).contiguous(memory_format=m.channels_last)] * 2, 1),
             lambda m: m.cat([m.zeros(2, 3, 4, 5).contiguous(memory_format=m.channels_last), m.zeros(2, 3, 4, 5)], 1)]
    for c in cases:
        assert c(ember).stride() == c(torch).stride()


def test_views_of_split_pieces_are_restricted_too():
    for m in (ember, torch):
        a = m.ones(4, requires_grad=True)
        x = a * 1
        v = x.split(2)[0].transpose(0, 0)
        x.mul_(2)
        with pytest.raises(RuntimeError, match=r"(?i)view.*modified"):
            (v * 1).sum().backward()
