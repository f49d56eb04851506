"""Training end to end on "cuda": an MLP, LeNet-5, a small LSTM and a transformer encoder layer, a few steps
of SGD (momentum) and Adam each, must give the CPU run's losses and parameters (bit for bit on the NumPy-backed
stand-in, whose arithmetic is NumPy's; within the dtype's tolerance on a real GPU), and checkpoints must
round-trip across devices.  "cuda" is the real GPU when present, else the stand-in (``conftest``)."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.models.lenet import LeNet5
from ember.nn import functional as F
from ember.ops import _conv_blocked


def _mlp():
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 4))


class _LSTMRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True)
        self.cell = nn.GRUCell(5, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        h = None
        for t in range(out.shape[1]):           # a Python loop over a cell, as users write them
            h = self.cell(out[:, t], h)
        return self.head(h).squeeze(-1)


class _Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.layer(x, src_key_padding_mask=None).mean(1))


def _data(kind, rng):
    """(inputs, targets, loss function) as NumPy arrays for ``kind``."""
    if kind == "mlp":
        return rng.standard_normal((8, 12)).astype(np.float32), rng.integers(0, 4, 8), F.cross_entropy
    if kind == "lenet":
        return rng.standard_normal((4, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 4), F.cross_entropy
    if kind == "lstm":
        return rng.standard_normal((3, 6, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32), \
            F.mse_loss
    return rng.standard_normal((2, 5, 8)).astype(np.float32), rng.integers(0, 3, 2), F.cross_entropy


_MODELS = {"mlp": _mlp, "lenet": LeNet5, "lstm": _LSTMRegressor, "encoder": _Encoder}
_OPTIMIZERS = {"sgd": lambda ps: ember.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-4),
               "adam": lambda ps: ember.optim.Adam(ps, lr=1e-3)}


def _train(kind, opt_name, device, steps=3):
    """Losses (floats) and final parameters (host arrays) of ``steps`` training steps on ``device``."""
    ember.manual_seed(0)                 # same weights and dropout masks on both devices
    model = _MODELS[kind]().to(device)
    opt = _OPTIMIZERS[opt_name](model.parameters())
    x, y, loss_fn = _data(kind, np.random.default_rng(1))
    x, y = ember.tensor(x, device=device), ember.tensor(y, device=device)
    losses = [_eval_loss(model, loss_fn, x, y)]     # first: the loss without dropout, before training
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        assert loss.device.type == device
        losses.append(loss.item())
    for p in model.parameters():
        assert p.device.type == device and p.grad.device.type == device
    for s in opt.state.values():
        for v in s.values():
            if isinstance(v, ember.Tensor) and v.ndim:
                assert v.device.type == device
    losses.append(_eval_loss(model, loss_fn, x, y))  # last: without dropout, after training
    return losses, [p.detach().cpu().numpy() for p in model.parameters()]


def _eval_loss(model, loss_fn, x, y):
    """The loss in eval mode (no dropout: a training loss with dropout moves with its masks as much as with
    three small steps)."""
    model.eval()
    with ember.no_grad():
        value = loss_fn(model(x), y).item()
    model.train()
    return value


@pytest.fixture()
def general_conv_path(monkeypatch):
    """The CPU run on the whole-batch convolution kernels a device takes: the CPU's cache-blocked kernels
    (single-threaded BLAS) sum in another order, so their last bits differ."""
    monkeypatch.setattr(_conv_blocked, "applies", lambda *a: False)
    monkeypatch.setattr(_conv_blocked, "grid_input_grad_applies", lambda *a: False)


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
@pytest.mark.parametrize("kind", ["mlp", "lenet", "lstm", "encoder"])
def test_training_on_cuda_equals_cpu(kind, opt_name, cuda, exact, general_conv_path):
    c_losses, c_params = _train(kind, opt_name, "cpu")
    d_losses, d_params = _train(kind, opt_name, "cuda")
    assert len(c_params) == len(d_params)
    if exact:
        assert d_losses == c_losses
        for c, d in zip(c_params, d_params):
            np.testing.assert_array_equal(d, c)
    else:
        np.testing.assert_allclose(d_losses, c_losses, rtol=1e-4, atol=1e-5)
        for c, d in zip(c_params, d_params):
            np.testing.assert_allclose(d, c, rtol=1e-4, atol=1e-5)
    assert c_losses[-1] < c_losses[0]          # (it trains: the eval-mode losses before and after)


def test_every_optimizer_steps_on_cuda_as_on_cpu(cuda, exact):
    names = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta", "Rprop",
             "ASGD"]
    for name in names:
        runs = []
        for dev in ("cpu", "cuda"):
            ember.manual_seed(3)
            w = ember.randn(4, 3, device=dev).requires_grad_()
            b = ember.zeros(3, device=dev).requires_grad_()
            opt = getattr(ember.optim, name)([w, b], lr=0.01)
            x = ember.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4), device=dev)
            for _ in range(3):
                opt.zero_grad()
                loss = ((x @ w + b) ** 2).sum()
                loss.backward()
                opt.step()
            assert w.device.type == dev
            runs.append((w.detach().cpu().numpy(), b.detach().cpu().numpy()))
        (cw, cb), (dw, db) = runs
        if exact:
            np.testing.assert_array_equal(dw, cw, err_msg=name)
            np.testing.assert_array_equal(db, cb, err_msg=name)
        else:
            np.testing.assert_allclose(dw, cw, rtol=1e-5, atol=1e-6, err_msg=name)


def test_lbfgs_on_cuda(cuda, exact):
    runs = []
    for dev in ("cpu", "cuda"):
        w = ember.tensor([1.5, -0.5], device=dev).requires_grad_()
        opt = ember.optim.LBFGS([w], lr=1, max_iter=5)

        def closure():
            opt.zero_grad()
            loss = ((w - ember.tensor([0.25, 2.0], device=dev)) ** 2).sum()
            loss.backward()
            return loss
        opt.step(closure)
        runs.append(w.detach().cpu().numpy())
    (np.testing.assert_array_equal if exact else np.testing.assert_allclose)(runs[1], runs[0])


def test_checkpoint_round_trip_across_devices(cuda, tmp_path):
    ember.manual_seed(0)
    model = LeNet5().to("cuda")
    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    x = ember.randn(2, 1, 28, 28, device="cuda")
    F.cross_entropy(model(x), ember.tensor([1, 2], device="cuda")).backward()
    opt.step()
    path = tmp_path / "ckpt.safetensors"
    ember.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 1}, path)
    want = {k: v.cpu().numpy() for k, v in model.state_dict().items()}

    back = ember.load(path)                       # saved on cuda: loads back on cuda
    assert all(v.device.type == "cuda" for v in back["model"].values())
    on_cpu = ember.load(path, map_location="cpu")
    assert all(v.device.type == "cpu" for v in on_cpu["model"].values())
    for k, v in on_cpu["model"].items():
        np.testing.assert_array_equal(v.numpy(), want[k])
    mapped = ember.load(path, map_location={"cuda:0": "cpu"})
    assert all(v.device.type == "cpu" for v in mapped["model"].values())
    kept = ember.load(path, map_location=lambda t, loc: t)    # the host copy, as torch's storage idiom
    assert all(v.device.type == "cpu" for v in kept["model"].values())

    # a CPU model takes the cuda checkpoint (copied across), and a cuda model a CPU one
    cpu_model = LeNet5()
    cpu_model.load_state_dict(back["model"])
    for k, v in cpu_model.state_dict().items():
        assert v.device.type == "cpu"
        np.testing.assert_array_equal(v.numpy(), want[k])
    model2 = LeNet5().to("cuda")
    model2.load_state_dict(on_cpu["model"])
    assert all(p.device.type == "cuda" for p in model2.parameters())
    opt2 = ember.optim.Adam(model2.parameters(), lr=1e-3)
    opt2.load_state_dict(on_cpu["opt"])           # state moved to each parameter's device, as PyTorch
    for s in opt2.state.values():
        assert s["exp_avg"].device.type == "cuda" and s["exp_avg_sq"].device.type == "cuda"
    y1 = model(x)
    y2 = model2(x)
    np.testing.assert_array_equal(y2.detach().cpu().numpy(), y1.detach().cpu().numpy())

    # a CPU checkpoint loads onto cuda with map_location
    ember.save(cpu_model.state_dict(), tmp_path / "cpu.safetensors")
    moved = ember.load(tmp_path / "cpu.safetensors", map_location="cuda")
    assert all(v.device.type == "cuda" for v in moved.values())


def test_modules_made_on_cuda_with_device_argument(cuda):
    layers = [nn.Linear(3, 2, device="cuda"), nn.Conv2d(1, 2, 3, device="cuda"), nn.LayerNorm(4, device="cuda"),
              nn.BatchNorm2d(2, device="cuda"), nn.Embedding(5, 3, device="cuda"), nn.LSTM(2, 3, device="cuda"),
              nn.GRUCell(2, 3, device="cuda"), nn.MultiheadAttention(4, 2, device="cuda"),
              nn.TransformerEncoderLayer(4, 2, 8, device="cuda"), nn.PReLU(device="cuda"),
              nn.GroupNorm(1, 2, device="cuda"), nn.Bilinear(2, 2, 3, device="cuda")]
    for m in layers:
        for name, t in list(m.named_parameters()) + list(m.named_buffers()):
            assert t.device.type == "cuda", (type(m).__name__, name)
    mask = nn.Transformer.generate_square_subsequent_mask(3, device="cuda")
    assert mask.device.type == "cuda"


def test_torch_file_with_map_location(cuda, tmp_path):
    import torch
    torch.save({"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(3, requires_grad=True)}, tmp_path / "t.pt")
    plain = ember.load(tmp_path / "t.pt")
    assert all(v.device.type == "cpu" for v in plain.values())
    for loc in ("cuda", {"cpu": "cuda:0"}):
        got = ember.load(tmp_path / "t.pt", map_location=loc)
        assert all(v.device.type == "cuda" for v in got.values())
        np.testing.assert_array_equal(got["w"].cpu().numpy(), np.arange(6.0, dtype=np.float32).reshape(2, 3))
        assert got["b"].requires_grad


def test_gradient_clipping_on_cuda(cuda, exact):
    for norm_type in (2.0, 1.0, float("inf"), 0.0, 3.0):
        res = []
        for dev in ("cpu", "cuda"):
            ember.manual_seed(2)
            m = nn.Linear(3, 2).to(dev)
            m(ember.randn(4, 3, device=dev)).pow(2).sum().backward()
            total = nn.utils.clip_grad_norm_(m.parameters(), 0.1, norm_type=norm_type)
            assert total.device.type == dev
            nn.utils.clip_grad_value_(m.parameters(), 0.05)
            res.append([total.item()] + [p.grad.cpu().numpy() for p in m.parameters()])
        assert res[0][0] == res[1][0] if exact else np.isclose(res[0][0], res[1][0])
        for c, d in zip(res[0][1:], res[1][1:]):
            (np.testing.assert_array_equal if exact else np.testing.assert_allclose)(d, c)
