"""Indexing, views, in-place writes and creation on "cuda", against the same calls on the CPU: the ops of
ember/ops/index.py, _index_*.py, shape.py, _shape_*.py, _tensor_inplace.py, creation.py and _toplevel*.py
that the fuzz specs (test_device_ops) don't reach.  On the NumPy-backed stand-in the numbers must be equal bit
for bit; on a GPU within float tolerance."""
import types

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.ops import _index_device


def _host(t):
    return t.detach().cpu().numpy()


def _same(c, d, exact, what=""):
    assert d.device.type == "cuda", f"{what}: result on {d.device}, expected cuda"
    assert c.dtype == d.dtype and tuple(c.shape) == tuple(d.shape), what
    a, b = _host(c), _host(d)
    if exact or a.dtype.kind not in "fc":
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=what)


def _both(fn, *arrays, grad=(), exact=True, layout=True):
    """fn on CPU tensors and on cuda tensors made from ``arrays``; compares outputs (and the gradients of the
    inputs listed in ``grad`` after a backward of sum(out * w))."""
    res = []
    for dev in ("cpu", "cuda"):
        ts = [ember.tensor(a, device=dev, requires_grad=i in grad) for i, a in enumerate(arrays)]
        out = fn(*ts)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        if grad:
            tot = None
            for o in outs:
                w = ember.tensor(np.linspace(-1, 1, max(o.numel(), 1))[:o.numel()].reshape(tuple(o.shape))
                                 .astype(np.dtype(str(o.dtype).replace("ember.", ""))), device=dev)
                s = (o * w).sum()
                tot = s if tot is None else tot + s
            tot.backward()
        res.append((outs, ts))
    (co, ct), (do, dt) = res
    for k, (c, d) in enumerate(zip(co, do)):
        _same(c, d, exact, f"output {k}")
        if layout and c.numel() > 1:
            assert c.stride() == d.stride(), f"output {k}: strides {d.stride()} on cuda, {c.stride()} on cpu"
    for i in grad:
        _same(ct[i].grad, dt[i].grad, exact, f"grad of input {i}")
    return do


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int8", "uint8"])
def test_index_put_accumulate_every_dtype(cuda, exact, dtype):
    """index_put_(accumulate=True) goes through ufunc_at: CuPy's atomic add, int64 as uint64, or the host."""
    x = np.arange(6).astype(dtype)
    v = np.array([1, 2, 3, 4]).astype(dtype)
    i = np.array([0, 2, 2, 5])
    _both(lambda x, v, i: ember.index_put(x, (i,), v, accumulate=True), x, v, i, exact=exact)
    if dtype.startswith("float"):
        _both(lambda x, v, i: ember.index_put(x, (i,), v, accumulate=True), x, v, i, grad=(0, 1), exact=exact)


def test_check_bounds_raises_where_cupy_would_wrap():
    """CuPy wraps out-of-range integer-array indices around; ember checks them first (PyTorch raises)."""
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 3"):
        _index_device.check_bounds((2, 3), (slice(None), np.array([0, 3])))
    with pytest.raises(IndexError, match="index -4 is out of bounds"):
        _index_device.check_bounds((2, 3), (Ellipsis, np.array([-4])))
    _index_device.check_bounds((2, 3), (None, np.array([True, False]), np.array([-3, 2])))   # in range
    _index_device.check_bounds((1, 3), (np.array(True), np.array([0]), np.array([2])))        # 0-d mask: no dim


def test_out_of_range_indices_raise_on_cuda(cuda):
    x = ember.zeros(3, 4, device="cuda")
    with pytest.raises(IndexError, match="out of"):
        x[ember.tensor([0, 4], device="cuda")]
    with pytest.raises(IndexError, match="out of"):
        x[:, [1, 4]]
    with pytest.raises(IndexError, match="out of"):
        x[ember.tensor([3], device="cuda")] = 1.0
    with pytest.raises(IndexError, match="out of"):
        ember.index_select(x, 1, ember.tensor([4], device="cuda"))
    assert x[ember.tensor([], dtype=ember.int64, device="cuda")].shape == (0, 4)


def test_cuda_index_on_cpu_tensor_raises(cuda):
    x = ember.zeros(3)
    with pytest.raises(IndexError, match="same device"):
        x[ember.tensor([0, 1], device="cuda")]
    with pytest.raises(IndexError, match="same device"):
        x[ember.tensor([True, False, True], device="cuda")] = 1.0
    with pytest.raises(RuntimeError, match="same device"):
        ember.gather(x, 0, ember.tensor([0], device="cuda"))


