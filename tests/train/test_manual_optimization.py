"""Models that learn without gradients (``automatic_optimization = False``) and EarlyStopping's
``stopping_threshold``."""
import math

import numpy as np
import pytest

import ember
from ember import nn
from ember.data import DataLoader, TensorDataset
from ember.train import EarlyStopping, Trainer


class RunningMean(nn.Module):
    """Learns the data mean by counting: no parameters, no optimizer."""

    automatic_optimization = False

    def __init__(self):
        super().__init__()
        self.register_buffer("total", ember.zeros(()))
        self.register_buffer("count", ember.zeros(()))

    def forward(self, x):
        return (self.total / self.count).expand(x.shape[0])

    def training_step(self, batch):
        x = batch[0]
        self.total += x.sum()
        self.count += x.shape[0]
        return {"loss": float(self.total / self.count), "seen": float(self.count)}

    def validation_step(self, batch):
        x, y = batch
        return {"loss": float(((self(x) - y) ** 2).mean())}


def _loader(n=12, batch_size=4):
    x = ember.arange(n, dtype=ember.float32)
    return DataLoader(TensorDataset(x, x), batch_size=batch_size)


def test_fit_without_optimizer_calls_training_step_and_logs_numbers():
    model = RunningMean()
    trainer = Trainer(model, None)
    hist = trainer.fit(_loader(), val_data=_loader(), epochs=1, verbose=0)
    assert float(model.total) == sum(range(12)) and float(model.count) == 12
    # batch losses 1.5, 3.5, 5.5 (running means after 4, 8, 12 samples), weighted by batch size
    assert hist.history["loss"] == [pytest.approx((1.5 + 3.5 + 5.5) / 3)]
    assert hist.history["seen"] == [pytest.approx((4 + 8 + 12) / 3)]
    assert hist.history["val_loss"] == [pytest.approx(np.mean((np.arange(12) - 5.5) ** 2))]
    assert trainer.global_step == 3
    assert trainer.evaluate(_loader())["loss"] == pytest.approx(np.mean((np.arange(12) - 5.5) ** 2))


def test_manual_model_needs_a_training_step_and_a_loss_value():
    class NoStep(nn.Module):
        automatic_optimization = False

        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="automatic_optimization = False but defines no training_step"):
        Trainer(NoStep(), nn.MSELoss()).fit(_loader(), verbose=0)

    class NoLoss(RunningMean):
        def training_step(self, batch):
            return {"seen": 1.0}

    with pytest.raises(ValueError, match="NoLoss.training_step returned a dict without 'loss'"):
        Trainer(NoLoss(), None).fit(_loader(), verbose=0)


def test_a_gradient_model_still_needs_an_optimizer():
    with pytest.raises(ValueError, match="Trainer.fit needs an optimizer"):
        Trainer(nn.Linear(1, 1), nn.MSELoss()).fit(_loader(), verbose=0)


@pytest.mark.parametrize("mode,values,stop_epoch", [
    ("min", [0.5, 0.3, 0.0, 0.0, 0.0], 3),
    ("max", [0.2, 0.9, 0.95, 1.0], 2),
])
def test_early_stopping_threshold_stops_at_once(mode, values, stop_epoch):
    class Scripted(RunningMean):
        def training_step(self, batch):
            return {"loss": 0.0, "score": values[min(self.epoch_seen, len(values) - 1)]}

    model = Scripted()
    model.epoch_seen = 0

    class Tick(ember.train.Callback):
        def on_epoch_end(self, epoch, logs=None):
            model.epoch_seen += 1

    threshold = 0.0 if mode == "min" else 0.9
    stop = EarlyStopping(monitor="score", mode=mode, stopping_threshold=threshold, patience=100)
    trainer = Trainer(model, None, callbacks=[Tick(), stop])
    trainer.fit(_loader(), epochs=10, verbose=0)
    assert trainer.epoch == stop_epoch
    assert "reached the stopping threshold" in trainer.stop_reason
    with pytest.raises(ValueError, match="stopping_threshold must be a number or None"):
        EarlyStopping(stopping_threshold="low")
    assert not math.isnan(trainer.history.history["score"][-1])


@pytest.mark.parametrize("interval,accumulate,want", [("epoch", 1, 0.5), ("step", 1, 0.5 ** 3),
                                                      ("step", 2, 0.5 ** 2)])
def test_scheduler_interval_steps_after_each_optimizer_step(interval, accumulate, want):
    """interval="step" steps the scheduler after every optimizer step (3 batches of 4 = 3 steps; with
    accumulate=2 the partial last window still steps: 2 steps), "epoch" once per epoch."""
    model = nn.Linear(1, 1)
    opt = ember.optim.SGD(model.parameters(), lr=1.0)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    trainer = Trainer(model, nn.MSELoss(), opt, scheduler=sched, scheduler_interval=interval,
                      accumulate=accumulate)
    x = ember.arange(12, dtype=ember.float32).reshape(12, 1)
    trainer.fit(DataLoader(TensorDataset(x, x), batch_size=4), epochs=1, verbose=0)
    assert opt.param_groups[0]["lr"] == pytest.approx(want)
    with pytest.raises(ValueError, match="scheduler_interval must be 'epoch' or 'step'"):
        Trainer(model, nn.MSELoss(), opt, scheduler=sched, scheduler_interval="batch")
