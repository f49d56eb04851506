"""Top-level order statistics, scans, set operations, histograms, grids and matrix builders
(ember/ops/algorithms.py) against torch 2.13: values, indices, dtypes, shapes, gradients and errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import compare, gradcheck

NAN = float("nan")


def arr(*vals, dtype=np.float64):
    return np.array(vals, dtype=dtype)


def both(fn, *arrays):
    """fn(module, *tensors) in both libraries on the same data, compared exactly (values, dtype, shape)."""
    e = fn(ember, *[ember.tensor(a) for a in arrays])
    t = fn(torch, *[torch.tensor(a) for a in arrays])
    es = e if isinstance(e, (tuple, list)) else [e]
    ts = t if isinstance(t, (tuple, list)) else [t]
    assert len(es) == len(ts)
    for i, (a, b) in enumerate(zip(es, ts)):
        bn = b.detach().numpy()
        assert tuple(a.shape) == tuple(bn.shape), f"output {i}: shape {tuple(a.shape)} vs {bn.shape}"
        assert a.dtype == bn.dtype, f"output {i}: dtype {a.dtype} vs {bn.dtype}"
        np.testing.assert_allclose(a.detach().numpy(), bn, rtol=1e-6, atol=1e-9, equal_nan=True,
                                   err_msg=f"output {i}")
    return e


VALUE_CASES = {
    "median_all": (lambda m, x: m.median(x), [(3, 5)]),
    "median_dim": (lambda m, x: m.median(x, 1), [(3, 4)]),
    "median_dim_keep": (lambda m, x: x.median(0, keepdim=True), [(4, 3)]),
    "nanmedian_dim": (lambda m, x: m.nanmedian(x, -1), [(3, 5)]),
    "kthvalue": (lambda m, x: m.kthvalue(x, 2, 0), [(4, 3)]),
    "kthvalue_keep": (lambda m, x: x.kthvalue(3, keepdim=True), [(2, 5)]),
    "cummax": (lambda m, x: m.cummax(x, 1), [(3, 5)]),
    "cummin": (lambda m, x: m.cummin(x, 0), [(4, 3)]),
    "logcumsumexp": (lambda m, x: m.logcumsumexp(x, 1), [(3, 5)]),
    "msort": (lambda m, x: m.msort(x), [(4, 3)]),
    "quantile": (lambda m, x: m.quantile(x, 0.3), [(3, 5)]),
    "quantile_dim": (lambda m, x: m.quantile(x, m.tensor([0.1, 0.5, 1.0], dtype=x.dtype), dim=1, keepdim=True),
                     [(3, 5)]),
    "diff": (lambda m, x: m.diff(x), [(3, 5)]),
    "diff_n2": (lambda m, x, p: m.diff(x, n=2, dim=0, prepend=p), [(4, 3), (2, 3)]),
    "cdist": (lambda m, a, b: m.cdist(a, b), [(4, 3), (5, 3)]),
    "cdist_p1_batch": (lambda m, a, b: m.cdist(a, b, p=1.0), [(2, 4, 3), (2, 5, 3)]),
    "cdist_inf": (lambda m, a, b: m.cdist(a, b, p=float("inf")), [(4, 3), (5, 3)]),
    "cdist_mm": (lambda m, a, b: m.cdist(a, b), [(30, 3), (4, 3)]),             # > 25 rows: matrix-product path
    "cdist_mm_batch": (lambda m, a, b: m.cdist(a, b), [(2, 4, 3), (1, 27, 3)]),
    "cdist_forced": (lambda m, a, b: (m.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
                                      m.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")), [(3, 2), (4, 2)]),
    "cross": (lambda m, a, b: m.cross(a, b, dim=1), [(4, 3), (4, 3)]),
    "vander": (lambda m, x: m.vander(x, N=4), [(3,)], False),          # torch 2.13's vander backward fails
    "vander_inc": (lambda m, x: m.vander(x, increasing=True), [(3,)], False),
    "block_diag": (lambda m, a, b, c: m.block_diag(a, b, c), [(2, 3), (3,), ()]),
    "diag_embed": (lambda m, x: m.diag_embed(x), [(2, 3)]),
    "diag_embed_offset": (lambda m, x: m.diag_embed(x, offset=-1, dim1=0, dim2=2), [(2, 3)]),
    "diagflat": (lambda m, x: m.diagflat(x, 1), [(2, 2)]),
    "cov": (lambda m, x: m.cov(x), [(3, 6)]),
    "cov_1d": (lambda m, x: m.cov(x, correction=0), [(6,)]),
    "cov_weights": (lambda m, x, aw: m.cov(x, fweights=m.tensor([1, 2, 1, 3]), aweights=aw.abs()), [(2, 4), (4,)]),
    "corrcoef": (lambda m, x: m.corrcoef(x), [(3, 6)]),
    "cartesian_prod": (lambda m, a, b: m.cartesian_prod(a, b), [(2,), (3,)]),
    "combinations": (lambda m, x: m.combinations(x, 2), [(4,)]),
    "combinations_rep": (lambda m, x: m.combinations(x, 3, with_replacement=True), [(3,)]),
    "meshgrid_ij": (lambda m, a, b, c: m.meshgrid(a, b, c, indexing="ij"), [(2,), (3,), (4,)]),
    "meshgrid_xy": (lambda m, a, b, c: m.meshgrid([a, b, c], indexing="xy"), [(2,), (3,), (4,)]),
    "atleast": (lambda m, a, b, c: m.atleast_3d(a, b, c) + m.atleast_2d(a, b) + (m.atleast_1d(a),),
                [(), (3,), (2, 3)]),
    "trapezoid": (lambda m, y: m.trapezoid(y, dx=0.5), [(3, 5)]),
    "trapezoid_x": (lambda m, y, x: m.trapezoid(y, x), [(3, 5), (5,)]),
    "cumulative_trapezoid": (lambda m, y: m.cumulative_trapezoid(y, dim=0), [(4, 3)]),
    "addmv_addr": (lambda m, c, a, v: (m.addmv(c, a, v, beta=0.5, alpha=2), m.addr(a, c, v)), [(3,), (3, 4), (4,)]),
    "addbmm": (lambda m, c, a, b: m.addbmm(c, a, b, alpha=0.5), [(3, 2), (4, 3, 5), (4, 5, 2)]),
    "svd_old": (lambda m, x: (lambda r: (r.S, r.U.abs(), r.V.abs()))(m.svd(x)), [(5, 3)]),
    "qr_old": (lambda m, x: m.qr(x), [(4, 3)]),
    "cholesky_old": (lambda m, x: m.cholesky(x @ x.mT + 3 * m.eye(3, dtype=x.dtype), True), [(3, 3)]),
    "cholesky_solve": (lambda m, b, x: m.cholesky_solve(b, m.linalg.cholesky(x @ x.mT + 3 * m.eye(3, dtype=x.dtype))),
                       [(3, 2), (3, 3)]),
    "cholesky_inverse": (lambda m, x: m.cholesky_inverse(m.linalg.cholesky(x @ x.mT + 3 * m.eye(3, dtype=x.dtype))),
                         [(3, 3)]),
    "chain_matmul": (lambda m, a, b, c: m.chain_matmul(a, b, c), [(2, 3), (3, 4), (4, 2)]),
    "kron_3d": (lambda m, a, b: m.kron(a, b), [(2, 1, 3), (2, 2)]),
    "gradient": (lambda m, x: m.gradient(x), [(5,)]),
    "gradient_order2": (lambda m, x: m.gradient(x, spacing=2.0, edge_order=2), [(5,)]),
    "gradient_coords": (lambda m, x: m.gradient(x, spacing=(m.tensor([0., 1, 3, 4, 7], dtype=x.dtype),)), [(5,)]),
    "gradient_coords2": (lambda m, x: m.gradient(x, spacing=(m.tensor([0., 1, 3, 4, 7], dtype=x.dtype),),
                                                 edge_order=2), [(5,)]),
    "gradient_2d": (lambda m, x: m.gradient(x, spacing=[2.0, 3.0]), [(3, 4)]),
    "gradient_dim": (lambda m, x: m.gradient(x, dim=1, edge_order=2), [(3, 4)]),
    "renorm": (lambda m, x: m.renorm(x, 2, 0, 1.5), [(3, 4)]),
    "renorm_p1": (lambda m, x: x.renorm(1, 1, 2), [(3, 4)]),
    "nuclear_frobenius": (lambda m, x: (m.nuclear_norm(x), m.frobenius_norm(x, (0, 1))), [(3, 4)]),
    "pdist": (lambda m, x: m.pdist(x), [(4, 3)]),
    "pdist_p1": (lambda m, x: m.pdist(x, 1), [(4, 3)]),
    "column_row_stack": (lambda m, a, b, c: (m.column_stack([a, b]), m.row_stack([a, c])), [(3,), (3, 2), (2, 3)]),
    "hvdsplit": (lambda m, x: m.hsplit(x, 2) + m.vsplit(x, [1]) + m.dsplit(x, [1, 3]), [(2, 4, 4)]),
}


@pytest.mark.parametrize("name", list(VALUE_CASES))
def test_against_torch(name):
    fn, shapes, *grad = VALUE_CASES[name]
    compare(fn, shapes, grad=grad[0] if grad else True)


GRADCHECK = {
    "median": (lambda x: ember.median(x, 1).values, [(3, 4)]),
    "kthvalue": (lambda x: ember.kthvalue(x, 2, 0).values, [(4, 3)]),
    "cummax": (lambda x: ember.cummax(x, 1).values, [(3, 5)]),
    "logcumsumexp": (lambda x: ember.logcumsumexp(x, 1), [(3, 5)]),
    "quantile": (lambda x: ember.quantile(x, 0.3, dim=1), [(3, 5)]),
    "cdist": (lambda a, b: ember.cdist(a, b), [(4, 3), (5, 3)]),
    "cdist_mm": (lambda a, b: ember.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), [(4, 3), (5, 3)]),
    "cov": (lambda x: ember.cov(x), [(3, 5)]),
    "block_diag": (lambda a, b: ember.block_diag(a, b), [(2, 3), (2,)]),
    "diag_embed": (lambda x: ember.diag_embed(x, 1), [(2, 3)]),
    "vander": (lambda x: ember.vander(x, 4), [(3,)]),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    fn, shapes = GRADCHECK[name]
    assert gradcheck(fn, shapes)


def test_logcumsumexp_large_values_and_double_backward():
    compare(lambda m, x: m.logcumsumexp(x, 0), [arr(1000., 1001, -1000, 3)])
    x = ember.tensor(np.random.default_rng(0).standard_normal(5), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: ember.logcumsumexp(t, 0), [x])


def test_ties_and_nan_rules():
    x = arr(3, 1, 2, 1, 3, 3, 1, NAN, 2)
    both(lambda m, t: m.median(t), x)
    both(lambda m, t: m.median(t, 0), x)
    both(lambda m, t: m.nanmedian(t), x)
    both(lambda m, t: m.nanmedian(t, 0), x)
    both(lambda m, t: m.nanmedian(t, 1), np.array([[NAN, NAN], [1, NAN]]))
    both(lambda m, t: m.median(t, 1), np.array([[NAN, 1, NAN], [2, 1, 3]]))
    both(lambda m, t: m.mode(t), arr(3, 1, 2, 1, 3, 3, 1, 2))
    both(lambda m, t: m.mode(t, 1), np.array([[1., 2, 2, 1], [5, 5, 4, 4]]))
    both(lambda m, t: m.mode(t, 0), np.array([[1, 2], [1, 3], [2, 2]]))
    both(lambda m, t: m.cummax(t, 0), arr(1, 1, 0, 2, NAN, 3, NAN))
    both(lambda m, t: m.cummin(t, 0), arr(1, 1, 0, 2, 0, NAN, -1))
    both(lambda m, t: m.cummax(t, 0), np.array([3, 1, 3, 5], np.int64))
    both(lambda m, t: m.kthvalue(t, 2), arr(3, 1, 2, 1))
    both(lambda m, t: m.kthvalue(t, 4), arr(3, NAN, 2, 1))
    both(lambda m, t: m.quantile(t, 0.5), arr(1, NAN, 2))
    both(lambda m, t: m.nanquantile(t, 0.5), arr(1, NAN, 2))
    for how in ("lower", "higher", "midpoint", "nearest"):
        both(lambda m, t: m.quantile(t, m.tensor([0.0, 0.25, 0.4, 0.5, 1.0], dtype=t.dtype), interpolation=how),
             arr(1, 7, 2, 4, 3, 9))


@pytest.mark.parametrize("vals", [[NAN, 1.0, NAN], [1.0, NAN, 1.0], [2.0, 1, 2, 1], [0.0, 0.0], [3.0, 1, 2]])
def test_median_of_all_shares_gradient_among_ties(vals):
    # found by the differential fuzzer: median()/nanmedian() without dim split the gradient evenly
    compare(lambda m, x: (m.median(x), m.nanmedian(x)), [np.array(vals)])


def test_median_of_empty_requires_grad():
    compare(lambda m, x: m.median(x), [np.zeros(0)])


@pytest.mark.parametrize("seq,val", [
    (np.array([-0.0036734284], np.float32), np.array(-0.00367342844)),    # a 0-d float64 value: float32 compare
    (np.array([0.1]), np.array(0.1, np.float32)),
    (np.array([1, 2, 3]), np.array(2.5)),
    (np.array([1.0, 2, 3]), np.array([2.5], np.float32)),
])
def test_searchsorted_mixed_dtypes(seq, val):
    both(lambda m, s, v: (m.searchsorted(s, v), m.searchsorted(s, v, right=True)), seq, val)


def test_gradient_goes_to_the_selected_element():
    x = arr(3, 1, 2, 1, 3)
    compare(lambda m, t: m.median(t), [x])
    compare(lambda m, t: m.mode(t, 0).values, [x])
    compare(lambda m, t: m.cummax(t, 0).values, [arr(1, 1, 0, 2, 2)])
    compare(lambda m, t: m.nanmedian(t), [arr(NAN, 2, 1, 4)])


def test_unique():
    x = np.array([3, 1, 2, 1, 5, 3], np.int64)
    both(lambda m, t: m.unique(t), x)
    both(lambda m, t: m.unique(t, sorted=False, return_inverse=True, return_counts=True), x)
    both(lambda m, t: m.unique(t, return_inverse=True), x.reshape(2, 3))
    m2 = np.array([[1, 2], [1, 2], [0, 5]], np.int64)
    both(lambda m, t: m.unique(t, dim=0, return_inverse=True, return_counts=True), m2)
    both(lambda m, t: m.unique(t, dim=1, return_counts=True), m2)
    both(lambda m, t: m.unique(t), arr(NAN, NAN, 1.0))
    both(lambda m, t: t.unique(return_counts=True), np.array([True, False, True]))
    both(lambda m, t: m.unique_consecutive(t, return_inverse=True, return_counts=True),
         np.array([1, 1, 2, 2, 3, 1, 1, 2], np.int64))
    both(lambda m, t: m.unique_consecutive(t, dim=0, return_counts=True), m2)
    xe = ember.tensor([1., 2, 1], requires_grad=True)
    xt = torch.tensor([1., 2, 1], requires_grad=True)
    assert ember.unique(xe).requires_grad == torch.unique(xt).requires_grad
    with pytest.raises(RuntimeError, match="not implemented"):
        ember.unique(xe).sum().backward()


def test_counting_and_searching():
    idx = np.array([0, 1, 1, 3, 1], np.int64)
    both(lambda m, t: m.bincount(t), idx)
    both(lambda m, t: m.bincount(t, minlength=7), idx)
    both(lambda m, t: m.bincount(t), np.zeros(0, np.int64))
    both(lambda m, t: m.bincount(t, weights=m.tensor([.5, 1, 1, 2, 3])), idx)
    both(lambda m, t: m.bincount(t, weights=m.tensor([1, 1, 1, 2, 3])), idx)
    compare(lambda m, w: m.bincount(m.tensor([0, 1, 1, 3, 1]), weights=w), [(5,)], grad=False)
    both(lambda m, t: m.histc(t, bins=4, min=0, max=3), arr(1, 2, 1, 3, -1, 5))
    both(lambda m, t: m.histc(t, bins=5), arr(1, 2, 1, 3, 0.5))
    both(lambda m, t: m.histc(t, bins=3), arr(2, 2))
    both(lambda m, t: m.histogram(t, bins=4), arr(1, 2, 1, 3, 0.5))
    both(lambda m, t: m.histogram(t, bins=3, range=(0., 4.), weight=t, density=True), arr(1, 2, 1, 3, 0.5))
    seq = np.array([[1, 3, 5, 7], [2, 4, 6, 8]], np.int64)
    vals = np.array([[3, 6], [0, 9]], np.int64)
    both(lambda m, s, v: m.searchsorted(s, v), seq, vals)
    both(lambda m, s, v: m.searchsorted(s, v, right=True, out_int32=True), seq, vals)
    both(lambda m, s, v: m.searchsorted(s[0], v, side="right"), seq, vals)
    both(lambda m, s: m.searchsorted(s[0], 3), seq)
    both(lambda m, s, v: m.searchsorted(s, v, sorter=m.argsort(s)), np.array([[5, 1, 3], [2, 9, 4]]),
         np.array([[2], [5]]))
    both(lambda m, v, b: m.bucketize(v, b), arr(0.5, 1, 2.5, 9), arr(1, 2, 3))
    both(lambda m, v, b: m.bucketize(v, b, right=True), arr(0.5, 1, 2.5, 9), arr(1, 2, 3))
    both(lambda m, a, b: m.isin(a, b), np.array([1, 2, 3, 4]), np.array([2, 4]))
    both(lambda m, a, b: m.isin(a, b, invert=True), np.array([[1, 2], [3, 4]]), np.array([2, 4]))
    for row, col, off in ((3, 4, 1), (4, 3, -1), (3, 3, 0), (0, 2, 0), (2, 5, 7)):
        both(lambda m: m.tril_indices(row, col, off))
        both(lambda m: m.triu_indices(row, col, off))
    both(lambda m: m.tril_indices(3, 3, dtype=m.int32))


def test_misc_values_and_dtypes():
    both(lambda m, t: m.diff(t), np.array([True, False, False]))
    both(lambda m, t: m.diff(t, n=5), np.array([1, 2, 4]))
    both(lambda m, t: m.diff(t, append=m.tensor([[9], [9]])), np.array([[1, 2, 4], [0, 0, 1]]))
    both(lambda m, t: m.cartesian_prod(t), np.array([1, 2]))
    both(lambda m, t: m.vander(t), np.array([1, 2, 3]))
    both(lambda m, a, b: m.block_diag(a, b), np.array(1), np.ones((2, 2), np.int32))
    both(lambda m, a, b: m.block_diag(a, b), arr(2, 3), np.ones((2, 2), np.int32))
    both(lambda m, t: m.corrcoef(t), arr(1, 2, 4))
    both(lambda m, t: m.cov(t), np.array([[1, 2, 4], [0, 1, 1]]))
    both(lambda m, t: m.combinations(t, 0), arr(1, 2))
    both(lambda m, t: m.combinations(t, 3), arr(1, 2))
    both(lambda m, a, b: m.kron(a, b), np.array([[1, 2], [3, 4]]), np.array([1, -1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both(lambda m, a, b: m.cross(a, b), np.ones((3, 2)), np.arange(6.).reshape(3, 2))
    g = ember.meshgrid(ember.arange(3), ember.arange(2), indexing="xy")
    assert g[0].shape == (2, 3) and not g[0].is_contiguous() or g[0].shape == (2, 3)


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
def test_windows(name):
    for n in (0, 1, 2, 5, 8):
        for periodic in (True, False):
            compare(lambda m: getattr(m, name)(n, periodic), [], grad=False, atol=1e-6)
            compare(lambda m: getattr(m, name)(n, periodic, dtype=m.float64), [], grad=False)


def test_unravel_index():
    both(lambda m, i: m.unravel_index(i, (2, 3)), np.array([4, -1, 0]))
    both(lambda m, i: m.unravel_index(i, (4, 1, 3)), np.array([[5], [11]]))


def _both_raise(fn, *arrays, exc=(RuntimeError, IndexError)):
    with pytest.raises(exc):
        fn(torch, *[torch.tensor(a) for a in arrays])
    with pytest.raises(exc) as info:
        fn(ember, *[ember.tensor(a) for a in arrays])
    return str(info.value)


def test_errors():
    _both_raise(lambda m, t: m.kthvalue(t, 5), arr(1, 2, 3))
    _both_raise(lambda m, t: m.median(t, 0), np.zeros((0, 2)))
    _both_raise(lambda m, t: m.mode(t, 1), np.zeros((2, 0)))
    _both_raise(lambda m, t: m.bincount(t), np.array([-1, 2]))
    _both_raise(lambda m, t: m.bincount(t), np.array([[1, 2]]))
    _both_raise(lambda m, t: m.histc(t), np.array([1, 2]))
    _both_raise(lambda m, t: m.histc(t, bins=3), arr(NAN, 1))
    _both_raise(lambda m, t: m.diff(t), np.array(1.0))
    _both_raise(lambda m, t: m.meshgrid(t, indexing="ab"), arr(1, 2))
    _both_raise(lambda m, t: m.meshgrid(t), np.ones((2, 2)))
    _both_raise(lambda m, t: m.cartesian_prod(t, t), np.ones((2, 2)))
    _both_raise(lambda m, t: m.quantile(t, 1.5), arr(1, 2))
    _both_raise(lambda m, t: m.quantile(t, 0.5), np.array([1, 2]))
    _both_raise(lambda m, t: m.cdist(t, t), arr(1, 2))
    _both_raise(lambda m, a, b: m.cdist(a, b), np.ones((2, 3)), np.ones((2, 4)))
    _both_raise(lambda m, t: m.searchsorted(t, t[:1]), np.ones((2, 3)))
    _both_raise(lambda m, t: m.block_diag(t), np.ones((1, 2, 2)))
    _both_raise(lambda m: m.tril_indices(-1, 2))
    _both_raise(lambda m, t: m.cov(t), np.ones((2, 2, 2)))


EDGE = {
    "median_empty_int": (lambda m, t: m.median(t), np.zeros(0, np.int64)),
    "median_empty_float": (lambda m, t: m.median(t), np.zeros((0, 3))),
    "nanmedian_all_nan_rows": (lambda m, t: m.nanmedian(t, 1), np.array([[NAN, NAN], [NAN, 1.0]])),
    "cummin_size1_dim_layout": (lambda m, t: m.cummin(t, -1), np.arange(9.).reshape(3, 1, 3)),
    "unique_dim_empty": (lambda m, t: m.unique(t, dim=0, return_inverse=True, return_counts=True), np.zeros(0)),
    "cov_one_variable": (lambda m, t: (m.cov(t), m.corrcoef(t)), np.arange(4.).reshape(1, 4)),
    "matrix_norm_1_empty": (lambda m, t: (m.linalg.matrix_norm(t, 1), m.linalg.matrix_norm(t.mT, float("inf"))),
                            np.zeros((2, 3, 0))),
    "slogdet_nan": (lambda m, t: m.linalg.slogdet(t), np.array([[1.0, NAN], [0.5, 2.0]])),
    "histogram_single_value": (lambda m, t: m.histogram(t, 3), np.array(2.0)),
    "histogram_empty": (lambda m, t: m.histogram(t, 3), np.zeros(0)),
    "trapezoid_one_nan": (lambda m, t: (m.trapezoid(t), m.trapezoid(t[:0])), np.array([NAN])),
    "trapezoid_int": (lambda m, t: (m.trapezoid(t), m.cumulative_trapezoid(t)), np.array([1, 2, 4])),
    "vander_nan_uint8": (lambda m, t: (m.vander(t), m.vander(t.to(m.uint8)), m.linalg.vander(t.to(m.uint8))),
                         np.array([NAN, 2.0])),
    "searchsorted_nan": (lambda m, s, v: (m.searchsorted(s, v), m.searchsorted(s, v, right=True)),
                         np.array([1.0, 2.0, NAN]), np.array([NAN, 1.5, 2.0, -1.0])),
    "inner_empty": (lambda m, t: m.inner(t, t), np.zeros((3, 0))),
    "quantile_empty": (lambda m, t: m.quantile(t, 0.5, dim=0), np.zeros((3, 0))),
}


@pytest.mark.parametrize("name", list(EDGE))
def test_edge_cases_match_torch(name):
    fn, *arrays = EDGE[name]
    try:
        torch_result = fn(torch, *[torch.tensor(a) for a in arrays])
    except Exception as e:   # noqa: BLE001 - the oracle decides whether this input raises
        with pytest.raises(type(e)):
            fn(ember, *[ember.tensor(a) for a in arrays])
        return
    assert torch_result is not None
    e = both(fn, *arrays)
    es = e if isinstance(e, tuple) else (e,)
    ts = torch_result if isinstance(torch_result, tuple) else (torch_result,)
    for eo, to in zip(es, ts):
        if eo.numel() > 1:
            assert eo.stride() == to.stride()


@pytest.mark.parametrize("fn,arrays", [
    (lambda m, t: m.median(t), [np.ones(3, bool)]),
    (lambda m, t: m.median(t, 0), [np.zeros((2, 0), bool)]),
    (lambda m, t: m.kthvalue(t, 1), [np.ones(3, bool)]),
    (lambda m, t: m.logcumsumexp(t, 0), [np.arange(3)]),
    (lambda m, t: m.bincount(t), [np.ones(3, bool)]),
    (lambda m, t: m.isin(t, t), [np.ones(3, bool)]),
    (lambda m, t: m.cov(t), [np.ones(3, bool)]),
    (lambda m, t: m.trapezoid(t), [np.ones(3, bool)]),
    (lambda m, t: m.searchsorted(t, t), [np.ones(3, bool)]),
    (lambda m, t: m.unique(t, dim=0), [np.zeros((3, 0))]),
    (lambda m, t: m.histogram(t, 3), [np.array([NAN, 1.0])]),
    (lambda m, t: m.linalg.vander(t), [np.ones(3, bool)]),
], ids=["median_bool", "median_dim_bool", "kthvalue_bool", "logcumsumexp_int", "bincount_bool", "isin_bool",
        "cov_bool", "trapezoid_bool", "searchsorted_bool", "unique_zero_dim", "histogram_nan", "vander_bool"])
def test_unsupported_inputs_raise_like_torch(fn, arrays):
    _both_raise(fn, *arrays, exc=(RuntimeError, NotImplementedError))


from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

SELECTIONS = {
    "median": lambda m, x, d, k, kd: m.median(x, d, kd),
    "nanmedian": lambda m, x, d, k, kd: m.nanmedian(x, d, kd),
    "kthvalue": lambda m, x, d, k, kd: m.kthvalue(x, k, d, kd),
    "mode": lambda m, x, d, k, kd: m.mode(x, d, kd),
    "cummax": lambda m, x, d, k, kd: m.cummax(x, d),
    "cummin": lambda m, x, d, k, kd: m.cummin(x, d),
    "logcumsumexp": lambda m, x, d, k, kd: m.logcumsumexp(x, d),
    "quantile": lambda m, x, d, k, kd: m.quantile(x, 0.37, d, kd),
    "diff": lambda m, x, d, k, kd: m.diff(x, k - 1, d),
}


@settings(max_examples=30, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data(),
       op=st.sampled_from(sorted(SELECTIONS)), keepdim=st.booleans())
def test_selections_random_shapes(shape, data, op, keepdim):
    # distinct values (no ties), so indices and gradients are defined the same way in both libraries
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    k = data.draw(st.integers(1, shape[d]))
    seed = data.draw(st.integers(0, 2 ** 16))
    x = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 1.0
    compare(lambda m, t: SELECTIONS[op](m, t, d, k, keepdim), [x])


@pytest.mark.parametrize("fn", [
    lambda m, x: m.histogram(x, 3),
    lambda m, x: m.frexp(x),
    lambda m, x: m.heaviside(x, x),
    lambda m, x: m.nextafter(x, x + 1),
    lambda m, x: m.linalg.lstsq(x, x),
    lambda m, x: m.unique(x, return_counts=True),
    lambda m, x: m.median(x, 0),
    lambda m, x: m.bincount(m.tensor([0, 1, 1]), weights=x[0]),
], ids=["histogram", "frexp", "heaviside", "nextafter", "lstsq", "unique", "median", "bincount"])
def test_requires_grad_flags_match_torch(fn):
    a = np.random.default_rng(0).standard_normal((3, 3))
    e = fn(ember, ember.tensor(a, requires_grad=True))
    t = fn(torch, torch.tensor(a, requires_grad=True))
    for eo, to in zip(e if isinstance(e, tuple) else (e,), t if isinstance(t, tuple) else (t,)):
        assert eo.requires_grad == to.requires_grad


@pytest.mark.parametrize("fn", [
    lambda m, x: m.logcumsumexp(x, 0), lambda m, x: m.diag_embed(x), lambda m, x: m.block_diag(x, x),
    lambda m, x: m.cumulative_trapezoid(x), lambda m, x: m.column_stack([x, x]), lambda m, x: m.cummax(x, 1),
    lambda m, x: m.linalg.inv(x), lambda m, x: m.median(x, 0),
], ids=["logcumsumexp", "diag_embed", "block_diag", "cumulative_trapezoid", "column_stack", "cummax", "inv", "median"])
def test_layout_of_results_from_transposed_inputs(fn):
    a = np.random.default_rng(0).standard_normal((3, 3))
    e = fn(ember, ember.tensor(a).mT)
    t = fn(torch, torch.tensor(a).mT)
    for eo, to in zip(e if isinstance(e, tuple) else (e,), t if isinstance(t, tuple) else (t,)):
        assert eo.stride() == to.stride()
