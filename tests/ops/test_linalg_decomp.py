"""ember.linalg (norms, inverses, solvers, decompositions) against torch.linalg: values, dtypes, batching,
named tuples, errors, gradients against torch's and float64 finite differences.

Eigenvectors and singular vectors are defined up to sign (LAPACK builds differ), so those are compared through
sign-invariant functions (|U|, U diag(f(S)) Vh, V diag(f(w)) V^T)."""
import numpy as np
import pytest
import torch

import ember
import ember.linalg as LA
from helpers import compare, gradcheck


def spd(m, x):
    return x @ x.mT + 3 * m.eye(x.shape[-1], dtype=x.dtype)


CASES = {
    "inv": (lambda m, a: m.linalg.inv(a), [(3, 3)]),
    "inv_batch": (lambda m, a: m.linalg.inv(a), [(2, 4, 4)]),
    "inverse": (lambda m, a: m.inverse(a), [(3, 3)]),
    "solve": (lambda m, a, b: m.linalg.solve(a, b), [(3, 3), (3, 2)]),
    "solve_vec": (lambda m, a, b: m.linalg.solve(a, b), [(3, 3), (3,)]),
    "solve_batch_vec": (lambda m, a, b: m.linalg.solve(a, b), [(2, 3, 3), (2, 3)]),
    "solve_bcast": (lambda m, a, b: m.linalg.solve(a, b), [(2, 3, 3), (3, 4)]),
    "solve_right": (lambda m, a, b: m.linalg.solve(a, b, left=False), [(3, 3), (2, 3)]),
    "det": (lambda m, a: m.linalg.det(a), [(2, 3, 3)]),
    "det_top": (lambda m, a: (m.det(a), a.det()), [(3, 3)]),
    "slogdet": (lambda m, a: m.linalg.slogdet(a), [(2, 3, 3)]),
    "logdet": (lambda m, a: m.logdet(spd(m, a)), [(3, 3)]),
    "cholesky": (lambda m, a: m.linalg.cholesky(spd(m, a)), [(2, 3, 3)]),
    "cholesky_upper": (lambda m, a: m.linalg.cholesky(spd(m, a), upper=True), [(3, 3)]),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(a), [(4, 4)]),
    "eigvalsh_U": (lambda m, a: m.linalg.eigvalsh(a, UPLO="U"), [(2, 4, 4)]),
    "eigh": (lambda m, a: (lambda r: (r[0], r[1] * r[1], r[1] @ m.diag_embed(r[0].exp()) @ r[1].mT))(
        m.linalg.eigh(a + a.mT)), [(2, 4, 4)]),
    "svd_wide": (lambda m, a: (lambda r: (r.S, r.U.abs(), r.Vh.abs(), r.U @ m.diag_embed(r.S.exp()) @ r.Vh))(
        m.linalg.svd(a, full_matrices=False)), [(2, 3, 5)]),
    "svd_tall": (lambda m, a: (lambda r: (r.S, r.U.abs(), r.Vh.abs(), (r.U[..., :1] * r.Vh[..., :1, :]).sum()))(
        m.linalg.svd(a, full_matrices=False)), [(2, 6, 4)]),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), [(4, 3)]),
    "svd_full_grad": (lambda m, a: (lambda r: (r.U.abs().sum() + r.Vh.abs().sum() + r.S.sum()))(m.linalg.svd(a)),
                      [(4, 3)]),
    "qr": (lambda m, a: m.linalg.qr(a), [(5, 3)]),
    "qr_square": (lambda m, a: m.linalg.qr(a), [(2, 3, 3)]),
    "qr_wide": (lambda m, a: m.linalg.qr(a), [(3, 5)]),
    "qr_r": (lambda m, a: m.linalg.qr(a, mode="r").R, [(4, 3)], False),   # torch: backward raises
    "pinv": (lambda m, a: m.linalg.pinv(a), [(5, 3)]),
    "pinv_wide": (lambda m, a: m.linalg.pinv(a), [(2, 3, 5)]),
    "pinv_herm": (lambda m, a: m.linalg.pinv(a + a.mT, hermitian=True), [(4, 4)]),
    "lstsq": (lambda m, a, b: m.linalg.lstsq(a, b).solution, [(5, 3), (5, 2)]),
    "lstsq_vec": (lambda m, a, b: m.linalg.lstsq(a, b).solution, [(5, 3), (5,)]),
    "lstsq_gelsd": (lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd")[:2], [(5, 3), (5, 2)]),
    "vector_norm": (lambda m, a: m.linalg.vector_norm(a), [(3, 4)]),
    "vector_norm_1": (lambda m, a: m.linalg.vector_norm(a, 1, dim=1), [(3, 4)]),
    "vector_norm_3": (lambda m, a: m.linalg.vector_norm(a, 3, dim=(0,), keepdim=True), [(3, 4)]),
    "vector_norm_half": (lambda m, a: m.linalg.vector_norm(a, 0.5, dim=-1), [(3, 4)]),
    "vector_norm_inf": (lambda m, a: m.linalg.vector_norm(a, float("inf"), dim=-1), [(3, 4)]),
    "vector_norm_-inf": (lambda m, a: m.linalg.vector_norm(a, float("-inf")), [(3, 4)]),
    "vector_norm_0": (lambda m, a: m.linalg.vector_norm(a, 0), [(3, 4)]),
    "matrix_norm_fro": (lambda m, a: m.linalg.matrix_norm(a), [(2, 3, 4)]),
    "matrix_norm_nuc": (lambda m, a: m.linalg.matrix_norm(a, "nuc"), [(2, 3, 4)]),
    "matrix_norm_2": (lambda m, a: m.linalg.matrix_norm(a, 2), [(2, 3, 4)]),
    "matrix_norm_-2": (lambda m, a: m.linalg.matrix_norm(a, -2, keepdim=True), [(2, 3, 4)]),
    "matrix_norm_1": (lambda m, a: m.linalg.matrix_norm(a, 1), [(2, 3, 4)]),
    "matrix_norm_-1": (lambda m, a: m.linalg.matrix_norm(a, -1, keepdim=True), [(2, 3, 4)]),
    "matrix_norm_inf": (lambda m, a: m.linalg.matrix_norm(a, float("inf"), dim=(0, 2)), [(2, 3, 4)]),
    "norm": (lambda m, a: m.linalg.norm(a), [(2, 3, 4)]),
    "norm_fro": (lambda m, a: m.linalg.norm(a, "fro"), [(3, 4)]),
    "norm_dim": (lambda m, a: m.linalg.norm(a, 3, dim=1), [(3, 4)]),
    "norm_vec_inf": (lambda m, a: m.linalg.norm(a, float("inf")), [(5,)]),
    "multi_dot_vec": (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [(3,), (3, 4), (4,)]),
    "multi_dot": (lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]), [(2, 3), (3, 4), (4, 5), (5, 2)]),
    "cross": (lambda m, a, b: m.linalg.cross(a, b), [(4, 3), (1, 3)]),
    "cross_dim": (lambda m, a, b: m.linalg.cross(a, b, dim=0), [(3, 2), (3, 2)]),
    "matrix_power": (lambda m, a: m.linalg.matrix_power(a, 3), [(2, 3, 3)]),
    "matrix_power_neg": (lambda m, a: m.linalg.matrix_power(a, -2), [(3, 3)]),
    "matrix_power_0": (lambda m, a: m.linalg.matrix_power(a, 0), [(3, 3)]),
    "matrix_power_top": (lambda m, a: (m.matrix_power(a, 2), a.matrix_power(1)), [(3, 3)]),
    "cond": (lambda m, a: m.linalg.cond(a), [(3, 3)]),
    "cond_fro": (lambda m, a: m.linalg.cond(a, "fro"), [(3, 3)], False),   # torch 2.13's backward fails
    "vander": (lambda m, a: m.linalg.vander(a), [(4,)]),
    "vander_N": (lambda m, a: m.linalg.vander(a, N=2), [(2, 3)]),
    "solve_triangular": (lambda m, a, b: m.linalg.solve_triangular(a + 3 * m.eye(3, dtype=a.dtype), b, upper=True),
                         [(3, 3), (3, 2)]),
    "solve_triangular_unit": (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, unitriangular=True,
                                                                        left=False), [(3, 3), (2, 3)]),
    "vecdot": (lambda m, a, b: m.linalg.vecdot(a, b), [(3, 4), (4,)]),
    "pinverse": (lambda m, a: m.pinverse(a), [(3, 4)]),
    "matrix_exp": (lambda m, a: m.linalg.matrix_exp(a), [(2, 3, 3)]),
    "matrix_exp_large": (lambda m, a: m.matrix_exp(a * 5), [(4, 4)]),
    "tensorinv": (lambda m, a: m.linalg.tensorinv(a.reshape(4, 6, 8, 3)), [(24, 24)]),
    "tensorsolve": (lambda m, a, b: m.linalg.tensorsolve(a.reshape(2, 3, 6), b), [(6, 6), (2, 3)]),
    "lu_factor": (lambda m, a: m.linalg.lu_factor(a), [(2, 4, 4)]),
    "lu_factor_tall": (lambda m, a: m.linalg.lu_factor(a), [(5, 3)], False),      # values only: square grads
    "lu_factor_wide": (lambda m, a: m.linalg.lu(a), [(3, 5)], False),
    "lu": (lambda m, a: m.linalg.lu(a), [(3, 3)]),
    "lu_unpack": (lambda m, a: m.lu_unpack(*m.linalg.lu_factor(a)), [(4, 4)]),
    "lu_solve": (lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b), [(3, 3), (3, 2)]),
    "lu_solve_adjoint": (lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b, adjoint=True),
                         [(2, 3, 3), (2, 3, 2)]),
    "lu_solve_right": (lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b, left=False), [(3, 3), (2, 3)]),
    "lu_old": (lambda m, a, b: m.lu_solve(b, *m.lu(a)), [(3, 3), (3, 2)]),
    "lu_factor_singular": (lambda m, a: m.linalg.lu_factor_ex(a), [np.array([[1., 2], [2, 4]])], False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_against_torch(name):
    fn, shapes, *grad = CASES[name]
    compare(fn, shapes, grad=grad[0] if grad else True)


@pytest.mark.parametrize("name", ["inv", "solve", "det", "cholesky", "svdvals", "qr", "pinv", "lstsq", "eigvalsh",
                                  "matrix_norm_nuc", "vector_norm_3", "slogdet"])
def test_float32(name):
    fn, shapes, *_ = CASES[name]
    compare(fn, shapes, dtype=np.float32, atol=1e-4, rtol=1e-3)


GRADCHECK = {
    "inv": (lambda a: LA.inv(a), [(3, 3)]),
    "solve": (lambda a, b: LA.solve(a, b), [(3, 3), (3, 2)]),
    "det": (lambda a: LA.det(a), [(2, 3, 3)]),
    "slogdet": (lambda a: LA.slogdet(a).logabsdet, [(3, 3)]),
    "cholesky": (lambda a: LA.cholesky(a @ a.mT + 3 * ember.eye(3, dtype=ember.float64)), [(3, 3)]),
    "eigh": (lambda a: (lambda r: (r[0], r[1].abs()))(LA.eigh(a + a.mT)), [(4, 4)]),
    "svd": (lambda a: (lambda r: (r.S, r.U.abs(), r.Vh.abs()))(LA.svd(a, full_matrices=False)), [(5, 3)]),
    "svd_wide": (lambda a: (lambda r: (r.S, r.U.abs(), r.Vh.abs()))(LA.svd(a, full_matrices=False)), [(3, 5)]),
    "qr": (lambda a: LA.qr(a), [(5, 3)]),
    "qr_wide": (lambda a: LA.qr(a), [(3, 5)]),
    "pinv": (lambda a: LA.pinv(a), [(3, 5)]),
    "lstsq": (lambda a, b: LA.lstsq(a, b).solution, [(5, 3), (5, 2)]),
    "vector_norm_3": (lambda a: LA.vector_norm(a, 3, dim=0), [(5, 3)]),
    "matrix_norm_nuc": (lambda a: LA.matrix_norm(a, "nuc"), [(4, 3)]),
    "matrix_exp": (lambda a: LA.matrix_exp(a), [(2, 3, 3)]),
    "lu_factor": (lambda a: LA.lu_factor(a).LU, [(2, 3, 3)]),
    "lu_solve": (lambda a, b: LA.lu_solve(*LA.lu_factor(a), b), [(3, 3), (3, 2)]),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    fn, shapes = GRADCHECK[name]
    assert gradcheck(fn, shapes)


@pytest.mark.parametrize("fn", [lambda a: LA.inv(a), lambda a: LA.det(a), lambda a: LA.vector_norm(a),
                                lambda a: LA.matrix_exp(a),
                                lambda a: LA.solve(a, a.sum(0))])
def test_double_backward(fn):
    a = ember.tensor(np.random.default_rng(1).standard_normal((3, 3)), requires_grad=True)
    assert ember.autograd.gradgradcheck(fn, [a])


@pytest.mark.parametrize("a", [[[1., 2, 3], [2, 4, 6], [1, 0, 1]],       # rank 2: a rank-1 cofactor matrix
                               [[1., 2, 3], [2, 4, 6], [3, 6, 9]]])      # rank 1: cofactors all zero
def test_det_gradient_at_singular_matrices(a):
    """det's gradient at a singular matrix is its cofactor matrix (the derivative; finite, not nan).
    PyTorch's is det * A^-T through its LU: the cofactor matrix where the LU's last pivot rounds to a tiny
    nonzero (MKL on Intel, for the rank-2 matrix), zero where the pivot is exactly zero (MKL on AMD Zen); so
    PyTorch is the oracle where its det is nonzero."""
    a = np.array(a)
    x = ember.tensor(a, requires_grad=True)
    (LA.det(x) * 0.5).backward()
    minor = lambda i, j: np.delete(np.delete(a, i, 0), j, 1)                   # noqa: E731
    det2 = lambda m: m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]                     # noqa: E731
    cof = np.array([[(-1) ** (i + j) * det2(minor(i, j)) for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(x.grad.numpy(), 0.5 * cof, atol=1e-12)
    t = torch.tensor(a, requires_grad=True)
    d = torch.linalg.det(t)
    (d * 0.5).backward()
    if d.item() != 0:
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-6)


def test_norm_gradient_at_zero():
    compare(lambda m, x: m.linalg.vector_norm(x, dim=1), [np.zeros((2, 3))])
    compare(lambda m, x: m.linalg.vector_norm(x, 3, dim=1), [np.array([[0., 0, 0], [1, 0, -2]])])
    compare(lambda m, x: m.linalg.vector_norm(x, float("inf")), [np.array([1., -2, 2, 0.5])])


def test_named_tuples_and_result_types():
    a = ember.randn(2, 4, 3, dtype=ember.float64)
    u, s, vh = LA.svd(a)
    assert (u.shape, s.shape, vh.shape) == ((2, 4, 4), (2, 3), (2, 3, 3))
    r = LA.svd(a, full_matrices=False)
    assert r.U.shape == (2, 4, 3) and r.Vh.shape == (2, 3, 3)
    assert LA.qr(a, mode="complete").Q.shape == (2, 4, 4)
    assert LA.qr(a, mode="r").Q.shape == (0,)
    sq = ember.randn(3, 3, dtype=ember.float64)
    assert LA.slogdet(sq)._fields == ("sign", "logabsdet")
    assert LA.eigh(sq)._fields == ("eigenvalues", "eigenvectors")
    res = LA.lstsq(a, ember.randn(2, 4, 2, dtype=ember.float64))
    tres = torch.linalg.lstsq(torch.randn(2, 4, 3, dtype=torch.float64), torch.randn(2, 4, 2, dtype=torch.float64))
    assert res._fields == ("solution", "residuals", "rank", "singular_values")
    for e, t in zip(res, tres):
        assert tuple(e.shape) == tuple(t.shape) and str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "")
    assert LA.matrix_rank(sq).item() == 3 and LA.matrix_rank(sq).dtype == ember.int64
    low = ember.tensor([[1., 2], [2, 4]])
    assert LA.matrix_rank(low).item() == torch.linalg.matrix_rank(torch.tensor([[1., 2], [2, 4]])).item() == 1
    inv_, info = LA.inv_ex(sq)
    assert info.item() == 0 and np.allclose(inv_.numpy(), np.linalg.inv(sq.numpy()))
    L, info = LA.cholesky_ex(ember.tensor([[1., 2], [2, 1]]))
    assert info.item() == torch.linalg.cholesky_ex(torch.tensor([[1., 2], [2, 1]])).info.item() == 2


def _both_raise(fn, *arrays, exc=RuntimeError):
    with pytest.raises(exc):
        fn(torch, *[torch.tensor(a) for a in arrays])
    with pytest.raises(exc) as info:
        fn(ember, *[ember.tensor(a) for a in arrays])
    return str(info.value)


def test_errors():
    sing = np.array([[1., 2], [2, 4]])
    msg = _both_raise(lambda m, a: m.linalg.inv(a), sing)
    assert "linalg.inv" in msg and "singular" in msg
    assert isinstance(pytest.raises(LA.LinAlgError, LA.inv, ember.tensor(sing)).value, RuntimeError)
    _both_raise(lambda m, a: m.linalg.solve(a, a[0]), sing)
    msg = _both_raise(lambda m, a: m.linalg.inv(a), np.ones((2, 3)))
    assert "square" in msg and "2 by 3" in msg
    msg = _both_raise(lambda m, a: m.linalg.det(a), np.ones((3, 3), np.int64))
    assert "floating point" in msg
    msg = _both_raise(lambda m, a: m.linalg.cholesky(a), np.array([[1., 2], [2, 1]]))
    assert "positive-definite" in msg
    _both_raise(lambda m, a: m.linalg.solve(a, m.ones(4, dtype=a.dtype)), np.eye(3))
    _both_raise(lambda m, a: m.linalg.vector_norm(a, float("inf")), np.zeros((0, 3)))
    _both_raise(lambda m, a: m.linalg.norm(a, 2), np.zeros((2, 2, 2)))
    _both_raise(lambda m, a: m.linalg.cross(a, a), np.zeros((2, 4)))
    _both_raise(lambda m, a: m.linalg.multi_dot([a]), np.zeros((2, 2)))
    _both_raise(lambda m, a: m.linalg.qr(a, mode="full"), np.zeros((2, 2)))
    _both_raise(lambda m, a: m.linalg.eigh(a, UPLO="X"), np.eye(2))


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 3, 3)])
def test_empty_matrices_with_grad(shape):
    for fn in (lambda m, a: m.linalg.inv(a), lambda m, a: m.linalg.det(a), lambda m, a: m.linalg.solve(a, a)):
        compare(fn, [np.zeros(shape, np.float32)])


