"""Resuming a stopped run gives, bit for bit, the weights of a run never stopped."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.optim as optim
from ember.data import DataLoader, TensorDataset
from ember.io import CheckpointError
from ember.train import Callback, ModelCheckpoint, Trainer, load_checkpoint


class _Noisy(nn.Module):
    """A small net that draws from ember's global RNG in forward (like dropout), so RNG state matters."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        h = self.fc1(x).relu()
        if self.training:
            h = h * (ember.rand(*h.shape) > 0.2).float() / 0.8
        return self.fc2(h)


def _setup(generator=False, accumulate=1, sched="step"):
    ember.manual_seed(123)
    x = ember.randn(90, 6)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    gen = ember.Generator().manual_seed(7) if generator else None
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=gen)
    model = _Noisy()
    opt = optim.Adam(model.parameters(), lr=0.01)
    if sched == "step":
        scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    else:
        scheduler = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy"], scheduler=scheduler,
                      accumulate=accumulate, grad_clip=1.0)
    return trainer, loader, (x, y)


def _weights(trainer):
    return {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), k


@pytest.mark.parametrize("generator,accumulate,sched", [(False, 1, "step"), (True, 2, "plateau")])
def test_resume_at_epoch_boundary_is_bit_exact(tmp_path, generator, accumulate, sched):
    t, loader, val = _setup(generator, accumulate, sched)
    t.fit(loader, val_data=val, epochs=4, verbose=0)
    full = _weights(t)

    t, loader, val = _setup(generator, accumulate, sched)
    t.fit(loader, val_data=val, epochs=2, verbose=0)
    t.save_checkpoint(tmp_path / "ck.st")
    ember.manual_seed(999)       # the resumed process starts from unrelated RNG states
    t2, loader2, val2 = _setup(generator, accumulate, sched)
    ember.manual_seed(4242)
    h = t2.fit(loader2, val_data=val2, epochs=4, resume_from=tmp_path / "ck.st", verbose=0)
    _same(full, _weights(t2))
    assert h.epoch == [0, 1, 2, 3] and t2.global_step > 0
    assert h.history["lr"] == t.history.history["lr"][:2] + h.history["lr"][2:]


class _InterruptAt(Callback):
    def __init__(self, epoch, batch):
        self.at = (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("accumulate,batch", [(1, 2), (2, 2)])   # batch 2 with accumulate 2: mid-window
def test_ctrl_c_mid_epoch_saves_a_checkpoint_that_resumes_bit_exact(tmp_path, accumulate, batch):
    t, loader, val = _setup(True, accumulate)
    t.fit(loader, val_data=val, epochs=3, verbose=0)
    full = _weights(t)

    t, loader, val = _setup(True, accumulate)
    t.callbacks.append(_InterruptAt(1, batch))
    path = tmp_path / "int.st"
    h = t.fit(loader, val_data=val, epochs=3, verbose=0, interrupt_checkpoint=path)   # returns cleanly
    assert t.interrupted and len(h) == 1 and "saved a resumable checkpoint" in t.stop_reason
    ck = load_checkpoint(path)
    assert ck["epoch"] == 1 and ck["batch"] == batch + 1

    t2, loader2, val2 = _setup(True, accumulate)
    ember.manual_seed(5)
    t2.fit(loader2, val_data=val2, epochs=3, resume_from=path, verbose=0)
    _same(full, _weights(t2))
    assert t2.history.history["accuracy"] == pytest.approx(t.history.history["accuracy"][:1] +
                                                           t2.history.history["accuracy"][1:])


def test_model_checkpoint_last_resumes(tmp_path):
    t, loader, val = _setup()
    t.fit(loader, val_data=val, epochs=3, verbose=0)
    full = _weights(t)
    t, loader, val = _setup()
    t.callbacks.append(ModelCheckpoint(tmp_path, monitor="val_accuracy"))
    t.fit(loader, val_data=val, epochs=2, verbose=0)
    assert (tmp_path / "best.safetensors").exists()
    t2, loader2, val2 = _setup()
    t2.callbacks.append(ModelCheckpoint(tmp_path, monitor="val_accuracy"))
    t2.fit(loader2, val_data=val2, epochs=3, resume_from=tmp_path / "last.safetensors", verbose=0)
    _same(full, _weights(t2))


def test_checkpoint_file_contents_and_errors(tmp_path):
    t, loader, val = _setup()
    t.fit(loader, epochs=1, verbose=0)
    t.save_checkpoint(tmp_path / "ck.st")
    ck = load_checkpoint(tmp_path / "ck.st")
    assert set(ck) >= {"model", "optimizer", "scheduler", "epoch", "step", "rng", "history"}
    assert ck["epoch"] == 1 and ck["step"] == 6 and ck["history"]["epoch"] == [0]
    ember.save(t.model.state_dict(), tmp_path / "sd.st")
    with pytest.raises(CheckpointError, match="not an ember training checkpoint"):
        load_checkpoint(tmp_path / "sd.st")
    (tmp_path / "bad.st").write_bytes(b"garbage!")
    with pytest.raises(CheckpointError, match="bad.st"):
        t.fit(loader, epochs=2, resume_from=tmp_path / "bad.st", verbose=0)


def test_resume_with_a_different_loader_is_refused(tmp_path):
    t, loader, _ = _setup(generator=True)
    t.fit(loader, epochs=1, verbose=0)
    t.save_checkpoint(tmp_path / "ck.st")
    t2, loader2, _ = _setup(generator=False)
    with pytest.raises(ValueError, match="DataLoader generator"):
        t2.fit(loader2, epochs=2, resume_from=tmp_path / "ck.st", verbose=0)


def test_rng_state_roundtrip():
    from ember.train.checkpoint import rng_state, set_rng_state
    s = rng_state()
    a = ember.rand(3).numpy().copy(), np.random.rand()
    set_rng_state(s)
    b = ember.rand(3).numpy().copy(), np.random.rand()
    assert a[0].tobytes() == b[0].tobytes() and a[1] == b[1]
