"""``ember.utils.data``: the alias of ``ember.data`` under PyTorch's name ``torch.utils.data``.

``import ember.utils.data as d`` and ``from ember.utils.data import DataLoader, TensorDataset`` give the very
same classes as ``ember.data``.
"""
from __future__ import annotations

from ember.data import *  # noqa: F401,F403
from ember.data import __all__  # noqa: F401
from ember.data import dataset, sampler, dataloader  # noqa: F401


def __getattr__(name):
    import ember.data
    return getattr(ember.data, name)
