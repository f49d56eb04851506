"""Unit and gradient health (ember.train.diagnostics): every number checked on a network built to have a known
answer."""
import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.data import DataLoader, TensorDataset
from ember.train import (ActivationStats, GradientHealth, GradientWarning, Trainer, UnitHealth, check_gradients,
                         gradient_norms, snapshot_weights, update_ratios)


def _set(p, values):
    p.data.copy_(ember.tensor(np.asarray(values, dtype=np.float32)))


def _half_dead_mlp(width=8, dead=4):
    """Linear(3, width) + ReLU with weights of at most 0.1 where the first ``dead`` units have bias -2 (never
    active on |x| < 1) and the rest bias +2 (always active)."""
    lin = nn.Linear(3, width)
    _set(lin.weight, np.random.default_rng(0).uniform(-0.1, 0.1, (width, 3)))
    _set(lin.bias, [-2.0] * dead + [2.0] * (width - dead))
    return nn.Sequential(lin, nn.ReLU(), nn.Linear(width, 1))


def test_dead_relu_fraction_known_answer():
    model = _half_dead_mlp(8, 4)
    x = ember.rand(16, 3) * 2 - 1
    with ActivationStats(model) as st:
        model(x)
        model(ember.rand(5, 3) * 2 - 1)
        rep = st.report()
    assert list(rep) == ["1"]
    assert rep["1"]["kind"] == "relu" and rep["1"]["units"] == 8
    assert rep["1"]["dead_fraction"] == 0.5
    assert rep["1"]["samples"] == 21 * 8


def test_dead_relu_needs_every_sample_inactive():
    lin = nn.Linear(1, 4)
    _set(lin.weight, [[1.0], [1.0], [-1.0], [0.0]])
    _set(lin.bias, [0.0, -10.0, 0.0, -1.0])
    model = nn.Sequential(lin, nn.ReLU())
    st = ActivationStats(model)
    model(ember.tensor([[-1.0]]))           # only unit 2 fires (x=-1: -1*-1 = 1)
    assert st.report()["1"]["dead_fraction"] == 0.75
    model(ember.tensor([[2.0]]))            # unit 0 fires now; 1 (2-10) and 3 (-1) never did
    assert st.report()["1"]["dead_fraction"] == 0.5
    st.reset()
    model(ember.tensor([[2.0]]))
    assert st.report()["1"]["dead_fraction"] == 0.75
    st.remove()
    model(ember.tensor([[-1.0]]))
    assert st.report()["1"]["samples"] == 4        # hooks gone: nothing more counted


def test_dead_relu_per_channel_for_conv():
    conv = nn.Conv2d(1, 4, 3, padding=1)
    _set(conv.bias, [-50.0, 50.0, -50.0, -50.0])
    model = nn.Sequential(conv, nn.ReLU())
    st = ActivationStats(model)
    model(ember.rand(2, 1, 5, 5))
    r = st.report()["1"]
    assert r["units"] == 4 and r["dead_fraction"] == 0.75


def test_saturation_known_answer_and_mean_std():
    lin = nn.Linear(2, 4)
    _set(lin.weight, np.zeros((4, 2)))
    _set(lin.bias, [20.0, -20.0, 0.0, 0.5])       # two saturated units, two not
    model = nn.Sequential(lin, nn.Sigmoid(), nn.Linear(4, 4), nn.Tanh())
    _set(model[2].weight, np.zeros((4, 4)))
    _set(model[2].bias, [10.0, 0.0, 0.0, 0.0])     # one of four tanh units saturated
    st = ActivationStats(model)
    x = ember.randn(10, 2)
    model(x)
    rep = st.report()
    assert rep["1"]["kind"] == "sigmoid" and rep["1"]["saturated_fraction"] == 0.5
    assert rep["3"]["kind"] == "tanh" and rep["3"]["saturated_fraction"] == 0.25
    out = model[1](model[0](x)).detach().numpy().astype(np.float64)
    assert math.isclose(rep["1"]["mean"], out.mean(), rel_tol=1e-6)
    assert math.isclose(rep["1"]["std"], out.std(), rel_tol=1e-5, abs_tol=1e-7)


def test_eval_forwards_not_counted_and_named_modules():
    model = _half_dead_mlp()
    st = ActivationStats(model, modules=["0", "1"])
    model.eval()
    model(ember.rand(4, 3))
    assert st.report()["1"]["samples"] == 0 and math.isnan(st.report()["1"]["dead_fraction"])
    model.train()
    model(ember.rand(4, 3))
    assert st.report()["0"]["kind"] is None and st.report()["0"]["samples"] == 32
    with pytest.raises(ValueError, match="no modules named \\['nope'\\]"):
        ActivationStats(model, modules=["nope"])


def test_gradient_norms_per_layer_and_parameter():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    model(ember.randn(5, 3)).sum().backward()
    per_p = gradient_norms(model, by="parameter")
    for name, p in model.named_parameters():
        assert math.isclose(per_p[name], float(np.linalg.norm(p.grad.numpy().astype(np.float64))), rel_tol=1e-6)
    per_l = gradient_norms(model)
    assert set(per_l) == {"0", "2"}
    assert math.isclose(per_l["0"], math.hypot(per_p["0.weight"], per_p["0.bias"]), rel_tol=1e-9)


