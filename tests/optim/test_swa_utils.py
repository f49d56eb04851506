"""ember.optim.swa_utils against torch.optim.swa_utils 2.13: the same weights and the same steps give the same
averaged parameters and buffers (every averaging function, use_buffers, float32 and float64), the same SWALR
learning rates, and update_bn the same BatchNorm statistics."""
import numpy as np
import pytest
import torch
import torch.optim.swa_utils as tswa

import ember
import ember.optim.swa_utils as eswa


def _net(m, dtype):
    return m.nn.Sequential(m.nn.Linear(3, 4), m.nn.BatchNorm1d(4), m.nn.ReLU(), m.nn.Linear(4, 2)).to(dtype)


def _pair(dtype_name="float64"):
    t = _net(torch, getattr(torch, dtype_name))
    e = _net(ember, getattr(ember, dtype_name))
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return t, e


def _train_step(m, model, opt, x, y):
    opt.zero_grad()
    m.nn.functional.mse_loss(model(x), y).backward()
    opt.step()


def _assert_state_equal(t_sd, e_sd, exact):
    assert list(t_sd) == list(e_sd)
    for k, v in t_sd.items():
        a, b = v.numpy(), e_sd[k].numpy()
        assert a.dtype == b.dtype, k
        if exact or a.dtype.kind not in "f":
            np.testing.assert_array_equal(b, a, err_msg=k)
        else:
            tol = 1e-12 if a.dtype == np.float64 else 1e-6
            np.testing.assert_allclose(b, a, rtol=tol, atol=tol, err_msg=k)


AVGS = {
    "default": lambda s: {},
    "swa_avg_fn": lambda s: {"avg_fn": s.get_swa_avg_fn()},
    "ema_avg_fn": lambda s: {"avg_fn": s.get_ema_avg_fn(0.9)},
    "swa_multi": lambda s: {"multi_avg_fn": s.get_swa_multi_avg_fn()},
    "ema_multi": lambda s: {"multi_avg_fn": s.get_ema_multi_avg_fn(0.8)},
    "custom_avg_fn": lambda s: {"avg_fn": lambda a, p, n: 0.5 * a + 0.5 * p + n * 0.0},
}


