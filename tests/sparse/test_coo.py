"""Sparse COO tensors against PyTorch: construction, coalesce, repr, conversions, layouts, elementwise forms,
torch.sparse.sum/softmax, and the errors (issue 12)."""
import numpy as np
import pytest
import torch

import ember
from ._util import IDX, VALS, pair, same_sparse, dense_close, ember_repr

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")


def test_construction_and_metadata():
    e, t = pair()
    same_sparse(e, t)
    assert e.is_sparse and not ember.zeros(2).is_sparse
    assert e.layout == ember.sparse_coo and e.layout != ember.strided
    assert ember.zeros(2).layout == ember.strided and ember.zeros(2).layout == "strided"
    assert isinstance(e, ember.Tensor)
    assert e.sparse_dim() == t.sparse_dim() and e.dense_dim() == t.dense_dim()
    assert e.numel() == t.numel() and e.dim() == t.dim() and tuple(e.size()) == tuple(t.size())
    assert str(e.device) == "cpu" and not e.requires_grad and e.is_leaf


def test_size_inferred_and_dtype_keyword():
    e = ember.sparse_coo_tensor(IDX, VALS)
    t = torch.sparse_coo_tensor(IDX, VALS)
    same_sparse(e, t)
    e = ember.sparse_coo_tensor(IDX, VALS, (3, 4), dtype=ember.float64)
    t = torch.sparse_coo_tensor(IDX, VALS, (3, 4), dtype=torch.float64)
    same_sparse(e, t)
    e = ember.sparse_coo_tensor(IDX, [1, 2, 3, 4, 5], (3, 4))
    t = torch.sparse_coo_tensor(IDX, [1, 2, 3, 4, 5], (3, 4))
    same_sparse(e, t)


def test_coalesce_sorts_and_sums_duplicates():
    e, t = pair()
    ec, tc = e.coalesce(), t.coalesce()
    same_sparse(ec, tc)
    assert ec.coalesce() is ec
    np.testing.assert_array_equal(ec.indices().numpy(), tc.indices().numpy())
    np.testing.assert_array_equal(ec.values().numpy(), tc.values().numpy())


def test_hybrid_coalesce_and_to_dense():
    idx = [[2, 0, 2], [1, 1, 1]]
    v = np.arange(6.0).reshape(3, 2)
    e = ember.sparse_coo_tensor(idx, ember.tensor(v), (3, 2, 2))
    t = torch.sparse_coo_tensor(idx, torch.tensor(v), (3, 2, 2))
    same_sparse(e.coalesce(), t.coalesce())
    dense_close(e.to_dense(), t.to_dense())


def test_repr_matches_torch():
    e, t = pair()
    assert ember_repr(e) == repr(t)
    assert ember_repr(e.coalesce()) == repr(t.coalesce())
    e, t = pair(dtype="float64")
    assert ember_repr(e) == repr(t)
    e, t = pair(requires_grad=True)
    assert ember_repr(e) == repr(t)
    e = ember.sparse_coo_tensor(ember.zeros(2, 0, dtype=ember.int64), ember.zeros(0), (2, 2))
    t = torch.sparse_coo_tensor(torch.zeros(2, 0, dtype=torch.long), torch.zeros(0), (2, 2))
    assert ember_repr(e) == repr(t)
    d = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, 3.25]])
    assert ember_repr(ember.tensor(d).to_sparse(1)) == repr(torch.tensor(d).to_sparse(1))


def test_repr_grad_fn_of_sparse_results():
    lines = {}
    for lib in (ember, torch):
        v = lib.tensor(VALS, requires_grad=True)
        s = lib.sparse_coo_tensor(IDX, v, (3, 4))
        leaf = lib.sparse_coo_tensor(IDX, VALS, (3, 4), requires_grad=True)
        d = lib.tensor([[0.0, 1.0], [2.0, 0.0]], requires_grad=True)
        made = (s, s * 2, s.coalesce(), s.t(), leaf.t(), leaf * 2, d.to_sparse(), lib.sparse.sum(s, 0),
                lib.sparse.softmax(s, 1), s / 2, -s, s + s)
        lines[lib.__name__] = [repr(x).replace("ember.", "torch.").splitlines()[-1] for x in made]
    assert lines["ember"] == lines["torch"]


