"""Training made pleasant: ``Trainer`` (Keras-style ``fit``/``evaluate``/``predict``), ``History``, callbacks
and resumable training checkpoints.

    from ember.train import Trainer, EarlyStopping, ModelCheckpoint
    history = Trainer(model, loss_fn, optimizer, metrics=["accuracy"]).fit(train_loader, epochs=10)
"""
from .history import History  # noqa: F401
from .callbacks import (Callback, EarlyStopping, ModelCheckpoint, BackupAndRestore, LRSchedulerCallback,  # noqa: F401
                        CSVLogger, TerminateOnNaN, ProgressBar, LambdaCallback)
from .checkpoint import save_checkpoint, load_checkpoint  # noqa: F401
from .trainer import Trainer  # noqa: F401
from .diagnostics import (ActivationStats, UnitHealth, GradientHealth, gradient_norms, update_ratios,  # noqa: F401
                          snapshot_weights, check_gradients, GradientWarning)

__all__ = ["Trainer", "History", "Callback", "EarlyStopping", "ModelCheckpoint", "BackupAndRestore",
           "LRSchedulerCallback", "CSVLogger", "TerminateOnNaN", "ProgressBar", "LambdaCallback", "save_checkpoint",
           "load_checkpoint"]
__all__ += ["ActivationStats", "UnitHealth", "GradientHealth", "gradient_norms", "update_ratios", "snapshot_weights",
            "check_gradients", "GradientWarning"]
