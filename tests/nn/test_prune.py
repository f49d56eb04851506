"""``ember.nn.utils.prune`` against ``torch.nn.utils.prune``: the masks of the deterministic methods (ties
included), the re-parametrization (``_orig`` parameter, ``_mask`` buffer, state_dict keys), iterative pruning,
``remove``, gradients, and the errors."""
import numpy as np
import pytest
import torch
import torch.nn.utils.prune as TP

import ember
import ember.nn.utils.prune as EP
from ember.nn.utils._prune_select import select_indices


def _pair(kind="linear", seed=0, ints=False):
    """The same layer in both libraries (weights copied from torch's, optionally small integers: many ties)."""
    torch.manual_seed(seed)
    if kind == "linear":
        t, e = torch.nn.Linear(6, 5), ember.nn.Linear(6, 5)
    else:
        t, e = torch.nn.Conv2d(3, 4, 3), ember.nn.Conv2d(3, 4, 3)
    if ints:
        rng = np.random.default_rng(seed)
        with torch.no_grad():
            for p in t.parameters():
                p.copy_(torch.from_numpy(rng.integers(-2, 3, size=tuple(p.shape)).astype(np.float32)))
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return t, e


def _same(a, b, what="mask"):
    np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy(), err_msg=what)


def _same_layout(t, e):
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]


