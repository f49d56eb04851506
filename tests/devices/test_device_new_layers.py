"""Layers added for PyTorch compatibility (CTC loss, EmbeddingBag, weight/spectral norm, lazy modules, 3-D
convolution) on the "cuda" device: the same numbers as on the CPU.  CTC loss and EmbeddingBag take a host
fallback (their index arithmetic is NumPy's), through differentiable copies."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F


def _run(dev):
    rng = np.random.default_rng(0)
    out = {}
    lp = ember.tensor(rng.standard_normal((12, 3, 6)).astype(np.float32), device=dev, requires_grad=True)
    targets = ember.tensor(rng.integers(1, 6, (3, 4)), device=dev)
    loss = F.ctc_loss(lp.log_softmax(2), targets, ember.tensor([12, 10, 8], device=dev),
                      ember.tensor([4, 3, 2], device=dev))
    loss.backward()
    out["ctc"] = (loss, lp.grad)
    w = ember.tensor(rng.standard_normal((10, 4)).astype(np.float32), device=dev, requires_grad=True)
    idx = ember.tensor(np.array([1, 2, 4, 5, 4, 3, 2, 9]), device=dev)
    offsets = ember.tensor(np.array([0, 4]), device=dev)
    for mode in ("sum", "mean", "max"):
        w.grad = None
        r = F.embedding_bag(idx, w, offsets, mode=mode)
        r.sum().backward()
        out["embedding_bag " + mode] = (r, w.grad)
    w.grad = None
    r = F.embedding_bag(idx, w, offsets, max_norm=1.0)     # renormalises the used rows of w in place
    out["embedding_bag max_norm"] = (r, w)
    x = ember.tensor(rng.standard_normal((2, 4)).astype(np.float32), device=dev)
    ember.manual_seed(0)
    sn = ember.nn.utils.spectral_norm(ember.nn.Linear(4, 3)).to(dev)
    ember.manual_seed(0)
    wn = ember.nn.utils.parametrizations.weight_norm(ember.nn.Linear(4, 3)).to(dev)
    out["norms"] = (sn(x), wn(x))
    ember.manual_seed(0)
    lazy = ember.nn.LazyLinear(3).to(dev)
    out["lazy"] = (lazy(x),)
    ember.manual_seed(0)
    c3 = ember.nn.Conv3d(2, 3, 2).to(dev)
    v = ember.tensor(rng.standard_normal((1, 2, 4, 4, 4)).astype(np.float32), device=dev)
    out["conv3d"] = (c3(v),)
    return out


def test_new_layers_give_the_cpu_numbers_on_the_device(cuda):
    cpu, dev = _run("cpu"), _run("cuda")
    for key in cpu:
        for a, b in zip(cpu[key], dev[key]):
            assert b.device.type == "cuda", key
            np.testing.assert_allclose(a.detach().numpy(), b.detach().cpu().numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=key)
