"""Reductions, order statistics, set ops, builders and linear algebra on "cuda" against the CPU, for the ops
and arguments the fuzz specs do not reach (test_device_ops covers those): each case runs on both devices and
must give outputs on the device with the CPU's shapes, dtypes, strides and values (bit for bit on the NumPy
stand-in), and the same input gradients after one backward."""
import numpy as np
import pytest

import ember

from .device_oracle import _values_differ

_rng = np.random.default_rng(18)


def _f(*shape, dtype=np.float64):
    return _rng.standard_normal(shape).astype(dtype)


def _spd(n, batch=()):
    a = _rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _flat(out):
    if isinstance(out, ember.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _run(fn, args, grad, dev):
    leaves = []
    ts = []
    for a in args:
        if isinstance(a, np.ndarray):
            t = ember.tensor(a.copy(), device=dev)
            if grad and a.dtype.kind == "f":
                t.requires_grad_(True)
                leaves.append(t)
            ts.append(t)
        else:
            ts.append(a)
    return leaves, _flat(fn(*ts))


def _check(fn, *args, grad=True, exact=True, layout=True):
    c_leaves, c_out = _run(fn, args, grad, "cpu")
    d_leaves, d_out = _run(fn, args, grad, "cuda")
    assert len(c_out) == len(d_out)
    for k, (c, d) in enumerate(zip(c_out, d_out)):
        if not isinstance(c, ember.Tensor):
            assert c == d or (c != c and d != d), (k, c, d)
            continue
        assert d.device.type == "cuda", f"output {k} left the device"
        assert (tuple(c.shape), c.dtype) == (tuple(d.shape), d.dtype), k
        if layout and c.numel() > 1:
            assert c.stride() == d.stride(), (k, c.stride(), d.stride())
        diff = _values_differ(d.detach().cpu().numpy(), c.detach().numpy(), exact)
        assert diff is None, f"output {k}: {diff}"
    pairs = [(c, d) for c, d in zip(c_out, d_out) if isinstance(c, ember.Tensor) and c.requires_grad]
    if not pairs:
        return
    ws = [_rng.standard_normal(tuple(c.shape)) for c, _ in pairs]
    for outs, dev in (([c for c, _ in pairs], "cpu"), ([d for _, d in pairs], "cuda")):
        loss = None
        for o, w in zip(outs, ws):
            term = (o * ember.tensor(w.astype(np.dtype(str(o.dtype).replace("ember.", ""))), device=dev)).sum()
            loss = term if loss is None else loss + term
        loss.backward()
    for k, (cl, dl) in enumerate(zip(c_leaves, d_leaves)):
        assert (cl.grad is None) == (dl.grad is None), k
        if cl.grad is not None:
            assert dl.grad.device.type == "cuda", f"grad {k} left the device"
            diff = _values_differ(dl.grad.cpu().numpy(), cl.grad.numpy(), exact)
            assert diff is None, f"grad {k}: {diff}"


_X = _f(3, 4)
_T = np.array([[1., 3., 3., 2.], [5., 5., 1., 5.], [2., 2., 2., 0.]])
_Z = np.array([[1., 0., 3.], [0., 0., 2.], [4., 5., 6.]])
_N = np.array([[1., np.nan, 3.], [np.nan, np.nan, np.nan], [4., 2., 2.]])
_I = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5])