@pytest.mark.parametrize("ints", [False, True])
@pytest.mark.parametrize("amount", [0, 3, 0.4, 1.0, 30])
def test_l1_unstructured_mask_and_reparametrization(amount, ints):
    t, e = _pair(ints=ints)
    assert TP.l1_unstructured(t, "weight", amount=amount) is t
    assert EP.l1_unstructured(e, "weight", amount=amount) is e
    _same(t.weight_mask, e.weight_mask)
    _same_layout(t, e)
    assert list(e.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert isinstance(e.weight_orig, ember.nn.Parameter) and not isinstance(e.weight, ember.nn.Parameter)
    assert "weight" not in e._parameters and e.weight_mask.dtype == e.weight_orig.dtype
    _same(t.weight, e.weight, "pruned weight")
    assert EP.is_pruned(e) and isinstance(next(iter(e._forward_pre_hooks.values())), EP.L1Unstructured)


def test_l1_ties_pick_the_entries_pytorch_picks():
    # many equal |values|: which of them are pruned is decided by PyTorch's CPU topk selection
    rng = np.random.default_rng(3)
    for n, levels in [(200, 3), (700, 2), (5000, 4)]:
        w = rng.integers(-levels, levels + 1, size=(n // 10, 10)).astype(np.float32)
        for amount in (1, n // 64, n // 3, 0.5, n - 1):
            t, e = torch.nn.Linear(10, n // 10, bias=False), ember.nn.Linear(10, n // 10, bias=False)
            with torch.no_grad():
                t.weight.copy_(torch.from_numpy(w))
            e.weight.data = ember.tensor(w)
            TP.l1_unstructured(t, "weight", amount)
            EP.l1_unstructured(e, "weight", amount)
            _same(t.weight_mask, e.weight_mask, f"n={n} amount={amount}")


def test_select_indices_matches_torch_topk_on_ties_and_nan():
    rng = np.random.default_rng(1)
    for trial in range(300):
        n = int(rng.integers(1, 3000))
        k = int(rng.integers(1, n + 1)) if trial % 2 else max(1, n // 64 - int(rng.integers(0, 2)))
        x = rng.integers(0, int(rng.integers(1, 6)), size=n).astype(np.float32)
        if trial % 2:
            x = x * np.float32(0.37) + np.float32(0.11)      # ties between non-integer values
        if trial % 5 == 0:
            x[rng.random(n) < 0.1] = np.nan
        for largest in (False, True):
            want = np.sort(torch.topk(torch.from_numpy(x), k, largest=largest).indices.numpy())
            np.testing.assert_array_equal(select_indices(x, k, largest), want, err_msg=f"{n} {k} {largest}")


@pytest.mark.parametrize("n", [1, 2, float("inf"), float("-inf"), "fro", 3])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_ln_structured_conv_mask(n, dim):
    # 'fro' over the three other dims of a conv weight is an error in PyTorch's norm: a Linear weight then
    t, e = _pair("linear" if n == "fro" else "conv", seed=1)
    TP.ln_structured(t, "weight", amount=0.5, n=n, dim=dim)
    EP.ln_structured(e, "weight", amount=0.5, n=n, dim=dim)
    _same(t.weight_mask, e.weight_mask)
    _same_layout(t, e)


def test_ln_structured_ties_and_importance_scores():
    t, e = _pair("conv", ints=True)
    with torch.no_grad():        # output channels 0 and 2 equal: a tie across channels
        t.weight[2] = t.weight[0]
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    TP.ln_structured(t, "weight", amount=2, n=1, dim=0)
    EP.ln_structured(e, "weight", amount=2, n=1, dim=0)
    _same(t.weight_mask, e.weight_mask)
    scores = np.random.default_rng(0).random((6,)).astype(np.float32)
    t, e = _pair()
    TP.l1_unstructured(t, "bias", amount=2, importance_scores=torch.from_numpy(scores[:5]))
    EP.l1_unstructured(e, "bias", amount=2, importance_scores=ember.tensor(scores[:5]))
    _same(t.bias_mask, e.bias_mask)


def test_custom_from_mask_and_identity():
    t, e = _pair()
    TP.custom_from_mask(t, "bias", mask=torch.tensor([0, 1, 0, 1, 1]))
    EP.custom_from_mask(e, "bias", mask=ember.tensor([0, 1, 0, 1, 1]))
    _same(t.bias_mask, e.bias_mask)
    assert e.bias_mask.dtype == ember.float32
    TP.identity(t, "weight")
    EP.identity(e, "weight")
    _same(t.weight_mask, e.weight_mask)
    _same_layout(t, e)


def test_global_unstructured_over_several_layers():
    t1, e1 = _pair(seed=1, ints=True)
    t2, e2 = _pair("conv", seed=2)
    TP.l1_unstructured(t1, "weight", amount=4)          # an already pruned tensor takes part with its mask
    EP.l1_unstructured(e1, "weight", amount=4)
    tp = [(t1, "weight"), (t1, "bias"), (t2, "weight")]
    ep = [(e1, "weight"), (e1, "bias"), (e2, "weight")]
    assert TP.global_unstructured(tp, pruning_method=TP.L1Unstructured, amount=0.3) is None
    assert EP.global_unstructured(ep, pruning_method=EP.L1Unstructured, amount=0.3) is None
    for (tm, name), (em, _) in zip(tp, ep):
        _same(getattr(tm, name + "_mask"), getattr(em, name + "_mask"), name)
        _same_layout(tm, em)
    assert isinstance(next(iter(e1._forward_pre_hooks.values())), EP.PruningContainer)
    # importance scores given for one of the pairs
    t, e = _pair(seed=4)
    scores = np.arange(30, dtype=np.float32).reshape(5, 6)[::-1].copy()
    TP.global_unstructured([(t, "weight"), (t, "bias")], TP.L1Unstructured,
                           importance_scores={(t, "weight"): torch.from_numpy(scores)}, amount=10)
    EP.global_unstructured([(e, "weight"), (e, "bias")], EP.L1Unstructured,
                           importance_scores={(e, "weight"): ember.tensor(scores)}, amount=10)
    _same(t.weight_mask, e.weight_mask)
    _same(t.bias_mask, e.bias_mask)


def test_iterative_pruning_composes_masks_as_torch():
    t, e = _pair("conv", seed=5)
    steps = [("l1_unstructured", dict(amount=0.3)), ("ln_structured", dict(amount=1, n=2, dim=0)),
             ("l1_unstructured", dict(amount=10)), ("ln_structured", dict(amount=0.5, n=1, dim=1)),
             ("custom_from_mask", None)]
    for i, (fn, kw) in enumerate(steps):
        if kw is None:
            m = (np.arange(108).reshape(4, 3, 3, 3) % 3 != 0).astype(np.float32)
            TP.custom_from_mask(t, "weight", torch.from_numpy(m))
            EP.custom_from_mask(e, "weight", ember.tensor(m))
        else:
            getattr(TP, fn)(t, "weight", **kw)
            getattr(EP, fn)(e, "weight", **kw)
        _same(t.weight_mask, e.weight_mask, f"step {i}")
        _same_layout(t, e)
    hook = next(iter(e._forward_pre_hooks.values()))
    assert isinstance(hook, EP.PruningContainer) and len(hook) == len(steps)
    assert [type(m).__name__ for m in hook] == [type(m).__name__ for m in next(iter(t._forward_pre_hooks.values()))]
    assert len(e._forward_pre_hooks) == 1


def test_forward_and_gradients_flow_only_through_unmasked_weights():
    t, e = _pair("conv", seed=6)
    TP.l1_unstructured(t, "weight", amount=0.5)
    EP.l1_unstructured(e, "weight", amount=0.5)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)
    yt, ye = t(torch.from_numpy(x)), e(ember.tensor(x))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    (yt ** 2).sum().backward()
    (ye ** 2).sum().backward()
    np.testing.assert_allclose(e.weight_orig.grad.numpy(), t.weight_orig.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert np.all(e.weight_orig.grad.numpy()[e.weight_mask.numpy() == 0] == 0)
    # the pre-hook recomputes the pruned weight from weight_orig after an optimizer step
    opt = ember.optim.SGD(e.parameters(), lr=0.1)
    opt.step()
    np.testing.assert_array_equal(e(ember.tensor(x)).detach().numpy(),
                                  ember.nn.functional.conv2d(ember.tensor(x), e.weight_orig * e.weight_mask,
                                                             e.bias).detach().numpy())


def test_remove_makes_pruning_permanent():
    t, e = _pair(seed=7)
    TP.l1_unstructured(t, "weight", amount=0.5)
    TP.l1_unstructured(t, "weight", amount=2)
    EP.l1_unstructured(e, "weight", amount=0.5)
    EP.l1_unstructured(e, "weight", amount=2)
    orig = e.weight_orig
    assert TP.remove(t, "weight") is t and EP.remove(e, "weight") is e
    _same_layout(t, e)
    assert list(e.state_dict()) == ["bias", "weight"]
    assert e.weight is orig and isinstance(e.weight, ember.nn.Parameter)
    _same(t.weight, e.weight, "weight after remove")
    assert not EP.is_pruned(e) and not e._forward_pre_hooks
    with pytest.raises(ValueError, match="Parameter 'bias' of module .* has to be pruned before pruning can be "
                                         "removed"):
        EP.remove(e, "bias")


def test_state_dict_round_trip_into_a_pruned_model():
    t, e = _pair(seed=8)
    TP.l1_unstructured(t, "weight", amount=0.5)
    e2 = ember.nn.Linear(6, 5)
    EP.identity(e2, "weight")
    e2.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = np.ones((1, 6), np.float32)
    np.testing.assert_allclose(e2(ember.tensor(x)).detach().numpy(), t(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)


def test_random_methods_prune_the_requested_amount():
    e = ember.nn.Linear(10, 8)
    EP.random_unstructured(e, "weight", amount=0.25)
    assert int((e.weight_mask == 0).sum()) == 20
    EP.random_unstructured(e, "weight", amount=5)    # of the 60 still unpruned
    assert int((e.weight_mask == 0).sum()) == 25
    c = ember.nn.Conv2d(3, 6, 2)
    EP.random_structured(c, "weight", amount=2, dim=0)
    zero_channels = (c.weight_mask.sum(dim=(1, 2, 3)) == 0).numpy()
    assert zero_channels.sum() == 2
    assert set(np.unique(c.weight_mask.numpy())) <= {0.0, 1.0}


def test_prune_method_on_a_tensor():
    w = np.array([[0.5, -2.0, 0.1], [3.0, -0.2, 1.0]], np.float32)
    want = TP.L1Unstructured(amount=2).prune(torch.from_numpy(w))
    got = EP.L1Unstructured(amount=2).prune(ember.tensor(w))
    _same(want, got, "pruned tensor")
    want = TP.LnStructured(amount=1, n=2, dim=0).prune(torch.from_numpy(w), importance_scores=torch.from_numpy(-w))
    got = EP.LnStructured(amount=1, n=2, dim=0).prune(ember.tensor(w), importance_scores=ember.tensor(-w))
    _same(want, got, "structured")


def _raises_like_torch(ft, fe):
    with pytest.raises(Exception) as te:
        ft()
    with pytest.raises(Exception) as ee:
        fe()
    assert type(ee.value) is type(te.value), (ee.value, te.value)
    return str(te.value), str(ee.value)


@pytest.mark.parametrize("amount", [-1, 1.5, -0.1, "3", None])
def test_amount_validation_errors(amount):
    msg_t, msg_e = _raises_like_torch(lambda: TP.L1Unstructured(amount), lambda: EP.L1Unstructured(amount))
    assert msg_e == msg_t


def test_errors_leave_the_module_unpruned():
    t, e = _pair()
    cases = [
        (lambda m, P: P.l1_unstructured(m, "weight", amount=31)),                  # more than the 30 entries
        (lambda m, P: P.ln_structured(m, "bias", amount=1, n=2, dim=0)),           # structured on 1-D
        (lambda m, P: P.ln_structured(m, "weight", amount=1, n=2, dim=2)),         # dim out of range
        (lambda m, P: P.random_structured(m, "weight", amount=7, dim=0)),          # 5 channels only
        (lambda m, P: P.l1_unstructured(m, "weight", amount=1,
                                        importance_scores=(torch if P is TP else ember).ones(2, 2))),
    ]
    for f in cases:
        msg_t, msg_e = _raises_like_torch(lambda: f(t, TP), lambda: f(e, EP))
        assert msg_e.split(" of ")[0] == msg_t.split(" of ")[0]
        _same_layout(t, e)          # the parameter is restored (re-registered last, as PyTorch does)
        assert sorted(e.state_dict()) == ["bias", "weight"] and not EP.is_pruned(e)
    with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE'):
        EP.global_unstructured([(e, "weight")], pruning_method=EP.LnStructured, amount=1, n=2, dim=0)
    with pytest.raises(TypeError, match="importance_scores must be of type dict"):
        EP.global_unstructured([(e, "weight")], pruning_method=EP.L1Unstructured, importance_scores=[1], amount=1)
    with pytest.raises(TypeError, match="parameters is not an Iterable"):
        EP.global_unstructured(3, pruning_method=EP.L1Unstructured, amount=1)


def test_pruning_container_checks_its_methods():
    a = EP.L1Unstructured(amount=1)
    a._tensor_name = "weight"
    c = EP.PruningContainer(a)
    assert len(c) == 1 and c[0] is a and list(c) == [a]
    b = EP.L1Unstructured(amount=1)
    b._tensor_name = "bias"
    with pytest.raises(ValueError, match="Can only add pruning methods acting on the parameter named 'weight'"):
        c.add_pruning_method(b)
    with pytest.raises(TypeError, match="is not a BasePruningMethod subclass"):
        c.add_pruning_method(3)


def test_pruning_on_the_cuda_device_equals_the_cpu():
    # the NumPy-backed CuPy stand-in of tests/devices (or a real GPU): masks, outputs, gradients stay there
    from ember.backend import device as _dev
    from tests.devices import fake_cupy
    _dev.register_cuda_module(_dev.cuda_module(required=False) or fake_cupy.module)

    def run(dev):
        ember.manual_seed(0)
        c = ember.nn.Conv2d(3, 4, 2).to(dev)
        w = np.random.default_rng(0).integers(-2, 3, size=(4, 3, 2, 2)).astype(np.float32)
        c.weight.data = ember.tensor(w, device=dev)
        EP.l1_unstructured(c, "weight", 0.3)
        EP.ln_structured(c, "weight", 1, 2, 0)
        EP.global_unstructured([(c, "weight"), (c, "bias")], EP.L1Unstructured, amount=3)
        EP.custom_from_mask(c, "bias", ember.tensor([1, 0, 1, 1], device=dev))
        y = c(ember.ones(1, 3, 3, 3, device=dev))
        y.sum().backward()
        out = [c.weight_mask, c.bias_mask, y, c.weight_orig.grad]
        EP.remove(c, "weight")
        return out + [c.weight]
    try:
        for host, dev in zip(run("cpu"), run("cuda")):
            assert dev.device.type == "cuda"
            np.testing.assert_allclose(dev.detach().cpu().numpy(), host.detach().numpy(), rtol=1e-6, atol=1e-6)
    finally:
        if _dev.cuda_module(required=False) is fake_cupy.module:
            _dev.register_cuda_module(None)
            _dev._tried = False
