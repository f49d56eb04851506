"""``ember.utils.data``: ``ember.data`` under PyTorch's name ``torch.utils.data``.

``from ember.utils.data import DataLoader, TensorDataset`` gives the very same classes as ``ember.data``, and
the submodule paths scripts import (``torch.utils.data.sampler``, ``.dataset``, ``.dataloader``) are the
``ember.data`` modules themselves; ``.distributed`` holds ``DistributedSampler``.
"""
from __future__ import annotations

import sys as _sys

import ember.data as _data
from ember.data import *  # noqa: F401,F403
from ember.data import __all__ as _data_all
from ember.data import dataset, sampler, dataloader  # noqa: F401

from .distributed import DistributedSampler  # noqa: F401

__all__ = list(_data_all) + ["DistributedSampler"]

for _name in ("dataset", "sampler", "dataloader"):
    _sys.modules.setdefault(f"{__name__}.{_name}", getattr(_data, _name))
del _name


def __getattr__(name):
    return getattr(_data, name)
