"""matmul (1-D and batched rules), mm, bmm, mv, dot, outer, einsum vs PyTorch, with gradcheck and errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import ember
import torch
from helpers import compare, gradcheck

MATMUL_SHAPES = [
    ((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 5)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)),
    ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 5)), ((2, 3, 4), (4,)), ((0, 4), (4, 3)),
    ((3, 0), (0, 2)), ((1, 3, 4), (2, 1, 4, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    compare(lambda m, a, b: m.matmul(a, b), list(shapes))
    compare(lambda m, a, b: a @ b, list(shapes), dtype=np.float32, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES[:10], ids=str)
def test_matmul_gradcheck(shapes):
    assert gradcheck(lambda a, b: a @ b, list(shapes))


def test_matmul_noncontiguous():
    compare(lambda m, a, b: a.t() @ b[:, ::2], [(4, 3), (4, 6)])
    compare(lambda m, a, b: a.transpose(1, 2) @ b, [(2, 4, 3), (4, 5)])
    compare(lambda m, a, b: a[::2] @ b.transpose(0, 1), [(4, 3), (2, 3, 5)][:1] + [(3, 3, 5)])


def test_mm_bmm_mv_dot_outer():
    compare(lambda m, a, b: m.mm(a, b), [(3, 4), (4, 2)])
    compare(lambda m, a, b: m.bmm(a, b), [(2, 3, 4), (2, 4, 2)])
    compare(lambda m, a, b: m.mv(a, b), [(3, 4), (4,)])
    compare(lambda m, a, b: m.dot(a, b), [(4,), (4,)])
    compare(lambda m, a, b: m.outer(a, b), [(3,), (4,)])
    compare(lambda m, a, b, c: m.addmm(c, a, b, beta=0.5, alpha=2.0), [(3, 4), (4, 2), (2,)])
    for f in (lambda a, b: ember.mm(a, b), lambda a, b: ember.outer(a[0], b[:, 0])):
        assert gradcheck(f, [(3, 4), (4, 2)])


def test_matmul_double_backward():
    assert ember.autograd.gradgradcheck(lambda a, b: (a @ b).tanh(),
                                        [ember.randn(3, 4, dtype=ember.float64, requires_grad=True),
                                         ember.randn(4, 2, dtype=ember.float64, requires_grad=True)])


EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("ijk,ik->j", [(2, 3, 4), (2, 4)]),
    ("ij,kl->ijkl", [(2, 3), (1, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum(eq, shapes):
    compare(lambda m, *xs: m.einsum(eq, *xs), shapes)
    assert gradcheck(lambda *xs: ember.einsum(eq, *xs), shapes)


def test_einsum_list_form_and_trace():
    compare(lambda m, a, b: m.einsum("ij,jk->ik", [a, b]), [(2, 3), (3, 2)])
    compare(lambda m, a: m.einsum("ii->i", a), [(3, 3)], grad=False)


@pytest.mark.parametrize("fn,match", [
    (lambda: ember.randn(3, 4) @ ember.randn(5, 6), r"matmul.*\(3, 4\).*\(5, 6\)"),
    (lambda: ember.randn(4) @ ember.randn(5), r"matmul.*\(4,\).*\(5,\)"),
    (lambda: ember.randn(2, 3, 4) @ ember.randn(3, 4, 5), r"matmul.*batch.*\(2, 3, 4\).*\(3, 4, 5\)"),
    (lambda: ember.matmul(ember.tensor(1.0), ember.randn(3)), r"matmul.*\(\)"),
    (lambda: ember.mm(ember.randn(3), ember.randn(3, 4)), r"mm.*2-D.*\(3,\)"),
    (lambda: ember.mm(ember.randn(3, 4), ember.randn(3, 4)), r"matmul.*\(3, 4\).*\(3, 4\)"),
    (lambda: ember.bmm(ember.randn(2, 3, 4), ember.randn(3, 4, 5)), r"bmm.*\(2, 3, 4\).*\(3, 4, 5\)"),
    (lambda: ember.bmm(ember.randn(3, 4), ember.randn(4, 5)), r"bmm.*3-D"),
    (lambda: ember.dot(ember.randn(3), ember.randn(4)), r"(dot|matmul).*3.*4"),
    (lambda: ember.outer(ember.randn(3, 1), ember.randn(4)), r"outer"),
    (lambda: ember.einsum("ij,jk->ik", ember.randn(3, 4), ember.randn(5, 6)), r"einsum.*j"),
    (lambda: ember.einsum("ij,jk->ik", ember.randn(3, 4)), r"einsum.*2 operands"),
    (lambda: ember.einsum("ijk->i", ember.randn(3, 4)), r"einsum.*ijk.*\(3, 4\)"),
])
def test_linalg_errors(fn, match):
    with pytest.raises(RuntimeError, match=match):
        fn()


def test_matmul_promotion():
    a = ember.ones(2, 2, dtype=ember.int64)
    b = ember.ones(2, 2)
    assert (a @ b).dtype == ember.float32
    assert (a @ a).dtype == ember.int64 and (a @ a).tolist() == [[2, 2], [2, 2]]



@settings(max_examples=25, deadline=None)
@given(batch=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1, max_side=3),
       n=st.integers(1, 3), k=st.integers(0, 3), m=st.integers(1, 3), vec=st.sampled_from(["none", "left", "right"]))
def test_matmul_property(batch, n, k, m, vec):
    sa = batch.input_shapes[0] + (n, k)
    sb = batch.input_shapes[1] + (k, m)
    if vec == "left":
        sa = (k,)
    elif vec == "right":
        sb = (k,)
    compare(lambda mod, a, b: mod.matmul(a, b), [sa, sb])


# -- issue 11, class 8: einsum's implicit mode and repeated indices; tensordot's layout; inner on N-D ---------
EINSUM_IMPLICIT = [
    ("...ij", [(2, 3, 4)]),                 # ellipsis dims are kept, not summed
    ("...ji", [(2, 3, 4)]),                 # implicit output labels are sorted: a transpose
    ("ba", [(3, 4)]),
    ("...ij,...jk", [(2, 3, 4), (2, 4, 5)]),
    ("i...,i...", [(3, 2), (3, 2)]),
    ("bij,bjk", [(2, 3, 4), (2, 4, 5)]),
    ("ii", [(3, 3)]),                       # a repeated label in implicit mode: the trace
    ("Ab,bc", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_IMPLICIT, ids=[e[0] for e in EINSUM_IMPLICIT])
def test_einsum_implicit_mode(eq, shapes):
    compare(lambda m, *xs: m.einsum(eq, *xs), shapes)


EINSUM_REPEATED = [
    ("ii->i", [(3, 3)]),
    ("ii->", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("bii->bi", [(2, 3, 3)]),
    ("ii,ij->j", [(3, 3), (3, 4)]),
    ("iji->ij", [(3, 2, 3)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("iii->i", [(2, 2, 2)]),
    ("bi,bi->b", [(3, 1), (3, 4)]),         # a size-1 label broadcasting against another operand
    ("i,i", [(1,), (4,)]),
    ("...ij,...jk", [(2, 1, 3, 4), (1, 4, 5)]),
    ("bij,bi->bj", [(3, 1, 2), (3, 4)]),
    ("bii,bi->b", [(3, 2, 2), (1, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_REPEATED, ids=[e[0] for e in EINSUM_REPEATED])
def test_einsum_repeated_index_backward(eq, shapes):
    compare(lambda m, *xs: m.einsum(eq, *xs), shapes)
    assert gradcheck(lambda *xs: ember.einsum(eq, *xs), shapes)


def test_einsum_double_backward_and_sublist_form():
    a = ember.randn(3, 3, dtype=ember.float64, requires_grad=True)
    b = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda x, y: ember.einsum("ii,ij->j", x, y).tanh(), [a, b])
    compare(lambda m, x, y: m.einsum(x, [0, 1], y, [1, 2], [0, 2]), [(2, 3), (3, 4)])
    compare(lambda m, x: m.einsum(x, [Ellipsis, 0, 0], [Ellipsis, 0]), [(2, 3, 3)])


TENSORDOT = [
    (2, [(2, 3, 4), (3, 4, 5)]),
    (1, [(2, 3, 4), (4, 5)]),
    (0, [(2, 3), (4,)]),
    (([1, 0], [0, 1]), [(3, 2, 4), (2, 3, 5)]),
    (([2], [0]), [(2, 3, 4), (4, 5)]),
    (([0, 2], [2, 0]), [(4, 3, 5), (5, 2, 4)]),
    ([[-1], [-2]], [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("dims,shapes", TENSORDOT, ids=[str(d[0]) for d in TENSORDOT])
def test_tensordot_values_and_layout(dims, shapes):
    e, = compare(lambda m, a, b: m.tensordot(a, b, dims=dims), shapes)
    t = torch.tensordot(*[torch.zeros(s) for s in shapes], dims=dims)
    assert e.is_contiguous() == t.is_contiguous() and e.stride() == t.stride()


def test_tensordot_errors():
    with pytest.raises(RuntimeError, match="contracted dimensions need to match"):
        ember.tensordot(ember.randn(2, 3), ember.randn(4, 2), dims=([1], [0]))
    with pytest.raises(RuntimeError, match="tensordot"):
        ember.tensordot(ember.randn(2, 3), ember.randn(3, 2), dims=([1, 0], [0]))


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (4, 3)], [(2, 1, 3), (3,)], [(), (2, 3)], [(2, 3), ()]],
                         ids=str)
def test_inner_any_dims(shapes):
    compare(lambda m, a, b: m.inner(a, b), shapes)