CASES = {
    # reduce.py
    "sum_dtype": (lambda x: ember.sum(x, 1, dtype=ember.float32), [_X]),
    "sum_half": (lambda x: x.half().sum(0), [_X]),
    "amax_ties": (lambda x: ember.amax(x, 1), [_T]),
    "amin_all": (lambda x: ember.amin(x), [_T]),
    "max_all_nan": (lambda x: ember.max(x), [_N]),
    "argmax_keepdim": (lambda x: ember.argmax(x, keepdim=True), [_X]),
    "argmin_dim": (lambda x: ember.argmin(x, 0), [_X]),
    "aminmax": (lambda x: ember.aminmax(x, dim=1), [_X]),
    "prod_zeros_dim": (lambda x: ember.prod(x, 1), [_Z]),
    "prod_zeros_all": (lambda x: ember.prod(x), [np.array([2., 0., 3.])]),
    "prod_int": (lambda x: ember.prod(x, 0), [_I.reshape(11, 1)]),
    "logsumexp": (lambda x: ember.logsumexp(x, (0, 1)), [_X]),
    "logsumexp_empty": (lambda x: ember.logsumexp(x, 0), [np.zeros((0, 3))]),
    "cumsum_half": (lambda x: ember.cumsum(x.half(), 1), [_X]),
    "cumprod_zeros": (lambda x: ember.cumprod(x, 1), [_Z]),
    "cumprod_zeros_inf": (lambda x: ember.cumprod(x, 0), [np.array([2., 0., 1e300, 1e300, 0., 3.])]),
    "norm_inf": (lambda x: ember.norm(x, float("inf"), 1), [_T]),
    "norm_0": (lambda x: ember.norm(x, 0), [_Z]),
    "norm_1": (lambda x: ember.norm(x, 1, 0), [_X]),
    "norm_p3": (lambda x: ember.norm(x, 3, 1, keepdim=True), [_X]),
    "dist": (lambda x, y: ember.dist(x, y, 3), [_X, _f(3, 4)]),
    "all_any": (lambda x: (ember.all(x, 1), ember.any(x, 0), ember.all(x)), [_Z]),
    "count_nonzero": (lambda x: (ember.count_nonzero(x), ember.count_nonzero(x, 1)), [_Z]),
    "log_softmax": (lambda x: ember.log_softmax(x, 1), [_X]),
    "softmin_empty": (lambda x: ember.softmin(x, 0), [np.zeros((0, 2))]),
    "mean_empty": (lambda x: ember.mean(x, 0), [np.zeros((0, 2))]),
    "var_empty": (lambda x: ember.var(x, 0), [np.zeros((0, 2))]),
    "var_const": (lambda x: ember.std(x, 1), [np.ones((2, 5))]),
    "nansum_nan": (lambda x: (ember.nansum(x, 1), ember.nanmean(x, 0)), [_N]),
    # order statistics and scans
    "kthvalue_ties": (lambda x: ember.kthvalue(x, 2, 1), [_T]),
    "median_all": (lambda x: ember.median(x), [_T]),
    "median_empty": (lambda x: ember.median(x), [np.zeros((0,))]),
    "nanmedian_all": (lambda x: ember.nanmedian(x), [_N]),
    "mode_ties": (lambda x: ember.mode(x, 1), [_T]),
    "mode_0d": (lambda x: ember.mode(x.sum(), 0), [_X]),
    "msort": (lambda x: ember.msort(x), [_X]),
    "quantile_q_tensor": (lambda x, q: ember.quantile(x, q, 1, interpolation="midpoint"), [_X, np.array([.1, .5, .9])]),
    "quantile_nearest": (lambda x: ember.quantile(x, 0.3, interpolation="nearest"), [_X]),
    "nanquantile": (lambda x: ember.nanquantile(x, 0.5, 0, keepdim=True), [_N]),
    "cummax_nan": (lambda x: ember.cummax(x, 1), [_N]),
    "cummin_0d": (lambda x: ember.cummin(x.sum(), 0), [_X]),
    "logcumsumexp": (lambda x: ember.logcumsumexp(x, 1), [_X]),
    "logcumsumexp_0": (lambda x: ember.logcumsumexp(x, 0), [_f(5, 2)]),
    "diff_prepend": (lambda x, p: ember.diff(x, 2, 1, prepend=p), [_X, _f(3, 1)]),
    # sets, counting, search
    "unique_inverse_counts": (lambda x: ember.unique(x, return_inverse=True, return_counts=True), [_I]),
    "unique_dim": (lambda x: ember.unique(x, dim=0, return_inverse=True, return_counts=True),
                   [np.array([[1, 2], [0, 1], [1, 2], [0, 0]])]),
    "unique_consecutive_dim": (lambda x: ember.unique_consecutive(x, return_inverse=True, return_counts=True,
                                                                  dim=1), [np.array([[1, 1, 2, 2], [0, 0, 3, 0]])]),
    "isin_number": (lambda x: (ember.isin(x, 5), ember.isin(x, x[:3], invert=True)), [_I]),
    "bincount_weights": (lambda x, w: (ember.bincount(x), ember.bincount(x, w, minlength=12)),
                         [_I, _f(11)], False),
    "histc": (lambda x: ember.histc(x, 5, -1, 1), [_f(20)]),
    "histogram": (lambda x: ember.histogram(x, 4, density=True), [_f(20)], False),
    "histogram_edges": (lambda x, b: ember.histogram(x, b), [_f(20), np.array([-2., -0.5, 0., 2.])], False),
    "searchsorted_nd": (lambda s, v: ember.searchsorted(s, v, right=True),
                        [np.sort(_f(2, 5), -1), _f(2, 3)]),
    "searchsorted_sorter": (lambda s, v, k: ember.searchsorted(s, v, sorter=k),
                            [np.array([3., 1., 2.]), np.array([2.5, 0.]), np.array([1, 2, 0])]),
    "searchsorted_scalar": (lambda s: ember.searchsorted(s, 0.5, out_int32=True), [np.sort(_f(6))]),
    "searchsorted_nan": (lambda s, v: ember.searchsorted(s, v, side="right"),
                         [np.array([1., 2., np.nan]), np.array([np.nan, 1.5])]),
    "bucketize": (lambda v, b: ember.bucketize(v, b, right=True), [_f(3, 4), np.array([-1., 0., 1.])]),
    # builders
    "combinations_repl": (lambda x: ember.combinations(x, 3, with_replacement=True), [_f(4)]),
    "combinations_empty": (lambda x: ember.combinations(x, 5), [_f(4)]),
    "cartesian_prod": (lambda a, b: ember.cartesian_prod(a, b), [_f(3), _f(2)]),
    "meshgrid": (lambda a, b: ember.meshgrid(a, b, indexing="xy"), [_f(3), _f(2)]),
    "cdist_mm": (lambda a, b: ember.cdist(a, b), [_f(30, 3), _f(27, 3)]),
    "cdist_p1": (lambda a, b: ember.cdist(a, b, 1.0), [_f(4, 3), _f(5, 3)]),
    "pdist": (lambda x: ember.pdist(x, 3.0), [_f(5, 3)]),
    "cross_nodim": (lambda a, b: ember.cross(a, b), [_f(3, 2), _f(3, 2)]),
    "vander": (lambda x: (ember.vander(x, 4, increasing=True), ember.vander(x, 0)), [_f(3)]),
    "block_diag": (lambda a, b: ember.block_diag(a, b), [_f(2, 2), _f(3)]),
    "diag_embed_offset": (lambda x: ember.diag_embed(x, -1, 0, 2), [_f(2, 3)]),
    "atleast_3d": (lambda a, b: ember.atleast_3d(a, b), [_f(3), _f(2, 2)]),
    "cov_weights": (lambda x, w: ember.cov(x, correction=0, aweights=w), [_f(2, 5), np.abs(_f(5)) + 0.1]),
    "trapezoid_x": (lambda y, x: ember.trapezoid(y, x), [_f(3, 4), np.sort(_f(4))]),
    "trapezoid_empty": (lambda y: ember.trapezoid(y), [np.zeros((2, 0))]),
    "cumulative_trapezoid": (lambda y: ember.cumulative_trapezoid(y, dx=0.5), [_f(3, 4)]),
    "addmv": (lambda i, m, v: ember.addmv(i, m, v, beta=0.5, alpha=2), [_f(3), _f(3, 4), _f(4)]),
    "gradient_coords": (lambda x, c: ember.gradient(x, spacing=(c,), dim=1, edge_order=2),
                        [_f(3, 5), np.cumsum(np.abs(_f(5))) + 0.1]),
    "gradient_uniform": (lambda x: ember.gradient(x, spacing=0.5), [_f(3, 4)]),
    "renorm": (lambda x: ember.renorm(x, 2, 0, 1.0), [_f(3, 4) * 3]),
    "unravel_index": (lambda i: ember.unravel_index(i, (3, 4)), [np.array([0, 5, -1, 11])]),
    "column_row_stack": (lambda a, b: (ember.column_stack([a, b]), ember.row_stack([a, b])), [_f(3), _f(3)]),
    "nuclear_frobenius": (lambda x: (ember.nuclear_norm(x), ember.frobenius_norm(x, (0, 1))), [_f(3, 4)]),
    # linear algebra
    "kron": (lambda a, b: ember.kron(a, b), [_f(2, 3), _f(2, 2)]),
    "matrix_exp": (lambda a: ember.linalg.matrix_exp(a), [_f(2, 3, 3) * 0.5]),
    "einsum_diag": (lambda a: ember.einsum("iij->ij", a), [_f(3, 3, 2)]),
    "einsum_three": (lambda a, b, c: ember.einsum("ij,jk,k->i", a, b, c), [_f(2, 3), _f(3, 4), _f(4)]),
    "inv_ex_singular": (lambda a: ember.linalg.inv_ex(a), [np.stack([np.eye(2), np.ones((2, 2))])]),
    "solve_ex_left": (lambda a, b: ember.linalg.solve_ex(a, b, left=False), [_spd(3), _f(2, 3)]),
    "cholesky_ex_not_pd": (lambda a: ember.linalg.cholesky_ex(a, upper=True),
                           [np.stack([_spd(2), -np.eye(2)])]),
    "cholesky_upper": (lambda a: ember.linalg.cholesky(a, upper=True), [_spd(3, (2,))]),
    "eigh_vectors": (lambda a: ember.linalg.eigh(a, "U"), [_spd(3)]),
    "svd_full": (lambda a: ember.linalg.svd(a, full_matrices=False), [_f(4, 3)]),
    "svd_empty": (lambda a: ember.linalg.svd(a), [np.zeros((0, 3))]),
    "torch_svd": (lambda a: ember.svd(a, compute_uv=False), [_f(3, 2)]),
    "qr_complete": (lambda a: ember.linalg.qr(a, "complete"), [_f(2, 4)]),
    "qr_batch": (lambda a: ember.linalg.qr(a), [_f(2, 3, 4, 3)]),
    "qr_r": (lambda a: ember.linalg.qr(a, "r"), [_f(4, 2)], False),
    "qr_empty": (lambda a: ember.linalg.qr(a), [np.zeros((3, 0))]),
    "det_singular_grad": (lambda a: ember.linalg.det(a), [np.array([[1., 2.], [2., 4.]])]),
    "det_empty": (lambda a: ember.linalg.det(a), [np.zeros((2, 0, 0))]),
    "slogdet": (lambda a: ember.linalg.slogdet(a), [_f(2, 3, 3)]),
    "logdet_neg": (lambda a: ember.logdet(a), [np.array([[-2., 0.], [0., 1.]])]),
    "solve_vec_batch": (lambda a, b: ember.linalg.solve(a, b), [_spd(3, (2,)), _f(2, 3)]),
    "solve_empty": (lambda a, b: ember.linalg.solve(a, b), [np.zeros((0, 0)), np.zeros((0, 2))]),
    "solve_triangular": (lambda a, b: ember.linalg.solve_triangular(a, b, upper=True, unitriangular=True,
                                                                    left=False), [_spd(3), _f(2, 3)]),
    "cholesky_solve_inverse": (lambda a, b: (ember.cholesky_solve(b, a), ember.cholesky_inverse(a)),
                               [np.linalg.cholesky(_spd(3)), _f(3, 2)]),
    "pinv_hermitian": (lambda a: ember.linalg.pinv(a, hermitian=True), [_spd(3)]),
    "pinv_atol": (lambda a: ember.linalg.pinv(a, atol=0.5, rtol=0.1), [_f(3, 4)]),
    "pinv_empty": (lambda a: ember.linalg.pinv(a), [np.zeros((0, 3))]),
    "lstsq_gelsd": (lambda a, b: ember.linalg.lstsq(a, b, driver="gelsd"), [_f(5, 3), _f(5, 2)]),
    "lstsq_gels": (lambda a, b: ember.linalg.lstsq(a, b, driver="gels"), [_f(5, 3), _f(5)]),
    "matrix_rank": (lambda a: (ember.linalg.matrix_rank(a), ember.linalg.matrix_rank(a, hermitian=True)),
                    [np.array([[1., 2.], [2., 4.]])]),
    "matrix_rank_empty": (lambda a: ember.linalg.matrix_rank(a), [np.zeros((2, 0, 3))]),
    "matrix_power_0": (lambda a: ember.linalg.matrix_power(a, 0), [_f(2, 3, 3)]),
    "matrix_power_neg": (lambda a: ember.linalg.matrix_power(a, -3), [_spd(3)]),
    "matrix_norms": (lambda a: [ember.linalg.matrix_norm(a, o) for o in ("fro", "nuc", 2, -2, 1, -1,
                                                                       float("inf"), float("-inf"))], [_f(3, 4)]),
    "matrix_norm_empty": (lambda a: ember.linalg.matrix_norm(a, 1), [np.zeros((3, 0))]),
    "vector_norms": (lambda a: [ember.linalg.vector_norm(a, o, 1) for o in (0, 1, 2, 0.5, 3, float("inf"),
                                                                            float("-inf"))], [_f(3, 4)]),
    "cond": (lambda a: (ember.linalg.cond(a), ember.linalg.cond(a, -2), ember.linalg.cond(a, "fro")), [_spd(3)]),
    "multi_dot_vec": (lambda a, b, c: ember.linalg.multi_dot([a, b, c]), [_f(3), _f(3, 4), _f(4)]),
    "chain_matmul": (lambda a, b, c: ember.chain_matmul(a, b, c), [_f(2, 3), _f(3, 4), _f(4, 2)]),
    "vecdot": (lambda a, b: ember.linalg.vecdot(a, b, dim=0), [_f(3, 2), _f(3, 2)]),
    "linalg_vander": (lambda x: ember.linalg.vander(x, N=4), [_f(2, 3)]),
    "tensorinv": (lambda a: ember.linalg.tensorinv(a, 1), [_spd(4).reshape(4, 2, 2)]),
    "tensorsolve": (lambda a, b: ember.linalg.tensorsolve(a, b), [_spd(4).reshape(2, 2, 2, 2), _f(2, 2)]),
    "lu_factor_ex": (lambda a: ember.linalg.lu_factor_ex(a), [_f(2, 3, 3)]),
    "lu_singular": (lambda a: ember.linalg.lu_factor_ex(a), [np.zeros((2, 2))], False),
    "lu_rect": (lambda a: ember.linalg.lu(a), [_f(3, 4)], False),
    "lu_unpack_flags": (lambda a: ember.lu_unpack(*ember.linalg.lu_factor(a), unpack_data=False), [_f(3, 3)]),
    "lu_solve": (lambda a, b: [ember.linalg.lu_solve(*ember.linalg.lu_factor(a), b, left=l, adjoint=j)
                               for l in (True, False) for j in (True, False)], [_spd(3), _f(3, 3)]),
    "torch_lu_solve": (lambda a, b: ember.lu_solve(b, *ember.lu(a)), [_spd(3), _f(3, 2)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_on_cuda_as_on_cpu(name, cuda, exact):
    fn, args, *grad = CASES[name]      # a third item False: no backward (PyTorch has no derivative there)
    _check(fn, *args, grad=grad[0] if grad else True, exact=exact)


def test_windows_and_tri_indices_on_the_requested_device(cuda):
    for fn in (ember.hann_window, ember.hamming_window, ember.blackman_window, ember.bartlett_window,
               ember.kaiser_window):
        d, c = fn(6, device="cuda"), fn(6)
        assert d.device.type == "cuda" and np.array_equal(d.cpu().numpy(), c.numpy())
        assert fn(1, device="cuda").device.type == "cuda"
    for fn in (ember.tril_indices, ember.triu_indices):
        d, c = fn(3, 4, 1, device="cuda"), fn(3, 4, 1)
        assert d.device.type == "cuda" and np.array_equal(d.cpu().numpy(), c.numpy())
    with ember.device("cuda"):
        assert ember.hann_window(4).device.type == "cuda"
        assert ember.tril_indices(3, 3).device.type == "cuda"
        assert ember.block_diag().device.type == "cuda"


def test_singular_inputs_raise_on_cuda(cuda):
    sing = ember.tensor([[1., 2.], [2., 4.]], dtype=ember.float64, device="cuda")
    with pytest.raises(ember.linalg.LinAlgError, match="singular"):
        ember.linalg.inv(sing)
    with pytest.raises(ember.linalg.LinAlgError, match="singular"):
        ember.linalg.solve(sing, ember.ones(2, dtype=ember.float64, device="cuda"))
    with pytest.raises(ember.linalg.LinAlgError, match="positive-definite"):
        ember.linalg.cholesky(-ember.eye(2, dtype=ember.float64, device="cuda"))
    with pytest.raises(ember.linalg.LinAlgError, match="Batch element 1"):
        ember.linalg.inv(ember.stack([ember.eye(2, dtype=ember.float64, device="cuda"), sing]))


def test_device_errors_name_the_op(cuda):
    x = ember.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="q values must be in the range"):
        ember.quantile(x, ember.tensor([0.5, 2.0], device="cuda"))
    with pytest.raises(RuntimeError, match="q tensor must be on the same device"):
        ember.quantile(x, ember.tensor([0.5]))
    with pytest.raises(IndexError, match="kthvalue"):
        ember.kthvalue(x, 5)


def test_set_ops_refuse_tensors_on_two_devices(cuda):
    from ember.backend.device import DeviceError
    d, c = ember.arange(5.0, device="cuda"), ember.arange(3.0)
    for call, op in ((lambda: ember.isin(d, c), "isin"), (lambda: ember.searchsorted(c, d), "searchsorted"),
                     (lambda: ember.bucketize(d, c), "searchsorted"),
                     (lambda: ember.histogram(d, c), "histogram"),
                     (lambda: ember.bincount(ember.tensor([0, 1, 1], device="cuda"), c), "bincount")):
        with pytest.raises(DeviceError, match=f"{op}: expected all tensors to be on the same device"):
            call()
    # a 0-d CPU tensor joins the device, as in PyTorch
    assert ember.isin(d, ember.tensor(2.0)).device.type == "cuda"
    assert ember.searchsorted(d, ember.tensor(2.5)).device.type == "cuda"
