"""Every learning-rate scheduler against ``torch.optim.lr_scheduler``: the lr (and cycled momentum) of every
parameter group over 60 epochs for each option, ReduceLROnPlateau fed the same metric sequence, state_dict
resume mid-run, and the user-facing errors."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

import ember
import ember.optim as eoptim

EPOCHS = 60


class Halver:
    """A callable object lambda: its __dict__ goes into state_dict."""

    def __init__(self):
        self.k = 0.97

    def __call__(self, epoch):
        return self.k ** epoch


CASES = {
    "LambdaLR": lambda m, o: m.lr_scheduler.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-list": lambda m, o: m.lr_scheduler.LambdaLR(o, [lambda e: 1 / (1 + e), Halver()]),
    "MultiplicativeLR": lambda m, o: m.lr_scheduler.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 0.99),
    "StepLR": lambda m, o: m.lr_scheduler.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.lr_scheduler.MultiStepLR(o, milestones=[5, 20, 20, 40], gamma=0.3),
    "ConstantLR": lambda m, o: m.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=10),
    "LinearLR-up": lambda m, o: m.lr_scheduler.LinearLR(o, start_factor=0.2, end_factor=1.0, total_iters=15),
    "LinearLR-down": lambda m, o: m.lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=30),
    "ExponentialLR": lambda m, o: m.lr_scheduler.ExponentialLR(o, gamma=0.93),
    "PolynomialLR": lambda m, o: m.lr_scheduler.PolynomialLR(o, total_iters=40, power=2.0),
    "CosineAnnealingLR": lambda m, o: m.lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=0.001),
    "CosineAnnealingLR-0": lambda m, o: m.lr_scheduler.CosineAnnealingLR(o, T_max=13),
    "WarmRestarts": lambda m, o: m.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=7),
    "WarmRestarts-mult": lambda m, o: m.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.01),
    "CyclicLR-triangular": lambda m, o: m.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5),
    "CyclicLR-triangular2": lambda m, o: m.lr_scheduler.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1,
                                                                  step_size_up=5, step_size_down=8,
                                                                  mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: m.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=6,
                                                                mode="exp_range", gamma=0.97,
                                                                base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-nomomentum": lambda m, o: m.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                                                 cycle_momentum=False),
    "CyclicLR-scale_fn": lambda m, o: m.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                                               scale_fn=lambda x: 1 / x, scale_mode="cycle"),
    "OneCycleLR-cos": lambda m, o: m.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=EPOCHS),
    "OneCycleLR-linear": lambda m, o: m.lr_scheduler.OneCycleLR(o, max_lr=[0.1, 0.2], epochs=6, steps_per_epoch=10,
                                                                 anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-three_phase": lambda m, o: m.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=EPOCHS,
                                                                      three_phase=True, div_factor=10.0,
                                                                      final_div_factor=100.0),
    "OneCycleLR-nomomentum": lambda m, o: m.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=EPOCHS,
                                                                     cycle_momentum=False),
    "SequentialLR": lambda m, o: m.lr_scheduler.SequentialLR(
        o, [m.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=10),
            m.lr_scheduler.ExponentialLR(o, gamma=0.9)], milestones=[10]),
    "SequentialLR-3": lambda m, o: m.lr_scheduler.SequentialLR(
        o, [m.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3),
            m.lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=0.001),
            m.lr_scheduler.StepLR(o, step_size=5, gamma=0.5)], milestones=[5, 25]),
    "ChainedScheduler": lambda m, o: m.lr_scheduler.ChainedScheduler(
        [m.lr_scheduler.ConstantLR(o, factor=0.1, total_iters=4), m.lr_scheduler.ExponentialLR(o, gamma=0.95)]),
}
MOMENTUM_CASES = [k for k in CASES if k.startswith(("CyclicLR", "OneCycleLR"))]


def _optimizers(kind="SGD"):
    """Two-group optimizers (different lrs) in both libraries."""
    ep = [ember.zeros(2, requires_grad=True), ember.zeros(3, requires_grad=True)]
    tp = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    if kind == "SGD":
        mk = lambda m, ps: m.SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.05}], lr=0.1,  # noqa: E731
                                 momentum=0.9)
    else:
        mk = lambda m, ps: m.Adam([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.05}], lr=0.1)  # noqa: E731
    return mk(eoptim, ep), mk(torch.optim, tp), ep, tp, mk


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _check_same(e_opt, t_opt, e_s, t_s, epoch, what):
    np.testing.assert_allclose(e_s.get_last_lr(), t_s.get_last_lr(), rtol=1e-10, atol=1e-14,
                               err_msg=f"{what}: get_last_lr at epoch {epoch}")
    np.testing.assert_allclose([g["lr"] for g in e_opt.param_groups], [g["lr"] for g in t_opt.param_groups],
                               rtol=1e-10, atol=1e-14, err_msg=f"{what}: group lr at epoch {epoch}")
    np.testing.assert_allclose(_momenta(e_opt), _momenta(t_opt), rtol=1e-10,
                               err_msg=f"{what}: momentum at epoch {epoch}")


# every scheduler on SGD (momentum); those that cycle momentum also on Adam (beta1)
PAIRS = [(n, "SGD") for n in CASES] + [(n, "Adam") for n in MOMENTUM_CASES + ["StepLR", "SequentialLR"]]


@pytest.mark.parametrize("name,kind", PAIRS, ids=[f"{n}-{k}" for n, k in PAIRS])
def test_lr_sequence_matches_torch(name, kind):
    e_opt, t_opt, ep, tp, _ = _optimizers(kind)
    e_s, t_s = CASES[name](eoptim, e_opt), CASES[name](torch.optim, t_opt)
    _check_same(e_opt, t_opt, e_s, t_s, 0, name)
    for epoch in range(1, EPOCHS + 1):
        e_opt.step()
        t_opt.step()
        e_s.step()
        t_s.step()
        _check_same(e_opt, t_opt, e_s, t_s, epoch, name)
    assert getattr(e_s, "last_epoch", None) == getattr(t_s, "last_epoch", None)


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_resume(name):
    """Save optimizer + scheduler mid-run, build fresh ones, load, continue: the same lrs as without a break."""
    e_opt, t_opt, ep, tp, mk = _optimizers("SGD")
    sched = CASES[name](eoptim, e_opt)
    ref = []
    for epoch in range(1, EPOCHS + 1):
        if epoch == 25:
            saved_opt = copy.deepcopy(e_opt.state_dict())
            saved_s = copy.deepcopy(sched.state_dict())
        e_opt.step()
        sched.step()
        ref.append(list(sched.get_last_lr()) + _momenta(e_opt))
    assert "optimizer" not in saved_s
    # a fresh optimizer and scheduler, as a resumed script builds them
    ep2 = [ember.zeros(2, requires_grad=True), ember.zeros(3, requires_grad=True)]
    opt2 = mk(eoptim, ep2)
    sched2 = CASES[name](eoptim, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_s)
    got = []
    for epoch in range(25, EPOCHS + 1):
        opt2.step()
        sched2.step()
        got.append(list(sched2.get_last_lr()) + _momenta(opt2))
    np.testing.assert_allclose(got, ref[24:], rtol=1e-12)


PLATEAU = [
    dict(),
    dict(mode="min", factor=0.5, patience=2),
    dict(mode="min", factor=0.5, patience=1, threshold=0.05, threshold_mode="abs", cooldown=2),
    dict(mode="max", factor=0.3, patience=3, threshold=0.01),
    dict(mode="max", factor=0.5, patience=0, threshold=0.1, threshold_mode="abs", min_lr=[0.01, 0.02]),
    dict(factor=0.5, patience=0, min_lr=0.004, eps=1e-3),
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=[str(i) for i in range(len(PLATEAU))])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    # a noisy metric that improves, stalls, improves again
    metrics = np.concatenate([np.linspace(1.0, 0.5, 15), 0.5 + 0.02 * rng.standard_normal(25),
                              np.linspace(0.5, 0.3, 10), 0.3 + 0.01 * rng.standard_normal(20)])
    e_opt, t_opt, _, _, mk = _optimizers("SGD")
    e_s = eoptim.lr_scheduler.ReduceLROnPlateau(e_opt, **kwargs)
    t_s = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kwargs)
    for epoch, v in enumerate(metrics):
        metric = ember.tensor(float(v), dtype=ember.float64) if epoch % 2 else float(v)   # a number or a 0-d tensor
        e_s.step(metric)
        t_s.step(float(v))
        _check_same(e_opt, t_opt, e_s, t_s, epoch, f"ReduceLROnPlateau {kwargs}")
        assert (e_s.num_bad_epochs, e_s.cooldown_counter, e_s.best) == (t_s.num_bad_epochs, t_s.cooldown_counter,
                                                                        t_s.best)
        if epoch == 30:
            saved = copy.deepcopy(e_s.state_dict())
    assert min(g["lr"] for g in e_opt.param_groups) < 0.05, "the metric sequence should trigger reductions"
    # resume from epoch 30 reproduces the rest
    e_opt2 = mk(eoptim, [ember.zeros(2, requires_grad=True), ember.zeros(3, requires_grad=True)])
    e_s2 = eoptim.lr_scheduler.ReduceLROnPlateau(e_opt2, **kwargs)
    e_s2.load_state_dict(saved)
    for g, lr in zip(e_opt2.param_groups, saved["_last_lr"]):
        g["lr"] = lr
    for v in metrics[31:]:
        e_s2.step(float(v))
    assert e_s2.get_last_lr() == e_s.get_last_lr()


def test_scheduler_state_dict_matches_torch_keys():
    e_opt, t_opt, _, _, _ = _optimizers("SGD")
    e_s = eoptim.lr_scheduler.StepLR(e_opt, step_size=3)
    t_s = torch.optim.lr_scheduler.StepLR(t_opt, step_size=3)
    for _ in range(5):
        e_opt.step()
        t_opt.step()
        e_s.step()
        t_s.step()
    es, ts = e_s.state_dict(), t_s.state_dict()
    for k in ("step_size", "gamma", "base_lrs", "last_epoch", "_step_count", "_last_lr"):
        assert es[k] == pytest.approx(ts[k]), k
    assert e_opt.param_groups[0]["initial_lr"] == 0.1


def test_scheduler_errors():
    e_opt, _, _, _, _ = _optimizers("SGD")
    with pytest.raises(TypeError, match="not an Optimizer"):
        eoptim.lr_scheduler.StepLR(object(), step_size=3)
    with pytest.raises(ValueError, match="factor"):
        eoptim.lr_scheduler.ReduceLROnPlateau(e_opt, factor=1.5)
    with pytest.raises(ValueError, match="mode"):
        eoptim.lr_scheduler.ReduceLROnPlateau(e_opt, mode="median")
    with pytest.raises(ValueError, match="T_0"):
        eoptim.lr_scheduler.CosineAnnealingWarmRestarts(e_opt, T_0=0)
    with pytest.raises(ValueError, match="total_steps"):
        eoptim.lr_scheduler.OneCycleLR(e_opt, max_lr=0.1)
    with pytest.raises(ValueError, match="milestone"):
        eoptim.lr_scheduler.SequentialLR(e_opt, [eoptim.lr_scheduler.StepLR(e_opt, 2)], milestones=[3])
    with pytest.raises(KeyError, match="initial_lr"):
        fresh = eoptim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
        eoptim.lr_scheduler.StepLR(fresh, step_size=2, last_epoch=4)
    with pytest.raises(ValueError, match="momentum"):
        eoptim.lr_scheduler.CyclicLR(eoptim.Adagrad([ember.zeros(1, requires_grad=True)]), 0.01, 0.1)
    onecycle = eoptim.lr_scheduler.OneCycleLR(e_opt, max_lr=0.1, total_steps=3)
    e_opt.step()
    for _ in range(3):
        onecycle.step()
    with pytest.raises(ValueError, match="total steps"):
        onecycle.step()


def test_closed_form_step_with_epoch():
    """The deprecated ``step(epoch)`` jumps with the closed form."""
    e_opt, _, _, _, _ = _optimizers("SGD")
    s = eoptim.lr_scheduler.ExponentialLR(e_opt, gamma=0.5)
    e_opt.step()
    s.step(3)
    assert s.get_last_lr() == pytest.approx([0.1 * 0.125, 0.05 * 0.125])
    w = eoptim.lr_scheduler.CosineAnnealingWarmRestarts(e_opt, T_0=10)
    w.step(2.5)
    assert w.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi * 2.5 / 10)) / 2)


def test_warns_when_scheduler_steps_before_optimizer():
    e_opt, _, _, _, _ = _optimizers("SGD")
    s = eoptim.lr_scheduler.StepLR(e_opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        s.step()
