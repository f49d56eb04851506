"""nn.EmbeddingBag / F.embedding_bag against PyTorch 2.13: modes sum/mean/max, offsets, include_last_offset,
padding_idx, per_sample_weights, the 2-D input form, scale_grad_by_freq, max_norm; values and gradients
(weight and per_sample_weights), float64 finite differences, the module's state_dict and SGD steps, errors."""
import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF

torch = pytest.importorskip("torch")
TF = torch.nn.functional

IDX = np.array([1, 2, 4, 5, 4, 3, 2, 6, 0, 1])
# ragged, empty bags, include_last_offset; ([0, 5], False) and ([0], False) are evenly spaced (the reshape path)
OFFSETS = [([0, 4, 4, 7], False), ([0, 4, 4, 10], True), ([0, 3, 10], True), ([0], False), ([0, 0, 0], False),
           ([0, 5], False)]


def _run_both(idx, off, mode, pad=None, ilo=False, psw=None, scale=False, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((7, 3)).astype(dtype)
    tw, ew = torch.tensor(W, requires_grad=True), ember.tensor(W, requires_grad=True)
    tp = None if psw is None else torch.tensor(psw, requires_grad=True)
    ep = None if psw is None else ember.tensor(psw, requires_grad=True)
    toff = None if off is None else torch.tensor(off)
    eoff = None if off is None else ember.tensor(off)
    to = TF.embedding_bag(torch.tensor(idx), tw, toff, mode=mode, padding_idx=pad, include_last_offset=ilo,
                          per_sample_weights=tp, scale_grad_by_freq=scale)
    eo = EF.embedding_bag(ember.tensor(idx), ew, eoff, mode=mode, padding_idx=pad, include_last_offset=ilo,
                          per_sample_weights=ep, scale_grad_by_freq=scale)
    assert tuple(eo.shape) == tuple(to.shape) and str(eo.dtype).split(".")[-1] == str(to.dtype).split(".")[-1]
    G = rng.standard_normal(tuple(to.shape)).astype(dtype)
    (to * torch.tensor(G)).sum().backward()
    (eo * ember.tensor(G)).sum().backward()
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), **tol)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), **tol)
    if psw is not None:
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), **tol)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("off,ilo", OFFSETS)
@pytest.mark.parametrize("pad", [None, 4, -1])
def test_offsets_modes_padding(mode, off, ilo, pad):
    _run_both(IDX, off, mode, pad=pad, ilo=ilo)


@pytest.mark.parametrize("off,ilo", OFFSETS)
@pytest.mark.parametrize("pad", [None, 2])
def test_per_sample_weights(off, ilo, pad):
    _run_both(IDX, off, "sum", pad=pad, ilo=ilo, psw=np.random.default_rng(3).standard_normal(IDX.size))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_2d_input_and_float32(mode):
    idx2 = IDX.reshape(2, 5)
    _run_both(idx2, None, mode, pad=1)
    _run_both(idx2, None, mode, dtype=np.float32)
    if mode == "sum":
        _run_both(idx2, None, mode, psw=np.random.default_rng(4).standard_normal((2, 5)))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_2d_bag_of_padding_only(mode):
    idx2 = np.array([[3, 3, 3], [1, 3, 5], [6, 6, 0]])
    _run_both(idx2, None, mode, pad=3)
    if mode == "sum":
        _run_both(idx2, None, mode, pad=3, psw=np.random.default_rng(9).standard_normal((3, 3)))


def test_scale_grad_by_freq():
    """Each index's gradient divided by its frequency in the mini-batch (the documented rule, and
    F.embedding's).  PyTorch 2.13's CPU embedding_bag disagrees with itself here (with IDX it halves the
    gradient of rows 3 and 6, which occur once), so the oracle is torch's F.embedding + a per-bag sum."""
    rng = np.random.default_rng(8)
    W = rng.standard_normal((7, 3))
    tw, ew = torch.tensor(W, requires_grad=True), ember.tensor(W, requires_grad=True)
    G = rng.standard_normal((3, 3))
    bag_of = torch.tensor(np.searchsorted([0, 3, 6], np.arange(IDX.size), side="right") - 1)
    rows = TF.embedding(torch.tensor(IDX), tw, scale_grad_by_freq=True)
    to = torch.zeros(3, 3, dtype=torch.float64).index_add(0, bag_of, rows)
    eo = EF.embedding_bag(ember.tensor(IDX), ew, ember.tensor([0, 3, 6]), mode="sum", scale_grad_by_freq=True)
    (to * torch.tensor(G)).sum().backward()
    (eo * ember.tensor(G)).sum().backward()
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-12)
    # mean: also divided by the bag sizes (3, 3, 4)
    ew.grad = None
    EF.embedding_bag(ember.tensor(IDX), ew, ember.tensor([0, 3, 6]), mode="mean", scale_grad_by_freq=True
                     ).sum().backward()
    freq = np.bincount(IDX, minlength=7)
    sizes = np.array([3, 3, 4])[np.searchsorted([0, 3, 6], np.arange(IDX.size), side="right") - 1]
    expect = np.zeros(7)
    np.add.at(expect, IDX, 1.0 / sizes / freq[IDX])
    np.testing.assert_allclose(ew.grad.numpy(), np.repeat(expect[:, None], 3, 1), rtol=1e-12)