@pytest.mark.parametrize("fn,dtype", [
    (lambda m, a: m.linalg.vecdot(a, a), np.int64), (lambda m, a: m.linalg.vander(a[0]), np.float16),
    (lambda m, a: m.einsum("ij,jk", a, a), np.bool_), (lambda m, a: m.cdist(a, a), np.float16),
    (lambda m, a: m.pdist(a), np.float16), (lambda m, a: m.linalg.matrix_norm(a, "nuc"), np.float16),
    (lambda m, a: m.linalg.inv(a), np.float16), (lambda m, a: m.linalg.det(a), np.int64),
], ids=["vecdot_int", "vander_half", "einsum_bool", "cdist_half", "pdist_half", "nuc_half", "inv_half", "det_int"])
def test_dtype_rejections_like_torch(fn, dtype):
    a = (np.eye(3) * 2 + 1).astype(dtype)
    with pytest.raises(RuntimeError):
        fn(torch, torch.tensor(a))
    with pytest.raises(RuntimeError):
        fn(ember, ember.tensor(a))


def test_half_inputs_torch_accepts():
    a = (np.eye(3) + 0.5).astype(np.float16)
    compare(lambda m, x: (m.linalg.matrix_norm(x), m.linalg.matrix_norm(x, 1), m.linalg.vecdot(x, x)), [a],
            grad=False, atol=1e-2, rtol=1e-2)


