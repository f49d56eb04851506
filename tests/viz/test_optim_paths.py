"""Optimizer paths (ember.viz.optim_paths): every ember.optim optimizer walks the same path as torch.optim on the
2-D test functions; the GIF and the learning-rate range test."""
import math

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.viz import TEST_FUNCTIONS, animate_paths, lr_range_test, optimizer_paths, plot_lr_range, plot_paths
from ember.viz.optim_paths import default_optimizers


def test_every_optimizer_is_included():
    classes = {cls.__name__ for cls, _ in default_optimizers().values()}
    expected = {n for n in ember.optim.__all__ if isinstance(getattr(ember.optim, n), type)
                and issubclass(getattr(ember.optim, n), ember.optim.Optimizer)} - {"Optimizer", "SparseAdam"}
    assert {"SGD", "Adam", "LBFGS"} <= expected
    assert classes == expected


def test_known_minima():
    for name, spec in TEST_FUNCTIONS.items():
        for m in spec["minima"]:
            assert spec["f"](*m) == pytest.approx(0.0, abs=1e-9)
    assert TEST_FUNCTIONS["saddle"]["f"](0.3, 0.3) == 0.0


@pytest.mark.parametrize("function", sorted(TEST_FUNCTIONS))
def test_paths_match_torch(function):
    steps = 12
    paths = optimizer_paths(function, steps=steps)
    spec = TEST_FUNCTIONS[function]
    for name, (cls, kw) in default_optimizers().items():
        kw = dict(kw, lr=spec["lr"].get(name, kw["lr"] * spec["lr_scale"]))
        p = torch.tensor(spec["start"], dtype=torch.float64, requires_grad=True)
        opt = getattr(torch.optim, cls.__name__)([p], **kw)

        def closure():
            opt.zero_grad()
            v = spec["f"](p[0], p[1])
            v.backward()
            return v
        ref = [p.detach().numpy().copy()]
        for _ in range(steps):
            opt.step(closure)
            q = p.detach().numpy().copy()
            if not np.isfinite(q).all() or np.abs(q).max() > 1e6:
                break
            ref.append(q)
        np.testing.assert_allclose(paths[name], np.stack(ref), rtol=1e-9, atol=1e-12, err_msg=f"{function} {name}")


def test_convergence_and_errors():
    paths = optimizer_paths("himmelblau", {"SGD momentum": (ember.optim.SGD, {"lr": 0.003, "momentum": 0.9})},
                            steps=400)
    end = paths["SGD momentum"][-1]
    assert TEST_FUNCTIONS["himmelblau"]["f"](*end) < 1e-9
    assert min(np.hypot(*(end - np.array(m))) for m in TEST_FUNCTIONS["himmelblau"]["minima"]) < 1e-4
    with pytest.raises(ValueError, match="unknown test function 'booth'"):
        optimizer_paths("booth")


def test_pictures(tmp_path):
    pytest.importorskip("matplotlib")
    PIL = pytest.importorskip("PIL.Image")
    paths = optimizer_paths("beale", steps=30)
    plot_paths("beale", paths, tmp_path / "beale.png")
    assert (tmp_path / "beale.png").stat().st_size > 5000
    animate_paths("beale", {k: paths[k] for k in ("SGD", "Adam")}, tmp_path / "beale.gif", frames=6, dpi=40)
    with PIL.open(tmp_path / "beale.gif") as im:
        assert im.format == "GIF" and im.n_frames == 6
    with pytest.raises(ValueError, match="ending in .gif"):
        animate_paths("beale", paths, tmp_path / "beale.png")


def _regression(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 1))
    return ember.tensor(x), ember.tensor(2.0 * x), float(np.mean(x ** 2))


def test_lr_range_test_finds_the_stability_limit(tmp_path):
    x, y, ex2 = _regression()
    model = nn.Linear(1, 1, bias=False).double()
    w0 = model.weight._data.copy()
    batches = [(x, y)]
    res = lr_range_test(model, nn.MSELoss(), batches, lambda ps, lr: ember.optim.SGD(ps, lr=lr),
                        start_lr=1e-4, end_lr=100.0, num_iter=80)
    limit = 2.0 / (2.0 * ex2)          # gradient descent on mean (w x - 2x)^2 diverges above 2 / L, L = 2 E[x^2]
    assert res["lrs"][-1] < 100.0 and res["lrs"][-1] > limit           # stopped once it diverged, past the limit
    assert 1e-3 < res["suggested"] < limit
    assert np.array_equal(model.weight._data, w0) and model.weight.grad is None
    assert len(res["lrs"]) == len(res["losses"]) == len(res["raw_losses"])
    pytest.importorskip("matplotlib")
    plot_lr_range(res, tmp_path / "lr.png")
    assert (tmp_path / "lr.png").stat().st_size > 3000
    with pytest.raises(ValueError, match="0 < start_lr < end_lr"):
        lr_range_test(model, nn.MSELoss(), batches, lambda ps, lr: ember.optim.SGD(ps, lr=lr), start_lr=1.0,
                      end_lr=0.1)
    assert math.isfinite(res["suggested"])