def test_getitem_setitem_kinds(cuda, exact):
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    m = np.array([[True, False, True], [False, False, True]])
    _both(lambda x: x[[1, 0, 1]], x, grad=(0,), exact=exact)                     # host list on device data
    _both(lambda x: x[None, 1, :, None, 2:], x, grad=(0,), exact=exact)          # basic, None strides
    _both(lambda x, m: x[m], x, m, grad=(0,), exact=exact)                       # device mask
    _both(lambda x: x[1, [0, 2], 1:3], x, grad=(0,), exact=exact)                # ints first, then arrays
    _both(lambda x: x[..., ember.tensor(2)], x, grad=(0,), exact=exact)
    _both(lambda x: x[ember.tensor(True, device=x.device), 0], x, grad=(0,), exact=exact)   # 0-d mask, then an int
    _both(lambda x: x[[ember.tensor(k % 2, device=x.device) for k in range(40)]], x, grad=(0,), exact=exact)
    _both(lambda x: x[ember.tensor(False, device=x.device), 1], x, exact=exact)

    def put(x, v):
        y = x * 1
        y[:, [0, 2], 1] = v
        y[y > 20] = 0.5
        return y
    _both(put, x, np.array([7.0, 8.0], np.float32), grad=(0, 1), exact=exact)


def test_masked_scatter_and_index_ops(cuda, exact):
    x = np.arange(12, dtype=np.float64).reshape(3, 4)
    m = np.array([True, False, True, True])
    src = np.linspace(-1, 1, 12).reshape(3, 4)
    _both(lambda x, m, s: ember.masked_scatter(x, m, s), x, m, src, grad=(0, 2), exact=exact)
    i = np.array([2, 0])
    _both(lambda x, i, s: ember.index_copy(x, 0, i, s[:2]), x, i, src, grad=(0, 2), exact=exact)
    _both(lambda x, i: ember.index_fill(x, 1, i, ember.tensor(-2.0, dtype=ember.float64, device=x.device)),
          x, i, grad=(0,), exact=exact)
    _both(lambda x, i: ember.index_fill(x, 1, i - 3, 5.0), x, i, exact=exact)
    _both(lambda x, i, s: ember.index_add(x, 0, i, s[:2], alpha=2), x, i, src, grad=(0, 2), exact=exact)
    j = np.array([[0, -1], [3, -4], [1, 2]])
    _both(lambda x, j: ember.take_along_dim(x, j, 1), x, j, grad=(0,), exact=exact)
    _both(lambda x: ember.index_add(x.to(ember.int64), 0, ember.tensor([1, 1], device=x.device),
                                    ember.ones(2, 4, dtype=ember.int64, device=x.device)), x, exact=exact)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_with_zeros(cuda, exact, reduce, include_self):
    """prod's exact gradient with zeros is a host fallback; amax/amin go through CuPy's max/min at."""
    x = np.array([[1.0, 0.0, 2.0, 3.0], [0.5, 2.0, 0.0, 1.0]])
    src = np.array([[0.0, 2.0, 2.0], [3.0, 0.0, 1.5]])
    idx = np.array([[0, 0, 3], [1, 1, 1]])
    _both(lambda x, i, s: ember.scatter_reduce(x, 1, i, s, reduce, include_self=include_self), x, idx, src,
          grad=(0, 2), exact=exact)
    _both(lambda x, i, s: ember.scatter_reduce(x.to(ember.int64), 1, i, s.to(ember.int64), reduce,
                                               include_self=include_self), x, idx, src, exact=exact)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
def test_pad_modes(cuda, exact, mode):
    x = np.arange(2 * 3 * 5, dtype=np.float32).reshape(1, 2, 3, 5)
    _both(lambda x: F.pad(x, (2, 1, 1, 2), mode=mode), x, grad=(0,), exact=exact)