def test_qr_mode_r_backward_raises():
    r = LA.qr(ember.randn(4, 3, dtype=ember.float64, requires_grad=True), mode="r").R
    with pytest.raises(RuntimeError, match="mode='r'"):
        r.sum().backward()


def test_singular_values_of_slogdet_and_det():
    compare(lambda m, a: m.linalg.slogdet(a), [np.array([[1., 2], [2, 4]])], grad=False)
    compare(lambda m, a: m.logdet(a), [np.array([[0., 1], [1, 0]])], grad=False)   # det < 0: nan
    compare(lambda m, a: m.linalg.det(a), [np.zeros((2, 0, 0))])


LAYOUT = {
    "inv": lambda m, a, b: m.linalg.inv(a),
    "inv_ex": lambda m, a, b: m.linalg.inv_ex(a).inverse,
    "solve": lambda m, a, b: m.linalg.solve(a, b),
    "solve_vec": lambda m, a, b: m.linalg.solve(a, b[..., 0]),
    "solve_right": lambda m, a, b: m.linalg.solve(a, b.mT, left=False),
    "solve_triangular": lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True),
    "solve_triangular_right": lambda m, a, b: m.linalg.solve_triangular(a, b.mT, upper=False, left=False),
    "cholesky": lambda m, a, b: m.linalg.cholesky(a @ a.mT + m.eye(3, dtype=a.dtype)),
    "cholesky_upper": lambda m, a, b: m.linalg.cholesky(a @ a.mT + m.eye(3, dtype=a.dtype), upper=True),
    "eigh": lambda m, a, b: m.linalg.eigh(a),
    "svd": lambda m, a, b: m.linalg.svd(b),
    "svd_reduced": lambda m, a, b: m.linalg.svd(b, full_matrices=False),
    "svd_old": lambda m, a, b: m.svd(b),
    "qr": lambda m, a, b: m.linalg.qr(b.mT),
    "qr_complete": lambda m, a, b: m.linalg.qr(b, mode="complete"),
    "lstsq": lambda m, a, b: m.linalg.lstsq(b, a).solution,
    "lstsq_wide": lambda m, a, b: m.linalg.lstsq(b.mT, b[..., :2, :]).solution,
    "lstsq_vec": lambda m, a, b: m.linalg.lstsq(b, a[..., 0]).solution,
    "pinv": lambda m, a, b: m.linalg.pinv(b),
    "matrix_power_neg": lambda m, a, b: m.linalg.matrix_power(a, -1),
    "cholesky_solve": lambda m, a, b: m.cholesky_solve(b, m.linalg.cholesky(a @ a.mT + m.eye(3, dtype=a.dtype))),
    "matrix_exp": lambda m, a, b: m.linalg.matrix_exp(a),
    "lu_factor": lambda m, a, b: m.linalg.lu_factor(a),
    "lu": lambda m, a, b: m.linalg.lu(b),
    "lu_solve": lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b),
    "einsum_mm": lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
    "einsum_transpose": lambda m, a, b: m.einsum("...ij->...ji", b),
}


