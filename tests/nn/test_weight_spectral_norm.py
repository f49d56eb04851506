"""weight_norm / spectral_norm (old hook API and parametrizations) and nn.utils.parametrize, against
PyTorch 2.13: state_dict keys, loading torch's state_dict, forward values, gradients, power iteration
(torch's u/v buffers copied in), a few SGD steps, eval mode, removal, errors."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn as enn
from ember.nn.utils import parametrize

torch = pytest.importorskip("torch")
tnn = torch.nn

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def _load(em, tm):
    em.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})


def _pair(kind):
    if kind == "linear":
        return tnn.Linear(4, 3).double(), enn.Linear(4, 3, dtype=ember.float64), (2, 4)
    if kind == "conv":
        return tnn.Conv2d(3, 4, 3).double(), enn.Conv2d(3, 4, 3, dtype=ember.float64), (2, 3, 5, 5)
    return (tnn.ConvTranspose1d(3, 2, 3).double(), enn.ConvTranspose1d(3, 2, 3, dtype=ember.float64),
            (2, 3, 6))


WN = {"old": (torch.nn.utils.weight_norm, ember.nn.utils.weight_norm),
      "new": (torch.nn.utils.parametrizations.weight_norm, ember.nn.utils.parametrizations.weight_norm)}
SN = {"old": (torch.nn.utils.spectral_norm, ember.nn.utils.spectral_norm),
      "new": (torch.nn.utils.parametrizations.spectral_norm, ember.nn.utils.parametrizations.spectral_norm)}


def _check_same(tm, em, shape, steps=3, lr=0.1):
    """Forward, backward and SGD steps on both; outputs, grads and the whole state_dict must agree."""
    rng = np.random.default_rng(0)
    topt = torch.optim.SGD(tm.parameters(), lr=lr)
    eopt = ember.optim.SGD(em.parameters(), lr=lr)
    for _ in range(steps):
        x = rng.standard_normal(shape)
        to, eo = tm(torch.tensor(x)), em(ember.tensor(x))
        np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-10, atol=1e-12)
        topt.zero_grad()
        eopt.zero_grad()
        (to ** 2).sum().backward()
        (eo ** 2).sum().backward()
        for (tk, tp), (ek, ep) in zip(tm.named_parameters(), em.named_parameters()):
            assert tk == ek
            np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12)
        topt.step()
        eopt.step()
    tsd, esd = tm.state_dict(), em.state_dict()
    assert list(tsd) == list(esd)
    for k in tsd:
        np.testing.assert_allclose(esd[k].numpy(), tsd[k].numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("api", ["old", "new"])
@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(api, kind, dim):
    tm, em, shape = _pair(kind)
    WN[api][0](tm, dim=dim)
    WN[api][1](em, dim=dim)
    assert list(em.state_dict()) == list(tm.state_dict())
    for k, v in tm.state_dict().items():
        assert tuple(em.state_dict()[k].shape) == tuple(v.shape), k
    _load(em, tm)
    _check_same(tm, em, shape)


def test_weight_norm_keys_and_remove():
    m = ember.nn.utils.weight_norm(enn.Linear(20, 40))
    assert list(m.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert m.weight_g.shape == (40, 1) and m.weight_v.shape == (40, 20)
    w = m(ember.randn(1, 20)) is not None and m.weight.detach().numpy().copy()
    ember.nn.utils.remove_weight_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"]
    assert isinstance(m.weight, enn.Parameter)
    np.testing.assert_allclose(m.weight.detach().numpy(), w, rtol=1e-6)
    assert not m._forward_pre_hooks
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        ember.nn.utils.remove_weight_norm(m)


def test_weight_norm_errors():
    m = ember.nn.utils.weight_norm(enn.Linear(2, 3))
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        ember.nn.utils.weight_norm(m)
    with pytest.raises(ValueError, match="no parameter 'nope'"):
        ember.nn.utils.weight_norm(enn.Linear(2, 3), name="nope")
    with pytest.raises(FutureWarning):
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            ember.nn.utils.weight_norm(enn.Linear(2, 3))


def test_new_weight_norm_loads_old_keys():
    t = tnn.Linear(4, 3)
    torch.nn.utils.weight_norm(t)
    e = ember.nn.utils.parametrizations.weight_norm(enn.Linear(4, 3))
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("api", ["old", "new"])
@pytest.mark.parametrize("kind", ["linear", "conv", "convT"])
@pytest.mark.parametrize("n_iter,eps", [(1, 1e-12), (3, 1e-4)])
def test_spectral_norm_matches_torch(api, kind, n_iter, eps):
    tm, em, shape = _pair(kind)
    SN[api][0](tm, n_power_iterations=n_iter, eps=eps)
    SN[api][1](em, n_power_iterations=n_iter, eps=eps)
    assert list(em.state_dict()) == list(tm.state_dict())
    for k, v in tm.state_dict().items():
        assert tuple(em.state_dict()[k].shape) == tuple(v.shape), k
    _load(em, tm)       # torch's u/v buffers too: the power iteration starts from the same vectors
    _check_same(tm, em, shape)


@pytest.mark.parametrize("api", ["old", "new"])
def test_spectral_norm_eval_does_not_update_u(api):
    tm, em, shape = _pair("conv")
    SN[api][0](tm)
    SN[api][1](em)
    em.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    before = {k: v.numpy().copy() for k, v in em.state_dict().items()}
    tm.eval()
    em.eval()
    x = np.random.default_rng(1).standard_normal(shape)
    to, eo = tm(torch.tensor(x)), em(ember.tensor(x))
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-10, atol=1e-12)
    for k, v in em.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    em.train()
    em(ember.tensor(x))
    key = "weight_u" if api == "old" else "parametrizations.weight.0._u"
    assert not np.array_equal(em.state_dict()[key].numpy(), before[key])


def test_spectral_norm_keys_remove_and_errors():
    m = ember.nn.utils.spectral_norm(enn.Linear(20, 40))
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert m.weight_u.shape == (40,) and m.weight_v.shape == (20,)
    np.testing.assert_allclose(np.linalg.norm(m.weight_u.numpy()), 1.0, rtol=1e-6)
    m(ember.randn(2, 20))
    ember.nn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"]
    assert isinstance(m.weight, enn.Parameter)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        ember.nn.utils.remove_spectral_norm(m)
    with pytest.raises(ValueError, match="n_power_iterations=0"):
        ember.nn.utils.spectral_norm(enn.Linear(2, 3), n_power_iterations=0)
    with pytest.raises(ValueError, match="n_power_iterations=0"):
        ember.nn.utils.parametrizations.spectral_norm(enn.Linear(2, 3), n_power_iterations=0)
    with pytest.raises(IndexError, match=r"dim.*\(3, 2\)"):
        ember.nn.utils.parametrizations.spectral_norm(enn.Linear(2, 3), dim=2)
    m2 = ember.nn.utils.spectral_norm(enn.Linear(2, 3))
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        ember.nn.utils.spectral_norm(m2)


def test_spectral_norm_bounds_sigma():
    m = ember.nn.utils.parametrizations.spectral_norm(enn.Linear(8, 6))
    for _ in range(30):
        w = m.weight
    assert abs(np.linalg.svd(w.detach().numpy(), compute_uv=False)[0] - 1.0) < 1e-3


# ---------------------------------------------------------------------------------------- parametrize core

class _Symmetric(enn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class _Split(enn.Module):
    def forward(self, a, b):
        return a + b

    def right_inverse(self, w):
        return w * 0.25, w * 0.75


def test_parametrize_register_and_remove():
    m = enn.Linear(3, 3)
    w0 = m.weight
    parametrize.register_parametrization(m, "weight", _Symmetric())
    assert type(m).__name__ == "ParametrizedLinear"
    assert parametrize.type_before_parametrizations(m) is enn.Linear
    assert isinstance(m, enn.Linear)
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, "weight")
    assert not parametrize.is_parametrized(m, "bias")
    assert m.parametrizations.weight.original is w0
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    w = m.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is enn.Linear and not hasattr(m, "parametrizations")
    assert m.weight is w0        # the same Parameter, now holding the symmetric value
    np.testing.assert_array_equal(m.weight.detach().numpy(), w)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(m, "weight")
    with pytest.raises(ValueError, match="with name 'nope'"):
        parametrize.register_parametrization(m, "nope", _Symmetric())


def test_parametrize_tuple_originals_setter_and_chain():
    m = enn.Linear(2, 2)
    w = m.weight.detach().numpy().copy()
    parametrize.register_parametrization(m, "weight", _Split())
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original0",
                                    "parametrizations.weight.original1"]
    np.testing.assert_allclose(m.parametrizations.weight.original0.detach().numpy(), 0.25 * w, rtol=1e-6)
    np.testing.assert_allclose(m.weight.detach().numpy(), w, rtol=1e-6)
    m.weight = ember.ones(2, 2)      # the setter goes through right_inverse
    np.testing.assert_allclose(m.parametrizations.weight.original1.detach().numpy(), 0.75)
    parametrize.register_parametrization(m, "weight", _Symmetric())   # chained
    assert len(m.parametrizations.weight) == 2
    with pytest.raises(ValueError, match="leave_parametrized=False"):
        parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    parametrize.remove_parametrizations(m, "weight")
    assert isinstance(m.weight, enn.Parameter) and type(m) is enn.Linear


def test_parametrize_cached_and_grad():
    calls = []

    class Count(enn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 2

    m = enn.Linear(2, 2)
    parametrize.register_parametrization(m, "weight", Count(), unsafe=True)
    calls.clear()
    with parametrize.cached():
        a, b = m.weight, m.weight
    assert a is b and len(calls) == 1
    m.weight
    assert len(calls) == 2
    m(ember.ones(1, 2)).sum().backward()
    np.testing.assert_allclose(m.parametrizations.weight.original.grad.numpy(), 2.0)


def test_parametrize_shape_check():
    class Bad(enn.Module):
        def forward(self, X):
            return X[0]

    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(enn.Linear(2, 3), "weight", Bad())


def test_parametrized_deepcopy_and_pickle_error():
    import copy
    import pickle
    m = ember.nn.utils.parametrizations.spectral_norm(enn.Linear(3, 2))
    c = copy.deepcopy(m)
    assert type(c) is type(m)
    assert c.parametrizations.weight.original is not m.parametrizations.weight.original
    m.eval()
    c.eval()
    x = ember.randn(2, 3)
    np.testing.assert_array_equal(c(x).detach().numpy(), m(x).detach().numpy())
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)


def test_transfer_parametrizations_and_params_like_torch():
    t1, t2 = tnn.Linear(3, 3).double(), tnn.Linear(3, 3).double()
    e1, e2 = enn.Linear(3, 3, dtype=ember.float64), enn.Linear(3, 3, dtype=ember.float64)
    torch.nn.utils.parametrizations.weight_norm(t1)
    ember.nn.utils.parametrizations.weight_norm(e1)
    _load(e1, t1)
    _load(e2, t2)
    torch.nn.utils.parametrize.transfer_parametrizations_and_params(t1, t2)
    parametrize.transfer_parametrizations_and_params(e1, e2)
    assert list(e2.state_dict()) == list(t2.state_dict())
    assert e2.parametrizations.weight.original1 is e1.parametrizations.weight.original1
    np.testing.assert_allclose(e2.weight.detach().numpy(), t2.weight.detach().numpy(), rtol=1e-12)
    assert parametrize.transfer_parametrizations_and_params(enn.Linear(2, 2), e2) is e2