def test_strided_views(cuda, exact):
    x = np.arange(30, dtype=np.float64)
    _both(lambda x: x[3:].as_strided((4, 3), (5, 2), 7), x, grad=(0,), exact=exact)   # storage offset of a slice
    _both(lambda x: x[2:].as_strided((3, 3), (1, 1)), x, grad=(0,), exact=exact)      # overlapping elements
    _both(lambda x: x.unfold(0, 4, 3), x, grad=(0,), exact=exact)
    _both(lambda x: x.reshape(5, 6).diagonal(1), x, grad=(0,), exact=exact)
    _both(lambda x: x.reshape(5, 6)[1:].t().contiguous(), x, grad=(0,), exact=exact)
    _both(lambda x: x.reshape(5, 6).repeat_interleave(ember.tensor([1, 0, 2, 1, 3], device=x.device), dim=0), x,
          grad=(0,), exact=exact)
    d = ember.arange(10.0, device="cuda")[2:]
    assert d.storage_offset() == 2 and d.as_strided((2,), (3,)).cpu().tolist() == [2.0, 5.0]


def test_inplace_through_overlapping_and_cross_device_copy(cuda, exact):
    x = np.arange(8, dtype=np.float32)

    def f(x):
        y = x * 1
        y.unfold(0, 3, 1).add_(1)             # elements sharing memory: updated once per element
        y.as_strided((3, 2), (1, 1))[...] = ember.tensor([[1.0, 2.0]], device=x.device)
        return y
    _both(f, x, grad=(0,), exact=exact)
    d = ember.zeros(2, 3, device="cuda")
    d.copy_(ember.arange(6.0).reshape(2, 3))            # host -> device
    d[0].copy_([7.0, 8.0, 9.0])                           # Python data -> device
    c = ember.zeros(2, 3)
    c.copy_(d)                                            # device -> host
    assert d.device.type == "cuda" and c.device.type == "cpu"
    assert c.tolist() == [[7.0, 8.0, 9.0], [3.0, 4.0, 5.0]]


def test_sort_search_nonzero_put(cuda, exact):
    x = np.array([[3.0, np.nan, 1.0, 3.0], [0.0, -2.0, 5.0, 0.0]])
    _both(lambda x: ember.sort(x, 1, descending=True), x, grad=(0,), exact=exact)
    _both(lambda x: ember.topk(x, 2, 1), x, grad=(0,), exact=exact)
    _both(lambda x: ember.argsort(x, 0), x, exact=exact)
    s = np.array([1.0, 2.0, 4.0])
    _both(lambda s: ember.searchsorted(s, 3.0), s, exact=exact)
    _both(lambda s: ember.bucketize(ember.tensor([0.5, 2.0, 9.0], dtype=ember.float64, device=s.device), s, right=True),
          s, exact=exact)
    _both(lambda x: ember.nonzero_static(x, size=7), x, exact=exact)
    _both(lambda x: ember.nonzero(x, as_tuple=True), x, exact=exact)
    _both(lambda x: ember.put(x, ember.tensor([0, -1, 0], device=x.device), ember.tensor([1.0, 2.0, 3.0],
          dtype=ember.float64, device=x.device), accumulate=True), x, grad=(0,), exact=exact)
    _both(lambda x: F.one_hot(x.to(ember.int64).abs().clamp(max=5)), np.array([3, 0, 5]), exact=exact)


def test_creation_on_cuda(cuda, exact):
    for f in (lambda d: ember.zeros(2, 3, device=d), lambda d: ember.ones((3,), dtype=ember.int8, device=d),
              lambda d: ember.full((2, 2), 7, device=d), lambda d: ember.full((1,), 1e6, dtype=ember.float16, device=d),
              lambda d: ember.eye(3, 2, device=d), lambda d: ember.arange(1, 7, 2, device=d),
              lambda d: ember.linspace(0, 1, 5, device=d), lambda d: ember.empty_strided((2, 3), (1, 2), device=d),
              lambda d: ember.zeros_like(ember.ones(2, 3, device=d).t()),
              lambda d: ember.full_like(ember.ones(2, device=d), 3, dtype=ember.int32),
              lambda d: ember.asarray([1, 2], device=d), lambda d: ember.asarray(np.arange(3), device=d)):
        c, d = f("cpu"), f("cuda")
        _same(c, d, exact)
        assert c.stride() == d.stride()
    ember.set_default_device("cuda")
    try:
        assert ember.zeros(2).device.type == "cuda" and ember.full((1,), 2.0).device.type == "cuda"
        assert ember.zeros_like(ember.ones(2, device="cpu")).device.type == "cpu"     # *_like: the input's device
    finally:
        ember.set_default_device(None)
    assert ember.asarray(ember.ones(2, device="cuda")._data).device.type == "cuda"    # a CuPy array, shared
    t = ember.ones(2, device="cuda")
    assert ember.as_tensor(t, device="cpu").device.type == "cpu"
    assert ember.as_tensor(ember.ones(2), device="cuda").device.type == "cuda"
    assert ember.as_tensor(t) is t
    with pytest.warns(UserWarning):
        assert ember.tensor(t, device="cpu").device.type == "cpu"