@pytest.mark.parametrize("batch", [(), (2,)], ids=["2d", "batched"])
@pytest.mark.parametrize("name", list(LAYOUT))
def test_result_strides_match_torch(name, batch):
    # PyTorch's LAPACK-backed results are column-major; einsum of several operands is contiguous
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(batch + (3, 3)), rng.standard_normal(batch + (3, 2))
    fn = LAYOUT[name]
    e = fn(ember, ember.tensor(a), ember.tensor(b))
    t = fn(torch, torch.tensor(a), torch.tensor(b))
    for eo, to in zip(e if isinstance(e, tuple) else (e,), t if isinstance(t, tuple) else (t,)):
        assert tuple(eo.shape) == tuple(to.shape)
        assert eo.stride() == to.stride(), f"{name}: stride {eo.stride()} vs torch {to.stride()}"
        assert eo.is_contiguous() == to.is_contiguous()


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(1, 2), max_size=2).map(tuple), m=st.integers(1, 4), n=st.integers(1, 4),
       op=st.sampled_from(["inv", "det", "slogdet", "solve", "pinv", "svdvals", "qr", "lstsq", "matrix_exp",
                           "cholesky", "eigvalsh", "matrix_norm", "vector_norm"]),
       ord_=st.sampled_from(["fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf")]), seed=st.integers(0, 999))
