"""Loss landscapes (ember.viz.landscape): values against closed forms on a linear model, filter normalization, the
trajectory's principal directions, and weights restored bit for bit."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.viz import (interpolate_1d, plot_interpolation, plot_surface, plot_trajectory, random_directions,
                       surface_2d, trajectory_pca)


def _data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    return ember.tensor(x), ember.tensor(y)


def _model():
    ember.manual_seed(0)
    return nn.Linear(3, 1).double()


def _mse(w, b, x, y):
    return float(np.mean((x @ w.T + b - y) ** 2))


def _state(model):
    return [(p, p._data, p._data.copy()) for p in model.parameters()]


def _assert_restored(model, state):
    for p, arr, copy in state:
        assert p._data is arr and np.array_equal(arr, copy) and arr.dtype == copy.dtype


def test_interpolation_matches_closed_form_and_restores():
    model = _model()
    x, y = _data()
    start = {"weight": np.zeros((1, 3)), "bias": np.zeros(1)}
    end = {"weight": np.array([[1.0, -2.0, 0.5]]), "bias": np.array([0.3])}
    st = _state(model)
    model.train()
    alphas, losses = interpolate_1d(model, nn.MSELoss(), (x, y), start, end, steps=7)
    _assert_restored(model, st)
    assert model.training
    assert alphas[0] == -0.25 and alphas[-1] == 1.25 and len(losses) == 7
    xn, yn = x.numpy(), y.numpy()
    for a, v in zip(alphas, losses):
        w = (1 - a) * start["weight"] + a * end["weight"]
        b = (1 - a) * start["bias"] + a * end["bias"]
        assert v == pytest.approx(_mse(w, b, xn, yn), rel=1e-12)
    i1 = int(np.argmin(np.abs(alphas - 1.0)))
    assert alphas[i1] == 1.0 and losses[i1] == pytest.approx(0.0, abs=1e-20)


def test_restored_after_an_error_and_batches_are_averaged():
    model = _model()
    x, y = _data(24)
    st = _state(model)

    def bad_loss(out, target):
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        surface_2d(model, bad_loss, (x, y), steps=3)
    _assert_restored(model, st)
    whole = surface_2d(model, nn.MSELoss(), (x, y), steps=3)[2]
    parts = surface_2d(model, nn.MSELoss(), [(x[:8], y[:8]), (x[8:], y[8:])], steps=3)[2]
    np.testing.assert_allclose(parts, whole, rtol=1e-12)
    with pytest.raises(TypeError, match="an \\(inputs, targets\\) pair"):
        surface_2d(model, nn.MSELoss(), [x], steps=3)


def test_filter_normalized_directions():
    conv = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4))
    d = random_directions(conv, seed=1)
    w = conv[0].weight.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(d["0.weight"].reshape(4, -1), axis=1),
                               np.linalg.norm(w.reshape(4, -1), axis=1), rtol=1e-8)
    assert not np.any(d["0.bias"]) and not np.any(d["1.weight"])       # 1-D parameters ignored
    assert not np.array_equal(d["0.weight"], random_directions(conv, seed=2)["0.weight"])
    np.testing.assert_array_equal(d["0.weight"], random_directions(conv, seed=1)["0.weight"])
    d2 = random_directions(conv, seed=1, ignore_1d=False)
    assert np.linalg.norm(d2["0.bias"]) == pytest.approx(np.linalg.norm(conv[0].bias.detach().numpy()))


def test_surface_matches_closed_form():
    model = _model()
    x, y = _data()
    d1 = {"weight": np.array([[1.0, 0.0, 0.0]]), "bias": np.zeros(1)}
    d2 = {"weight": np.zeros((1, 3)), "bias": np.ones(1)}
    st = _state(model)
    xs, ys, z = surface_2d(model, nn.MSELoss(), (x, y), directions=(d1, d2), span=((-1, 1), (-2, 2)), steps=5)
    _assert_restored(model, st)
    w0, b0 = model.weight.detach().numpy(), model.bias.detach().numpy()
    assert z.shape == (5, 5) and ys[0] == -2 and xs[-1] == 1
    for j, b in enumerate(ys):
        for i, a in enumerate(xs):
            assert z[j, i] == pytest.approx(_mse(w0 + a * d1["weight"], b0 + b, x.numpy(), y.numpy()), rel=1e-12)
    with pytest.raises(ValueError, match="'weight' has shape"):
        surface_2d(model, nn.MSELoss(), (x, y), directions=({"weight": np.zeros(2), "bias": np.zeros(1)}, d2))


def test_trajectory_pca_of_a_straight_line():
    end = {"w": np.array([1.0, 2.0, 3.0]), "b": np.array([0.5])}
    step = {"w": np.array([0.3, -0.4, 0.0]), "b": np.array([0.0])}
    snaps = [{k: end[k] + (4 - t) * step[k] for k in end} for t in range(5)]
    snaps[2] = {"w": snaps[2]["w"] + np.array([0.0, 0.0, 0.01]), "b": snaps[2]["b"]}   # a small sideways step
    coords, dirs, explained = trajectory_pca(snaps)
    assert explained[0] > 0.999 and explained[1] > 0
    np.testing.assert_allclose(np.abs(coords[:, 0]), [2.0, 1.5, 1.0, 0.5, 0.0], atol=1e-4)   # |step| = 0.5
    v = np.concatenate([dirs[0]["w"], dirs[0]["b"]])
    assert np.linalg.norm(v) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 3 snapshots"):
        trajectory_pca(snaps[:2])


def test_plots(tmp_path):
    pytest.importorskip("matplotlib")
    model = _model()
    x, y = _data()
    snaps = []
    opt = ember.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(6):
        snaps.append({n: p.detach().numpy().copy() for n, p in model.named_parameters()})
        opt.zero_grad()
        nn.MSELoss()(model(x), y).backward()
        opt.step()
    st = _state(model)
    plot_trajectory(model, nn.MSELoss(), (x, y), snaps, tmp_path / "traj.png", steps=7)
    _assert_restored(model, st)
    xs, ys, z = surface_2d(model, nn.MSELoss(), (x, y), steps=7)
    plot_surface(xs, ys, z, tmp_path / "both.png", kind="both", log=True)
    a, l = interpolate_1d(model, nn.MSELoss(), (x, y), snaps[0], model, steps=5)
    plot_interpolation(a, l, tmp_path / "line.svg")
    for f in ("traj.png", "both.png", "line.svg"):
        assert (tmp_path / f).stat().st_size > 2000
    with pytest.raises(ValueError, match="kind must be"):
        plot_surface(xs, ys, z, kind="wire")