def test_update_ratio_of_an_sgd_step():
    model = nn.Linear(4, 3)
    opt = ember.optim.SGD(model.parameters(), lr=0.05)
    model(ember.randn(6, 4)).pow(2).sum().backward()
    g = {n: p.grad.numpy().astype(np.float64) for n, p in model.named_parameters()}
    before = snapshot_weights(model)
    opt.step()
    r = update_ratios(model, before, by="parameter")
    for n in g:
        expect = 0.05 * np.linalg.norm(g[n]) / np.linalg.norm(before[n].astype(np.float64))
        assert math.isclose(r[n], expect, rel_tol=1e-5)
    assert update_ratios(model, snapshot_weights(model), by="parameter") == {"weight": 0.0, "bias": 0.0}


def test_check_gradients_warns_with_the_layer_name():
    model = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))
    model(ember.randn(4, 3)).sum().backward()
    model[0].weight.grad.mul_(0.0)
    model[0].bias.grad.mul_(0.0)
    model[2].weight.grad.fill_(1e6)
    with pytest.warns(GradientWarning) as rec:
        found = check_gradients(model)
    kinds = {layer: what for layer, _, what in found}
    assert kinds == {"0": "vanishing", "2": "exploding"}
    msgs = " ".join(str(w.message) for w in rec)
    assert "layer '0'" in msgs and "layer '2'" in msgs
    model[2].weight.grad.fill_(float("nan"))
    assert ("2", "not finite") in {(layer, what) for layer, _, what in check_gradients(model, warn=False)}
    with pytest.raises(ValueError, match="vanish < explode"):
        check_gradients(model, vanish=1.0, explode=0.5)


def _loader(n=32):
    x = ember.rand(n, 3) * 2 - 1
    y = ember.randn(n, 1)
    return DataLoader(TensorDataset(x, y), batch_size=8)


def test_callbacks_in_trainer_record_per_epoch():
    model = _half_dead_mlp(8, 4)
    opt = ember.optim.SGD(model.parameters(), lr=1e-3)
    uh, gh = UnitHealth(log=True, warn_dead=None), GradientHealth(ratio_every=1)
    Trainer(model, nn.MSELoss(), opt, callbacks=[uh, gh]).fit(_loader(), epochs=2, verbose=0)
    assert sorted(uh.history) == [0, 1]
    assert uh.history[1]["1"]["dead_fraction"] == 0.5      # bias -2 stays dead at lr 1e-3
    assert set(gh.history[0]) == {"0", "2"}
    for rec in gh.history.values():
        assert rec["2"]["grad_norm"] > 0 and 0 < rec["2"]["update_ratio"] < 1
        assert rec["2"]["grad_norm_max"] >= rec["2"]["grad_norm"]
    assert len(gh.steps) == 8                               # 4 batches x 2 epochs, every step recorded
    gh5 = GradientHealth(every=2, ratio_every=5)
    Trainer(model, nn.MSELoss(), opt, callbacks=[gh5]).fit(_loader(), epochs=2, verbose=0)
    assert [s for s, _ in gh5.steps] == [0, 2, 4, 6]
    assert gh5.history[0]["0"]["update_ratio"] > 0 and math.isnan(gh5.history[1]["0"]["update_ratio"]) is False
    # hooks are gone after training: forwards are not counted, steps not recorded
    assert uh.stats is None
    model(ember.rand(2, 3)).sum().backward()
    opt.step()
    assert len(gh.steps) == 8


def test_gradient_health_warns_once_per_layer():
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    _set(model[1].weight, np.zeros((1, 3)))                 # nothing flows back into layer 0
    opt = ember.optim.SGD(model[1].parameters(), lr=0.0)    # and nothing changes
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        Trainer(model, nn.MSELoss(), opt, callbacks=[GradientHealth()]).fit(_loader(), epochs=2, verbose=0)
    msgs = [str(w.message) for w in rec if issubclass(w.category, GradientWarning)]
    assert len(msgs) == 1 and "layer '0'" in msgs[0] and "vanishing" in msgs[0]


def test_unit_health_warns_on_dead_layer():
    model = _half_dead_mlp(8, 6)
    opt = ember.optim.SGD(model.parameters(), lr=0.0)
    with pytest.warns(GradientWarning, match="layer '1' has 75% dead ReLUs"):
        Trainer(model, nn.MSELoss(), opt, callbacks=[UnitHealth()]).fit(_loader(), epochs=1, verbose=0)


def test_plots_write_files(tmp_path):
    pytest.importorskip("matplotlib")
    from ember.train.diagnostics import plot_activation_histograms, plot_gradient_flow, plot_health
    model = _half_dead_mlp(8, 4)
    uh, gh = UnitHealth(warn_dead=None), GradientHealth()
    Trainer(model, nn.MSELoss(), ember.optim.SGD(model.parameters(), lr=1e-2),
            callbacks=[uh, gh]).fit(_loader(), epochs=2, verbose=0)
    for fn, arg, name in ((plot_gradient_flow, gh, "flow.png"), (plot_activation_histograms, uh, "hist.png"),
                          (plot_health, uh, "health.svg")):
        out = fn(arg, tmp_path / name)
        assert (tmp_path / name).stat().st_size > 1000 and out == tmp_path / name
    with pytest.raises(ValueError, match="picture format"):
        plot_gradient_flow(gh, tmp_path / "flow.txt")