def test_random_batches_against_torch(batch, m, n, op, ord_, seed):
    sq = batch + (m, m)
    rect = batch + (m, n)
    cases = {
        "inv": (lambda mod, a: mod.linalg.inv(a), [sq]),
        "det": (lambda mod, a: mod.linalg.det(a), [sq]),
        "slogdet": (lambda mod, a: mod.linalg.slogdet(a), [sq]),
        "solve": (lambda mod, a, b: mod.linalg.solve(a, b), [sq, batch + (m, n)]),
        "pinv": (lambda mod, a: mod.linalg.pinv(a), [rect]),
        "svdvals": (lambda mod, a: mod.linalg.svdvals(a), [rect]),
        "qr": (lambda mod, a: mod.linalg.qr(a), [rect]),
        "lstsq": (lambda mod, a, b: mod.linalg.lstsq(a, b).solution, [rect, batch + (m, 2)]),
        "matrix_exp": (lambda mod, a: mod.linalg.matrix_exp(a), [sq]),
        "cholesky": (lambda mod, a: mod.linalg.cholesky(a @ a.mT + mod.eye(m, dtype=a.dtype)), [sq]),
        "eigvalsh": (lambda mod, a: mod.linalg.eigvalsh(a), [sq]),
        "matrix_norm": (lambda mod, a: mod.linalg.matrix_norm(a, ord_), [rect]),
        "vector_norm": (lambda mod, a: mod.linalg.vector_norm(a, 2 if isinstance(ord_, str) else ord_, -1), [rect]),
    }
    fn, shapes = cases[op]
    compare(fn, shapes, seed=seed, atol=1e-5, rtol=1e-4)
