"""Tests for ember.train.Trainer: fit/evaluate/predict, accumulation, clipping, modes, verbosity, errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.optim as optim
from ember.data import DataLoader, TensorDataset
from ember.train import Trainer


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] - x[:, 1] > 0).astype(np.int64)
    return ember.from_numpy(x), ember.from_numpy(y)


def _model():
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))


def test_fit_learns_and_fills_history():
    x, y = _data()
    model = _model()
    t = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), 0.05), metrics=["accuracy", "f1"])
    h = t.fit(DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True), val_data=(x, y), epochs=8, verbose=0)
    assert list(h.history) == ["loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1", "lr", "time"]
    assert h.epoch == list(range(8)) and len(h) == 8
    assert h["val_accuracy"][-1] > 0.9 and h["loss"][-1] < h["loss"][0]
    assert all(v == 0.05 for v in h["lr"]) and all(v > 0 for v in h["time"])
    assert t.global_step == 8 * 8 and t.epoch == 8
    # a second fit trains more epochs, numbering on
    t.fit(DataLoader(TensorDataset(x, y), batch_size=16), epochs=2, verbose=0)
    assert h.epoch[-1] == 9 if t.history is h else t.history.epoch[-1] == 9


def test_evaluate_matches_a_manual_loop_and_restores_mode():
    x, y = _data(50)
    model = _model()
    t = Trainer(model, nn.CrossEntropyLoss(), metrics=["accuracy"])
    res = t.evaluate(DataLoader(TensorDataset(x, y), batch_size=16))
    with ember.no_grad():
        out = model(x)
        loss = nn.CrossEntropyLoss()(out, y).item()
    assert res["loss"] == pytest.approx(loss, rel=1e-5)
    assert res["accuracy"] == pytest.approx(float((out.argmax(1) == y).float().mean().item()))
    assert model.training and all(p.grad is None for p in model.parameters())
    model.eval()
    t.evaluate((x, y))
    assert not model.training       # evaluate puts back the mode it found


class _ModeSpy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.modes = []

    def forward(self, x):
        self.modes.append((self.training, ember.is_grad_enabled()))
        return self.fc(x)


def test_train_and_eval_modes_and_no_grad():
    x, y = _data(32)
    m = _ModeSpy()
    t = Trainer(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), 0.1))
    t.fit(DataLoader(TensorDataset(x, y), batch_size=16), val_data=(x, y), epochs=1, verbose=0)
    assert m.modes == [(True, True), (True, True), (False, False)]
    m.modes.clear()
    t.predict(x)
    assert m.modes == [(False, False)] and m.training


def test_predict_shapes():
    x, y = _data(70)
    model = _model()
    t = Trainer(model, nn.CrossEntropyLoss())
    a = t.predict(x, batch_size=32)
    b = t.predict(DataLoader(TensorDataset(x, y), batch_size=32))
    c = t.predict(x.numpy())
    assert tuple(a.shape) == (70, 2)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-6)
    assert not a.requires_grad


def test_gradient_accumulation_equals_bigger_batches():
    x, y = _data(64)
    weights = []
    for bs, acc in ((16, 1), (8, 2), (4, 4)):
        ember.manual_seed(3)
        model = _model()
        t = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), 0.5), accumulate=acc)
        t.fit(DataLoader(TensorDataset(x, y), batch_size=bs), epochs=2, verbose=0)
        assert t.global_step == 8
        weights.append([p.detach().numpy().copy() for p in model.parameters()])
    for other in weights[1:]:
        for a, b in zip(weights[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_partial_last_window_is_scaled_by_its_size():
    # 3 batches with accumulate=2: the last window holds one batch, so it must not be halved
    x, y = _data(48)
    ember.manual_seed(1)
    m1 = _model()
    Trainer(m1, nn.CrossEntropyLoss(), optim.SGD(m1.parameters(), 0.5), accumulate=2).fit(
        DataLoader(TensorDataset(x, y), batch_size=16), epochs=1, verbose=0)
    ember.manual_seed(1)
    m2 = _model()
    opt = optim.SGD(m2.parameters(), 0.5)
    lf = nn.CrossEntropyLoss()
    lf(m2(x[:32]), y[:32]).backward()
    opt.step()
    opt.zero_grad()
    lf(m2(x[32:]), y[32:]).backward()
    opt.step()
    for a, b in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_grad_clip_bounds_the_update():
    x, y = _data(16)
    model = _model()
    before = [p.detach().numpy().copy() for p in model.parameters()]
    t = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1.0), grad_clip=1e-3)
    t.fit(DataLoader(TensorDataset(x, y), batch_size=16), epochs=1, verbose=0)
    step = np.sqrt(sum(((p.detach().numpy() - b) ** 2).sum() for p, b in zip(model.parameters(), before)))
    assert 0 < step <= 1e-3 * 1.001


def test_verbosity(capsys):
    x, y = _data(32)
    model = _model()
    t = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), 0.1), metrics=["accuracy"])
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    t.fit(loader, epochs=1)                 # 'auto' and stdout is not a terminal: plain epoch lines
    assert capsys.readouterr().out.startswith("Epoch 1/1 - ")
    t.fit(loader, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""
    t.fit(loader, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Epoch 3/4 - ") and "loss: " in lines[0] and "accuracy" in lines[0]


def test_errors():
    x, y = _data(16)
    model = _model()
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    with pytest.raises(ValueError, match="accumulate must be a positive int"):
        Trainer(model, nn.CrossEntropyLoss(), accumulate=0)
    with pytest.raises(ValueError, match="grad_clip"):
        Trainer(model, nn.CrossEntropyLoss(), grad_clip=-1)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        Trainer(model, "mse")
    with pytest.raises(ValueError, match="unknown metric"):
        Trainer(model, nn.CrossEntropyLoss(), metrics=["acc2"])
    with pytest.raises(ValueError, match="needs an optimizer"):
        Trainer(model, nn.CrossEntropyLoss()).fit(loader, verbose=0)
    opt = optim.SGD(model.parameters(), 0.1)
    with pytest.raises(ValueError, match="scalar Tensor"):
        Trainer(model, nn.CrossEntropyLoss(reduction="none"), opt).fit(loader, verbose=0)
    with pytest.raises(TypeError, match=r"pairs"):
        Trainer(model, nn.CrossEntropyLoss(), opt).fit([x[:4]], verbose=0)
    with pytest.raises(TypeError, match=r"\(X, y\)"):
        Trainer(model, nn.CrossEntropyLoss(), opt).fit(x, verbose=0)
    with pytest.raises(ValueError, match="different lengths"):
        Trainer(model, nn.CrossEntropyLoss()).evaluate((x, y[:3]))


def test_zoo_models_and_registry():
    from ember import models
    m = models.get("mlp", in_features=64, hidden=(32, 16), out_features=10, activation="tanh", dropout=0.1)
    assert tuple(m(ember.randn(5, 1, 8, 8)).shape) == (5, 10)
    assert sum(p.numel() for p in m.parameters()) == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10
    for size, pool in ((28, "max"), (32, "avg")):
        net = models.get("lenet5", input_size=size, pool=pool)
        assert tuple(net(ember.randn(2, 1, size, size)).shape) == (2, 10)
        assert sum(p.numel() for p in net.parameters()) == 61706      # LeNet-5's classic count
    assert models.resolve("ember.models:MLP") is models.MLP
    with pytest.raises(ValueError, match="LeNet5 expected input of shape \\(N, 1, 28, 28\\), got \\(2, 1, 32, 32\\)"):
        models.LeNet5()(ember.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        models.MLP(4, activation="swish")
    with pytest.raises(ValueError, match="unknown model 'vgg'; available: .*lenet5.*mlp"):
        models.get("vgg")
    with pytest.raises(TypeError, match="bad arguments"):
        models.get("mlp", in_features=3, widht=2)
