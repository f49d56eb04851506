"""Optimizers and learning-rate schedules with PyTorch's names (``torch.optim``): the ``Optimizer`` base,
SGD, Adagrad, Adadelta, RMSprop, the Adam family (Adam, AdamW, Adamax, NAdam, RAdam), LBFGS, Rprop, ASGD, and
``lr_scheduler`` and ``swa_utils`` (weight averaging; imported on first use).

    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    sched = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
"""
from .optimizer import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401
from .adagrad import Adagrad  # noqa: F401
from .adadelta import Adadelta  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .adam import Adam, AdamW, Adamax, NAdam, RAdam  # noqa: F401
from .lbfgs import LBFGS  # noqa: F401
from .rprop_asgd import Rprop, ASGD  # noqa: F401
from . import lr_scheduler  # noqa: F401

__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
           "LBFGS", "Rprop", "ASGD", "lr_scheduler", "swa_utils", "Adafactor", "SparseAdam"]

_LAZY_CLASSES = {"Adafactor": ".adafactor", "SparseAdam": ".sparse_adam"}   # imported on first use


def __getattr__(name):
    # ``ember.optim.swa_utils`` (``torch.optim.swa_utils``) needs ember.nn: imported when first asked for
    if name == "swa_utils":
        import importlib
        return importlib.import_module(".swa_utils", __name__)
    if name in _LAZY_CLASSES:
        import importlib
        return getattr(importlib.import_module(_LAZY_CLASSES[name], __name__), name)
    raise AttributeError(f"module 'ember.optim' has no attribute {name!r}")


def __dir__():
    # the lazily imported names are listed too (dir(), tab completion, signature comparisons)
    return sorted(set(globals()) | set(__all__))