def test_to_dense_and_to_sparse():
    e, t = pair()
    dense_close(e.to_dense(), t.to_dense())
    d = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0], [0.0, 0.0, 0.0]])
    same_sparse(ember.tensor(d).to_sparse(), torch.tensor(d).to_sparse())
    same_sparse(ember.tensor(d).to_sparse(1), torch.tensor(d).to_sparse(1))
    x = ember.tensor(d)
    assert x.to_dense() is x
    s = x.to_sparse()
    assert s.to_sparse() is s


def test_indices_values_need_coalesced():
    e, t = pair()
    for name in ("indices", "values"):
        with pytest.raises(RuntimeError, match="uncoalesced"):
            getattr(t, name)()
        with pytest.raises(RuntimeError, match=f"^Cannot get {name} on an uncoalesced tensor, please call "
                                               f"\\.coalesce\\(\\) first \\({name}\\(\\)"):
            getattr(e, name)()
    np.testing.assert_array_equal(e._indices().numpy(), t._indices().numpy())


def test_transpose_scalar_ops():
    e, t = pair()
    same_sparse(e.t(), t.t())
    same_sparse(e.coalesce().t(), t.coalesce().t())
    same_sparse(e * 2, t * 2)
    same_sparse(2.5 * e, 2.5 * t)
    same_sparse(e / 4, t / 4)
    same_sparse(-e, -t)
    same_sparse(e.coalesce() * 3, t.coalesce() * 3)
    same_sparse(e * ember.tensor(2.0), t * torch.tensor(2.0))
    same_sparse(e * ember.tensor(2.0, dtype=ember.float64), t * torch.tensor(2.0, dtype=torch.float64))


def test_mul_by_dense_and_sparse():
    e, t = pair(dtype="float64")
    d = np.arange(12.0).reshape(3, 4)
    same_sparse(e * ember.tensor(d), t * torch.tensor(d))
    same_sparse(ember.tensor(d) * e, torch.tensor(d) * t)
    same_sparse(ember.mul(ember.tensor(d), e), torch.mul(torch.tensor(d), t))
    same_sparse(e * ember.arange(4.0), t * torch.arange(4.0))            # broadcast, dtype promotion
    same_sparse(e * e, t * t)
    e2, t2 = pair(idx=[[0, 2, 1], [0, 1, 2]], vals=[10.0, 20.0, 5.0], dtype="float64")
    same_sparse(e.coalesce() * e2.coalesce(), t.coalesce() * t2.coalesce())
    same_sparse(e.coalesce() * ember.tensor(d), t.coalesce() * torch.tensor(d))
    with pytest.raises(RuntimeError, match=r"mul: a dense tensor of size \(2,\) does not broadcast"):
        e * ember.ones(2)
    # gradients: to the values as PyTorch; to the dense operand dense here (PyTorch: sparse, same numbers)
    v = ember.tensor(np.asarray(VALS), requires_grad=True)
    tv = torch.tensor(np.asarray(VALS), requires_grad=True)
    de, dt = ember.tensor(d, requires_grad=True), torch.tensor(d, requires_grad=True)
    (ember.sparse_coo_tensor(IDX, v, (3, 4)) * de).coalesce().values().sum().backward()
    (torch.sparse_coo_tensor(IDX, tv, (3, 4)) * dt).coalesce().values().sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy())
    dense_close(de.grad, dt.grad.to_dense())


