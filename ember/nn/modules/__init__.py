"""``ember.nn.modules``: PyTorch's ``torch.nn.modules`` paths.  ember keeps its layers in ``ember.nn.layers``
(and ``ember.nn.module``, ``ember.nn.losses``); this package re-exports them, and each submodule path a
script imports or names (``torch.nn.modules.conv``, ``.module``, ``.loss``, ``.activation``, ``.rnn``,
``.transformer``...) is a module holding the ember classes PyTorch keeps there, so
``torch.nn.modules.conv.Conv2d`` is ``ember.nn.Conv2d`` itself.  A name PyTorch has there but the listed
ember modules do not (a private base class, say) is looked up in ``ember.nn``."""
from __future__ import annotations

import importlib as _importlib
import sys as _sys
import types as _types

from .. import *  # noqa: F401,F403
from ..module import Module  # noqa: F401

# torch.nn.modules.<name> -> the ember modules whose public and private classes it holds
_SOURCES = {
    "module": ["ember.nn.module"],
    "linear": ["ember.nn.layers.linear"],
    "flatten": ["ember.nn.layers.linear"],
    "conv": ["ember.nn.layers.conv"],
    "activation": ["ember.nn.layers.activation", "ember.nn.layers.attention"],
    "dropout": ["ember.nn.layers.dropout"],
    "container": ["ember.nn.layers.container"],
    "pooling": ["ember.nn.layers.pooling", "ember.nn.layers.fractional_pool"],
    "pixelshuffle": ["ember.nn.layers.pooling"],
    "upsampling": ["ember.nn.layers.pooling"],
    "batchnorm": ["ember.nn.layers.normalization"],
    "instancenorm": ["ember.nn.layers.normalization"],
    "normalization": ["ember.nn.layers.normalization", "ember.nn.layers.cross_map_lrn"],
    "rnn": ["ember.nn.layers.recurrent"],
    "sparse": ["ember.nn.layers.embedding"],
    "transformer": ["ember.nn.layers.attention"],
    "loss": ["ember.nn.losses"],
    "distance": ["ember.nn.losses"],
    "lazy": ["ember.nn.layers.lazy"],
    "adaptive": ["ember.nn.layers.adaptive"],
    "utils": ["ember.nn.modules._utils"],
}


def _fallback(name):
    import ember.nn
    try:
        return getattr(ember.nn, name)
    except AttributeError:
        raise AttributeError(f"module 'torch.nn.modules' (ember) has no attribute '{name}'") from None


def _make(sub: str, sources: list) -> _types.ModuleType:
    mod = _types.ModuleType(f"{__name__}.{sub}", f"PyTorch's torch.nn.modules.{sub}: classes from "
                                                 f"{', '.join(sources)}.")
    for src in sources:
        m = _importlib.import_module(src)
        for k, v in vars(m).items():
            if isinstance(v, type) or k == "__all__" or (callable(v) and k.startswith("_") and k[1:2] != "_"):
                mod.__dict__.setdefault(k, v)
    mod.__getattr__ = _fallback
    return mod


for _sub, _srcs in _SOURCES.items():
    _m = _make(_sub, _srcs)
    _sys.modules.setdefault(_m.__name__, _m)
    globals()[_sub] = _sys.modules[_m.__name__]

# MultiheadAttention's out_proj class (a Linear subclass, not in ember.nn's namespace, as in PyTorch)
from ..layers.linear import NonDynamicallyQuantizableLinear as _NDQL  # noqa: E402
linear.NonDynamicallyQuantizableLinear = _NDQL
del _sub, _srcs, _m
