"""sparse @ dense against PyTorch: torch.sparse.mm, torch.spmm, torch.mm, torch.matmul and dense @ sparse,
their values and gradients (to the dense operand, to the sparse values, to a sparse leaf), float32 and
float64, the 2-layer GCN pattern, and the errors (issue 12)."""
import numpy as np
import pytest
import torch

import ember
from ._util import IDX, VALS, pair, same_sparse, dense_close

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")


@pytest.fixture(autouse=True, params=["scipy", "numpy"])
def kernel_path(request, monkeypatch):
    """Every test runs with SciPy's CSR kernel (when SciPy is installed) and with the NumPy fallback."""
    from ember.sparse import _kernels
    monkeypatch.setattr(_kernels, "USE_SCIPY", request.param == "scipy")
    return request.param

R = np.random.default_rng(3)
DENSE = R.standard_normal((4, 5))
UPSTREAM = R.standard_normal((3, 5))
TOL = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-12, atol=1e-12)}

PRODUCTS = {
    "sparse.mm": (lambda s, d: ember.sparse.mm(s, d), lambda s, d: torch.sparse.mm(s, d)),
    "spmm": (lambda s, d: ember.spmm(s, d), lambda s, d: torch.spmm(s, d)),
    "mm": (lambda s, d: ember.mm(s, d), lambda s, d: torch.mm(s, d)),
    "matmul": (lambda s, d: ember.matmul(s, d), lambda s, d: torch.matmul(s, d)),
    "@": (lambda s, d: s @ d, lambda s, d: s @ d),
    "Tensor.mm": (lambda s, d: s.mm(d), lambda s, d: s.mm(d)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_product_values_and_gradients(name, dtype):
    fe, ft = PRODUCTS[name]
    ve = ember.tensor(np.asarray(VALS, dtype), requires_grad=True)
    vt = torch.tensor(np.asarray(VALS, dtype), requires_grad=True)
    de = ember.tensor(DENSE.astype(dtype), requires_grad=True)
    dt = torch.tensor(DENSE.astype(dtype), requires_grad=True)
    oe = fe(ember.sparse_coo_tensor(IDX, ve, (3, 4)), de)
    ot = ft(torch.sparse_coo_tensor(IDX, vt, (3, 4)), dt)
    dense_close(oe, ot, **TOL[dtype])
    assert oe.dtype == np.dtype(dtype)
    (oe * ember.tensor(UPSTREAM.astype(dtype))).sum().backward()
    (ot * torch.tensor(UPSTREAM.astype(dtype))).sum().backward()
    dense_close(de.grad, dt.grad, **TOL[dtype])
    dense_close(ve.grad, vt.grad, **TOL[dtype])


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_sparse_leaf_gradient_layout_follows_torch(name):
    """torch.sparse.mm gives a sparse leaf a sparse gradient with the leaf's pattern; mm/spmm/matmul a dense
    one."""
    fe, ft = PRODUCTS[name]
    e, t = pair(dtype="float64", requires_grad=True)
    de = ember.tensor(DENSE)
    dt = torch.tensor(DENSE)
    (fe(e, de) * ember.tensor(UPSTREAM)).sum().backward()
    (ft(t, dt) * torch.tensor(UPSTREAM)).sum().backward()
    assert e.grad.is_sparse == t.grad.is_sparse
    if t.grad.is_sparse:
        same_sparse(e.grad, t.grad, rtol=1e-12)
    else:
        dense_close(e.grad, t.grad, rtol=1e-12)
    e.grad = None
    assert e.grad is None


def test_matmul_vector_and_dense_at_sparse():
    e, t = pair(dtype="float64")
    x = R.standard_normal(4)
    dense_close(ember.matmul(e, ember.tensor(x)), torch.matmul(t, torch.tensor(x)), rtol=1e-12)
    m = R.standard_normal((2, 3))
    me, mt = ember.tensor(m, requires_grad=True), torch.tensor(m, requires_grad=True)
    oe, ot = ember.sparse.mm(me, e), torch.sparse.mm(mt, t)
    dense_close(oe, ot, rtol=1e-12)
    oe.sum().backward()
    ot.sum().backward()
    dense_close(me.grad, mt.grad, rtol=1e-12)
    dense_close(me.detach() @ e, mt.detach() @ t, rtol=1e-12)


def test_transposed_and_coalesced_operands():
    e, t = pair(dtype="float64")
    d = R.standard_normal((3, 2))
    dense_close(ember.sparse.mm(e.t(), ember.tensor(d)), torch.sparse.mm(t.t(), torch.tensor(d)), rtol=1e-12)
    d = R.standard_normal((4, 2))
    dense_close(ember.sparse.mm(e.coalesce(), ember.tensor(d)),
                torch.sparse.mm(t.coalesce(), torch.tensor(d)), rtol=1e-12)
    dense_close(ember.sparse.mm(e * 2, ember.tensor(d)), torch.sparse.mm(t * 2, torch.tensor(d)), rtol=1e-12)


def test_gradcheck_through_sparse_ops():
    d = ember.tensor(DENSE, requires_grad=True)
    v = ember.tensor(np.asarray(VALS), requires_grad=True)

    def f(v, d):
        s = ember.sparse_coo_tensor(IDX, v, (3, 4)).coalesce()
        return (ember.sparse.mm(s * 2, d).tanh() ** 2).sum() + ember.sparse.sum(s) + s.to_dense().pow(2).sum()

    assert ember.autograd.gradcheck(f, (v, d))
    assert ember.autograd.gradgradcheck(f, (v, d))


def _adjacency(lib, n, edges):
    """The GCN example's normalised adjacency D^-1/2 (A + I) D^-1/2, as a sparse tensor."""
    a = lib.sparse_coo_tensor(lib.tensor(edges), lib.ones(edges.shape[1], dtype=lib.float64), (n, n))
    a = lib.eye(n, dtype=lib.float64) + a                        # dense + sparse -> dense
    deg = a.sum(1)
    r = deg.pow(-0.5)
    return (r[:, None] * a * r[None, :]).to_sparse()


def test_gcn_two_layers_forward_backward():
    n, f_in, hid, k = 12, 6, 8, 3
    r = np.random.default_rng(11)
    src = r.integers(0, n, 30)
    dst = r.integers(0, n, 30)
    edges = np.stack([np.concatenate([src, dst]), np.concatenate([dst, src])])   # symmetric, with duplicates
    x = r.standard_normal((n, f_in))
    w1, w2 = r.standard_normal((f_in, hid)) * 0.3, r.standard_normal((hid, k)) * 0.3
    y = r.integers(0, k, n)
    out = {}
    for lib in (ember, torch):
        adj = _adjacency(lib, n, edges)
        W1 = lib.tensor(w1, requires_grad=True)
        W2 = lib.tensor(w2, requires_grad=True)
        h = lib.relu(lib.spmm(adj, lib.tensor(x) @ W1))
        logits = lib.sparse.mm(adj, h @ W2)
        loss = lib.nn.functional.nll_loss(lib.log_softmax(logits, 1), lib.tensor(y))
        loss.backward()
        out[lib.__name__] = (adj, logits, loss, W1.grad, W2.grad)
    e, t = out["ember"], out["torch"]
    same_sparse(e[0], t[0], rtol=1e-12)
    for a, b in zip(e[1:], t[1:]):
        dense_close(a, b, rtol=1e-10, atol=1e-12)


def test_errors():
    e, t = pair()
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        torch.mm(t, torch.ones(4, 2, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="mm: expected scalar type Float but found Double"):
        ember.mm(e, ember.ones(4, 2, dtype=ember.float64))
    with pytest.raises(RuntimeError, match=r"sparse.mm: sizes \(3, 4\) and \(5, 2\) cannot be multiplied"):
        ember.sparse.mm(e, ember.ones(5, 2))
    with pytest.raises(RuntimeError, match="mm: expected 2-D"):
        ember.mm(e, ember.ones(4))
    with pytest.raises(RuntimeError, match="sparse @ sparse is not supported"):
        ember.sparse.mm(e, e.t())
    with pytest.raises(RuntimeError, match="sparse.mm: expected a sparse COO operand"):
        ember.sparse.mm(ember.ones(2, 2), ember.ones(2, 2))
    with pytest.raises(RuntimeError, match="divides a sparse tensor by a number or a 0-d tensor only"):
        e / ember.ones(3, 4)


def test_grad_fn_names_and_dense_at_sparse_layout():
    e, t = pair(dtype="float64")
    de, dt = ember.tensor(DENSE, requires_grad=True), torch.tensor(DENSE, requires_grad=True)
    for fe, ft in (PRODUCTS["sparse.mm"], PRODUCTS["mm"], PRODUCTS["spmm"]):
        assert repr(fe(e, de)).split("grad_fn=")[1] == repr(ft(t, dt)).split("grad_fn=")[1]
    m = R.standard_normal((2, 3))
    oe, ot = ember.sparse.mm(ember.tensor(m), e), torch.sparse.mm(torch.tensor(m), t)
    assert oe.stride() == ot.stride() and oe.is_contiguous() == ot.is_contiguous()