def test_add_dense_and_sparse():
    e, t = pair()
    d = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    dense_close(ember.tensor(d) + e, torch.tensor(d) + t)
    dense_close(ember.tensor(d) - e, torch.tensor(d) - t)
    dense_close(ember.eye(3, 4) + e, torch.eye(3, 4) + t)
    e2, t2 = pair(idx=[[0, 2], [0, 3]], vals=[10.0, 20.0])
    same_sparse(e + e2, t + t2)                       # uncoalesced: PyTorch's merge order
    same_sparse(e.coalesce() + e2.coalesce(), t.coalesce() + t2.coalesce())
    same_sparse(e + e, t + t)
    same_sparse(e - e2, t - t2)
    dense_close(ember.add(ember.tensor(d), e, alpha=2), torch.add(torch.tensor(d), t, alpha=2))
    dense_close(ember.tensor(d).add(e), torch.tensor(d).add(t))
    dense_close(ember.sub(ember.tensor(d), e), torch.sub(torch.tensor(d), t))
    same_sparse(ember.add(e, e2), torch.add(t, t2))
    x, y = ember.tensor(d), torch.tensor(d)
    x += e
    y += t
    dense_close(x, y)
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        e + ember.tensor(d)
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        t + torch.tensor(d)


def test_sparse_sum():
    e, t = pair()
    dense_close(ember.sparse.sum(e), torch.sparse.sum(t))
    for dim in (0, 1, -1):
        same_sparse(ember.sparse.sum(e, dim), torch.sparse.sum(t, dim))
    dense_close(ember.sparse.sum(e, (0, 1)), torch.sparse.sum(t, (0, 1)))
    dense_close(e.sum(), t.sum())