def test_max_norm_renormalizes_like_torch():
    W = np.random.default_rng(5).standard_normal((7, 3)) * 3
    tw, ew = torch.tensor(W), ember.tensor(W)
    to = TF.embedding_bag(torch.tensor(IDX), tw, torch.tensor([0, 5]), max_norm=1.0)
    eo = EF.embedding_bag(ember.tensor(IDX), ew, ember.tensor([0, 5]), max_norm=1.0)
    np.testing.assert_allclose(eo.numpy(), to.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ew.numpy(), tw.numpy(), rtol=1e-10)     # the weight itself, in place


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_gradcheck_float64(mode):
    rng = np.random.default_rng(6)
    w = ember.tensor(rng.standard_normal((7, 3)), requires_grad=True)
    idx, off = ember.tensor(IDX), ember.tensor([0, 4, 4, 7])
    assert ember.autograd.gradcheck(lambda w: EF.embedding_bag(idx, w, off, mode=mode, padding_idx=4), (w,))
    if mode == "sum":
        p = ember.tensor(rng.standard_normal(IDX.size), requires_grad=True)
        assert ember.autograd.gradcheck(
            lambda w, p: EF.embedding_bag(idx, w, off, mode="sum", per_sample_weights=p), (w, p))


def test_module_matches_torch_state_dict_and_sgd():
    t = torch.nn.EmbeddingBag(7, 3, mode="sum", padding_idx=2).double()
    e = enn.EmbeddingBag(7, 3, mode="sum", padding_idx=2, dtype=ember.float64)
    assert list(e.state_dict()) == ["weight"] == list(t.state_dict())
    assert repr(e) == repr(t) == "EmbeddingBag(7, 3, mode='sum', padding_idx=2)"
    np.testing.assert_array_equal(e.weight.detach().numpy()[2], 0)
    e.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    topt, eopt = torch.optim.SGD(t.parameters(), lr=0.1), ember.optim.SGD(e.parameters(), lr=0.1)
    rng = np.random.default_rng(7)
    for _ in range(3):
        psw = rng.standard_normal(IDX.size)
        to = t(torch.tensor(IDX), torch.tensor([0, 3, 6]), torch.tensor(psw))
        eo = e(ember.tensor(IDX), ember.tensor([0, 3, 6]), ember.tensor(psw))
        np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-12, atol=1e-12)
        topt.zero_grad()
        eopt.zero_grad()
        (to ** 2).sum().backward()
        (eo ** 2).sum().backward()
        topt.step()
        eopt.step()
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_from_pretrained():
    w = ember.tensor(np.arange(6.0).reshape(3, 2))
    bag = enn.EmbeddingBag.from_pretrained(w, mode="max")
    assert not bag.weight.requires_grad
    np.testing.assert_array_equal(bag(ember.tensor([[0, 2]])).numpy(), [[4.0, 5.0]])


def test_errors_name_function_and_shapes():
    w = ember.randn(5, 2)
    i = ember.tensor([1, 2, 3])
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        EF.embedding_bag(i, w)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        EF.embedding_bag(ember.tensor([[1, 2]]), w, ember.tensor([0]))
    with pytest.raises(ValueError, match=r"input has to be 1D or 2D Tensor, but got Tensor of dimension 3"):
        EF.embedding_bag(ember.zeros(1, 1, 1, dtype=ember.int64), w)
    with pytest.raises(ValueError, match=r"per_sample_weights \(\(2,\)\).*input \(\(3,\)\)"):
        EF.embedding_bag(i, w, ember.tensor([0]), mode="sum", per_sample_weights=ember.ones(2))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum' \\(got mode='mean'\\)"):
        EF.embedding_bag(i, w, ember.tensor([0]), per_sample_weights=ember.ones(3))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        EF.embedding_bag(i, w, ember.tensor([0]), mode="min")
    with pytest.raises(ValueError, match="max mode does not support scaling"):
        EF.embedding_bag(i, w, ember.tensor([0]), mode="max", scale_grad_by_freq=True)
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0.*got 1"):
        EF.embedding_bag(i, w, ember.tensor([1]))
    with pytest.raises(RuntimeError, match="offsets\\[-1\\] can not be greater than input's length 3"):
        EF.embedding_bag(i, w, ember.tensor([0, 9]))
    with pytest.raises(RuntimeError, match="non-decreasing"):
        EF.embedding_bag(i, w, ember.tensor([0, 2, 1]))
    with pytest.raises(IndexError, match=r"value 7 .*\[0, 5\).*\(5, 2\)"):
        EF.embedding_bag(ember.tensor([7]), w, ember.tensor([0]))
    with pytest.raises(RuntimeError, match="integer tensor"):
        EF.embedding_bag(ember.tensor([1.0]), w, ember.tensor([0]))
    with pytest.raises(ValueError, match=r"weight has to be a 2D Tensor.*\(5,\)"):
        EF.embedding_bag(i, ember.randn(5), ember.tensor([0]))
