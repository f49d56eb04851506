"""``ember.nn.modules``: PyTorch's ``torch.nn.modules`` paths.  ember keeps its layers in ``ember.nn.layers``;
this package re-exports them and makes every submodule path a script imports (``torch.nn.modules.conv``,
``torch.nn.modules.module``, ``torch.nn.modules.loss``...) name the ember module that defines those classes,
so ``from torch.nn.modules.conv import Conv2d`` gives ``ember.nn.Conv2d`` itself."""
from __future__ import annotations

import importlib as _importlib
import sys as _sys

from .. import *  # noqa: F401,F403
from ..module import Module  # noqa: F401

# torch.nn.modules.<name> -> the ember module holding those classes
_ALIASES = {
    "module": "ember.nn.module",
    "linear": "ember.nn.layers.linear",
    "flatten": "ember.nn.layers.linear",
    "conv": "ember.nn.layers.conv",
    "activation": "ember.nn.layers.activation",
    "dropout": "ember.nn.layers.dropout",
    "container": "ember.nn.layers.container",
    "pooling": "ember.nn.layers.pooling",
    "pixelshuffle": "ember.nn.layers.pooling",
    "upsampling": "ember.nn.layers.pooling",
    "batchnorm": "ember.nn.layers.normalization",
    "instancenorm": "ember.nn.layers.normalization",
    "normalization": "ember.nn.layers.normalization",
    "rnn": "ember.nn.layers.recurrent",
    "sparse": "ember.nn.layers.embedding",
    "transformer": "ember.nn.layers.attention",
    "loss": "ember.nn.losses",
    "utils": "ember.nn.modules._utils",
}

for _name, _target in _ALIASES.items():
    _mod = _importlib.import_module(_target)
    _sys.modules.setdefault(f"{__name__}.{_name}", _mod)
    globals().setdefault(_name, _mod)
del _name, _target, _mod