@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("log", [False, True])
def test_sparse_softmax(dim, log):
    e, t = pair(dtype="float64")
    fe = ember.sparse.log_softmax if log else ember.sparse.softmax
    ft = torch.sparse.log_softmax if log else torch.sparse.softmax
    same_sparse(fe(e, dim), ft(t, dim), rtol=1e-12)
    v = ember.tensor(np.asarray(VALS), requires_grad=True)
    tv = torch.tensor(np.asarray(VALS), requires_grad=True)
    w = np.linspace(-1, 1, 4)
    (fe(ember.sparse_coo_tensor(IDX, v, (3, 4)), dim).values() * ember.tensor(w)).sum().backward()
    (ft(torch.sparse_coo_tensor(IDX, tv, (3, 4)), dim).values() * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_to_dense_gradient_to_values_and_leaf():
    w = np.arange(12.0).reshape(3, 4)
    v = ember.tensor(np.asarray(VALS), requires_grad=True)
    tv = torch.tensor(np.asarray(VALS), requires_grad=True)
    (ember.sparse_coo_tensor(IDX, v, (3, 4)).to_dense() * ember.tensor(w)).sum().backward()
    (torch.sparse_coo_tensor(IDX, tv, (3, 4)).to_dense() * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy())
    e, t = pair(dtype="float64", requires_grad=True)
    (e.to_dense() * ember.tensor(w)).sum().backward()
    (t.to_dense() * torch.tensor(w)).sum().backward()
    same_sparse(e.grad, t.grad)


def test_construction_errors():
    with pytest.raises(RuntimeError, match=r"sparse_coo_tensor: indices\[1\] holds 4, out of bounds.*size 4"):
        ember.sparse_coo_tensor([[0], [4]], [1.0], (3, 4))
    with pytest.raises(RuntimeError, match=r"sparse_coo_tensor: found a negative index -1"):
        ember.sparse_coo_tensor([[0], [-1]], [1.0])
    with pytest.raises(RuntimeError, match="number of indices.*number of values"):
        ember.sparse_coo_tensor(IDX, [1.0, 2.0], (3, 4))
    with pytest.raises(RuntimeError, match="indices must be an int64 tensor"):
        ember.sparse_coo_tensor(ember.tensor([[0.0], [1.0]]), [1.0], (3, 4))
    with pytest.raises(RuntimeError, match="indices must be 2-D"):
        ember.sparse_coo_tensor([0, 1], [1.0, 2.0], (3,))
    with pytest.raises(RuntimeError, match="sparse_dim .* dense_dim"):
        ember.sparse_coo_tensor(IDX, VALS, (3, 4, 2))


@pytest.mark.parametrize("call, op", [
    (lambda s: ember.exp(s), "exp"),
    (lambda s: s.view(12), "view"),
    (lambda s: ember.relu(s), "relu"),
    (lambda s: s.mean(), "mean"),
    (lambda s: ember.cat([s, s]), "cat"),
    (lambda s: ember.nn.functional.linear(s, ember.ones(2, 4)), "linear"),
    (lambda s: ember.maximum(ember.ones(3, 4), s), "maximum"),
    (lambda s: ember.where(s > 0, s, 0.0), "gt"),
])
def test_dense_ops_refuse_sparse_naming_the_op(call, op):
    e, _ = pair()
    with pytest.raises(RuntimeError, match=rf"^{op}: sparse COO tensors \(layout=torch.sparse_coo\) are not "
                                           rf"supported here.*size \(3, 4\).*to_dense\(\)"):
        call(e)
    with pytest.raises(TypeError, match="to_dense"):
        e.numpy()


def test_torch_sparse_under_compat_hook():
    import subprocess
    import sys
    code = ("import ember.compat; ember.compat.install(); import torch, torch.sparse; "
            "s = torch.sparse_coo_tensor([[0, 1], [1, 0]], [1., 2.], (2, 2)); "
            "assert torch.sparse.mm(s, torch.ones(2, 1)).tolist() == [[1.0], [2.0]]; "
            "assert s.layout == torch.sparse_coo; print(repr(s.coalesce()).splitlines()[-1])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "size=(2, 2), nnz=2, layout=torch.sparse_coo)"


def test_module_buffer_cast_and_deepcopy():
    import copy
    res = {}
    for lib in (ember, torch):
        m = lib.nn.Linear(4, 2)
        m.register_buffer("adj", lib.sparse_coo_tensor(IDX, VALS, (3, 4)))
        m.double()
        c = copy.deepcopy(m)
        assert c.adj is not m.adj
        res[lib.__name__] = (m.adj, c.adj)
    for a, b in zip(res["ember"], res["torch"]):
        same_sparse(a, b)
    leaf = ember.sparse_coo_tensor(IDX, VALS, (3, 4), requires_grad=True)
    c = copy.deepcopy(leaf)
    assert c.requires_grad and c.is_leaf


def test_sparse_is_cpu_only():
    e, _ = pair()
    with pytest.raises(RuntimeError, match="CPU only"):
        e.to("cuda")
    with pytest.raises(RuntimeError, match="sparse_coo_tensor: .*CPU only"):
        ember.sparse_coo_tensor(IDX, VALS, (3, 4), device="cuda")
    assert e.to("cpu") is e and e.cpu() is e
    same_sparse(e.double(), pair(dtype="float64")[1])


def test_hybrid_sum_softmax_transpose():
    """Values with dense dims: torch.sparse.sum coalesces first (a sum over dense dims only merges duplicate
    entries), softmax over sparse and dense dims, transposes of sparse dims only."""
    idx = [[2, 0, 2], [1, 1, 1]]
    v = np.arange(12.0).reshape(3, 2, 2)
    e = ember.sparse_coo_tensor(idx, ember.tensor(v), (3, 2, 2, 2))
    t = torch.sparse_coo_tensor(idx, torch.tensor(v), (3, 2, 2, 2))
    same_sparse(e.transpose(0, 1), t.transpose(0, 1))
    for dim in (2, (0, 3), 1):
        same_sparse(ember.sparse.sum(e, dim), torch.sparse.sum(t, dim))
    for dim in ((0, 1), (0, 1, 2)):
        dense_close(ember.sparse.sum(e, dim), torch.sparse.sum(t, dim))
    for dim in (0, 3):
        same_sparse(ember.sparse.softmax(e, dim), torch.sparse.softmax(t, dim), rtol=1e-12)
    x = np.zeros((3, 2, 2))
    x[1, 0] = [1, 2]
    x[2, 1, 1] = 5
    same_sparse(ember.tensor(x).to_sparse(2), torch.tensor(x).to_sparse(2))
    with pytest.raises(RuntimeError, match="transposed dimensions must be sparse"):
        t.transpose(2, 3)
    with pytest.raises(RuntimeError, match="transposed dimensions must be sparse"):
        e.transpose(2, 3)