def test_random_on_cuda_draws_the_cpu_numbers(cuda, exact):
    """Random creation draws on the host from ember's generator, then moves: a seed gives the same numbers."""
    for f in (lambda d: ember.rand(3, device=d), lambda d: ember.randn(2, 2, dtype=ember.float64, device=d),
              lambda d: ember.randint(0, 9, (4,), device=d), lambda d: ember.randperm(5, device=d),
              lambda d: ember.normal(ember.zeros(3, device=d), ember.ones(3, device=d)),
              lambda d: ember.normal(ember.zeros(3, device=d), 2.0),
              lambda d: ember.bernoulli(ember.full((4,), 0.5, device=d)),
              lambda d: ember.multinomial(ember.ones(2, 5, device=d), 3),
              lambda d: ember.poisson(ember.full((3,), 2.0, device=d)),
              lambda d: ember.binomial(ember.full((3,), 5.0, device=d), ember.full((3,), 0.5, device=d)),
              lambda d: ember.zeros(4, device=d).uniform_(), lambda d: ember.zeros(4, device=d).bernoulli_(0.3),
              lambda d: ember.zeros(3, device=d).random_(0, 10)):
        ember.manual_seed(7)
        c = f("cpu")
        ember.manual_seed(7)
        d = f("cuda")
        _same(c, d, exact)


def test_views_and_writes_without_a_writeable_flag(cuda, exact, monkeypatch):
    """CuPy before 14 has no ``flags.writeable`` (its arrays are always writable): views and in-place writes
    on device arrays must not ask for it."""
    if not exact:
        pytest.skip("the stand-in's flags are patched; a real CuPy has its own")

    def run(dev):
        x = ember.arange(12.0, device=dev).reshape(3, 4)
        got = [x.unfold(1, 2, 1), x.diagonal(), x[None, 1], x.as_strided((2, 2), (1, 1)), x[:, None].squeeze(1),
               x.t().unsqueeze(0)]
        x.t().add_(1)
        x[1:, 2] = 0.0
        return [g.cpu().tolist() for g in got + [x]], [g.device.type for g in got + [x]]
    want, _ = run("cpu")
    nd = type(ember.zeros(1, device="cuda")._data)
    monkeypatch.setattr(nd, "flags", property(lambda s: types.SimpleNamespace(
        c_contiguous=s._a.flags.c_contiguous, f_contiguous=s._a.flags.f_contiguous, owndata=s._a.flags.owndata)))
    got, devs = run("cuda")
    assert got == want and set(devs) == {"cuda"}


def test_toplevel_device_queries(cuda):
    x = ember.ones(2, device="cuda")
    assert ember.get_device(x) == 0 and ember.get_device(ember.ones(2)) == -1
    assert ember.typename(x) == "torch.cuda.FloatTensor" and ember.typename(ember.ones(2)) == "torch.FloatTensor"
    assert ember.fill(x, 3.0).device.type == "cuda" and ember.scalar_tensor(2, device="cuda").device.type == "cuda"


def test_setitem_value_from_another_device(cuda):
    x = ember.zeros(2, 3, device="cuda")
    x[0] = ember.tensor(2.0)                               # a CPU scalar tensor into a device tensor
    x[1, [0, 2]] = ember.tensor([3.0, 4.0])
    c = ember.zeros(3)
    c[1:] = ember.ones(2, device="cuda")                  # and back
    assert x.device.type == "cuda" and x.cpu().tolist() == [[2.0, 2.0, 2.0], [3.0, 0.0, 4.0]]
    assert c.device.type == "cpu" and c.tolist() == [0.0, 1.0, 1.0]
    w = ember.tensor([5.0, 6.0], requires_grad=True)       # in a graph: the gradient goes back to the CPU
    y = ember.zeros(2, 2, device="cuda")
    y[0] = w
    y.sum().backward()
    assert w.grad.device.type == "cpu" and w.grad.tolist() == [1.0, 1.0]