@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("avg", sorted(AVGS))
def test_averaged_model_matches_torch(avg, use_buffers, dtype_name):
    if avg == "swa_multi" and use_buffers:
        pytest.skip("torch raises on the integer buffer (tested below)")
    rng = np.random.default_rng(0)
    t, e = _pair(dtype_name)
    ta = tswa.AveragedModel(t, use_buffers=use_buffers, **AVGS[avg](tswa))
    ea = eswa.AveragedModel(e, use_buffers=use_buffers, **AVGS[avg](eswa))
    topt = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    eopt = ember.optim.SGD(e.parameters(), lr=0.1, momentum=0.9)
    for _ in range(5):
        x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
        _train_step(torch, t, topt, torch.tensor(x, dtype=getattr(torch, dtype_name)),
                    torch.tensor(y, dtype=getattr(torch, dtype_name)))
        _train_step(ember, e, eopt, ember.tensor(x, dtype=getattr(ember, dtype_name)),
                    ember.tensor(y, dtype=getattr(ember, dtype_name)))
        ta.update_parameters(t)
        ea.update_parameters(e)
    # the training steps themselves may differ in the last bit (GEMM summation order): close, not exact
    _assert_state_equal(ta.state_dict(), ea.state_dict(), exact=False)
    assert int(ea.n_averaged) == 5
    x = rng.standard_normal((4, 3))
    ta.eval()
    ea.eval()
    np.testing.assert_allclose(ea(ember.tensor(x, dtype=getattr(ember, dtype_name))).detach().numpy(),
                               ta(torch.tensor(x, dtype=getattr(torch, dtype_name))).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_exact_weights_every_averaging_function():
    """Hand-set weights, no training: every averaging path gives torch's numbers bit for bit (float32 too)."""
    for dtype_name in ("float32", "float64"):
        for avg in sorted(AVGS):
            t = torch.nn.Linear(3, 2).to(getattr(torch, dtype_name))
            e = ember.nn.Linear(3, 2).to(getattr(ember, dtype_name))
            ta = tswa.AveragedModel(t, **AVGS[avg](tswa))
            ea = eswa.AveragedModel(e, **AVGS[avg](eswa))
            for k in range(6):
                w = np.cos(np.arange(6.0).reshape(2, 3) * (k + 1)) * 0.37 + 0.1 * k
                b = np.sin(np.arange(2.0) + k)
                with torch.no_grad():
                    t.weight.copy_(torch.tensor(w))
                    t.bias.copy_(torch.tensor(b))
                with ember.no_grad():
                    e.weight.copy_(ember.tensor(w))
                    e.bias.copy_(ember.tensor(b))
                ta.update_parameters(t)
                ea.update_parameters(e)
                _assert_state_equal(ta.state_dict(), ea.state_dict(), exact=True)


def test_swa_multi_avg_fn_on_integer_buffers_raises_like_torch():
    t, e = _pair()
    ta = tswa.AveragedModel(t, multi_avg_fn=tswa.get_swa_multi_avg_fn(), use_buffers=True)
    ea = eswa.AveragedModel(e, multi_avg_fn=eswa.get_swa_multi_avg_fn(), use_buffers=True)
    ta.update_parameters(t)
    ea.update_parameters(e)
    with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
        ta.update_parameters(t)
    with pytest.raises(RuntimeError, match="get_swa_multi_avg_fn: Integer division with addcdiv"):
        ea.update_parameters(e)


def test_constructor_and_factory_errors():
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        eswa.AveragedModel(ember.nn.Linear(2, 2), avg_fn=eswa.get_swa_avg_fn(),
                           multi_avg_fn=eswa.get_swa_multi_avg_fn())
    for fn in ("get_ema_avg_fn", "get_ema_multi_avg_fn"):
        with pytest.raises(ValueError, match=f"{fn}: Invalid decay value 1.5"):
            getattr(eswa, fn)(1.5)
        with pytest.raises(ValueError):
            getattr(tswa, fn)(1.5)


def test_state_dict_keys_and_parameters_not_grad_tracked():
    t, e = _pair()
    ta, ea = tswa.AveragedModel(t), eswa.AveragedModel(e)
    assert list(ta.state_dict()) == list(ea.state_dict())
    assert ea.module is not e and ea.module[0].weight is not e[0].weight
    ea.update_parameters(e)
    assert all(p.grad is None for p in ea.parameters())
    ea2 = eswa.AveragedModel(e)
    ea2.load_state_dict(ea.state_dict())
    assert int(ea2.n_averaged) == 1


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 4])
def test_swalr_matches_torch(strategy, anneal_epochs):
    tp = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(1))]
    ep = [ember.nn.Parameter(ember.zeros(2)), ember.nn.Parameter(ember.zeros(1))]
    topt = torch.optim.SGD([{"params": tp[:1]}, {"params": tp[1:], "lr": 0.3}], lr=0.7)
    eopt = ember.optim.SGD([{"params": ep[:1]}, {"params": ep[1:], "lr": 0.3}], lr=0.7)
    ts = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.5)
    es = ember.optim.lr_scheduler.StepLR(eopt, step_size=2, gamma=0.5)
    tswa_s = tswa.SWALR(topt, swa_lr=[0.05, 0.02], anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    eswa_s = eswa.SWALR(eopt, swa_lr=[0.05, 0.02], anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    assert eswa_s.get_last_lr() == tswa_s.get_last_lr()
    for epoch in range(10):
        topt.step()
        eopt.step()
        if epoch < 3:
            ts.step()
            es.step()
        else:
            tswa_s.step()
            eswa_s.step()
        assert [g["lr"] for g in eopt.param_groups] == [g["lr"] for g in topt.param_groups]
        assert eswa_s.get_last_lr() == tswa_s.get_last_lr()


def test_swalr_scalar_lr_errors_and_state_dict():
    eopt = ember.optim.SGD([ember.nn.Parameter(ember.zeros(2))], lr=0.5)
    topt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.5)
    with pytest.raises(ValueError, match="SWALR: anneal_strategy must be one of 'cos' or 'linear'"):
        eswa.SWALR(eopt, swa_lr=0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="SWALR: anneal_epochs must be equal or greater than 0"):
        eswa.SWALR(eopt, swa_lr=0.1, anneal_epochs=-1)
    with pytest.raises(ValueError, match="swa_lr must have the same length"):
        eswa.SWALR(eopt, swa_lr=[0.1, 0.2])
    es = eswa.SWALR(eopt, swa_lr=0.1, anneal_epochs=3, anneal_strategy="linear")
    ts = tswa.SWALR(topt, swa_lr=0.1, anneal_epochs=3, anneal_strategy="linear")
    eopt.step()
    topt.step()
    es.step()
    ts.step()
    sd = es.state_dict()
    assert "anneal_func" not in sd and "optimizer" not in sd and sd["_anneal_strategy"] == "linear"
    assert set(sd) <= set(ts.state_dict()) | {"_is_initial"}
    es2 = eswa.SWALR(eopt, swa_lr=0.1)          # cos by default; the state brings linear back
    es2.load_state_dict(sd)
    assert es2.anneal_func is eswa.SWALR._linear_anneal
    es2.step()
    ts.step()
    assert es2.get_last_lr() == ts.get_last_lr()


def test_update_bn_matches_torch():
    rng = np.random.default_rng(1)
    t, e = _pair()
    t[1].momentum = e[1].momentum = 0.3
    data = [rng.standard_normal((5, 3)) for _ in range(4)]
    tl = [(torch.tensor(x), torch.zeros(5)) for x in data[:2]] + [torch.tensor(x) for x in data[2:]]
    el = [(ember.tensor(x), ember.zeros(5)) for x in data[:2]] + [ember.tensor(x) for x in data[2:]]
    t.eval()
    e.eval()
    tswa.update_bn(tl, t)
    eswa.update_bn(el, e)
    _assert_state_equal(t.state_dict(), e.state_dict(), exact=False)
    np.testing.assert_allclose(e[1].running_mean.numpy(), t[1].running_mean.numpy(), rtol=1e-12)
    assert int(e[1].num_batches_tracked) == 4
    assert not e.training and e[1].momentum == 0.3


def test_update_bn_without_batchnorm_is_a_no_op():
    class Loader:
        def __iter__(self):
            raise AssertionError("update_bn iterated the loader of a model without BatchNorm")

    m = ember.nn.Linear(2, 2).eval()
    eswa.update_bn(Loader(), m)
    assert not m.training


def test_torch_path_imports_under_compat():
    import subprocess
    import sys
    code = ("import ember.compat; ember.compat.install()\n"
            "import torch\nfrom torch.optim.swa_utils import AveragedModel, SWALR, update_bn\n"
            "import ember.optim.swa_utils as s\nassert AveragedModel is s.AveragedModel\n"
            "assert torch.optim.swa_utils is s\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("name", tswa.__all__)
def test_public_names_and_signatures_match_torch(name):
    import inspect
    te, ee = getattr(tswa, name), getattr(eswa, name)
    tsig = inspect.signature(te.__init__ if inspect.isclass(te) else te)
    esig = inspect.signature(ee.__init__ if inspect.isclass(ee) else ee)
    assert [(p.name, p.default, p.kind) for p in esig.parameters.values()] == \
           [(p.name, p.default, p.kind) for p in tsig.parameters.values()]
