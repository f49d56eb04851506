"""nn utilities, like ``torch.nn.utils``: gradient clipping, parameter <-> vector conversion and explicit
regularization penalties, variable-length sequences (``rnn``: pad/pack for the recurrent layers), ``prune``
(masks on parameters) and ``stateless`` (the deprecated home of ``functional_call``).

    loss.backward()
    ember.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    opt.step()
"""
from .clip_grad import (clip_grad_norm_, clip_grad_norm, clip_grad_value_, get_total_norm,  # noqa: F401
                        clip_grads_with_norm_)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .regularization import l1_penalty, l2_penalty  # noqa: F401
from . import rnn  # noqa: F401
from .weight_norm import weight_norm, remove_weight_norm  # noqa: F401
from .spectral_norm import spectral_norm, remove_spectral_norm  # noqa: F401
from . import parametrize, parametrizations  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "parameters_to_vector",
           "vector_to_parameters", "l1_penalty", "l2_penalty", "rnn",
           "weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm", "parametrize",
           "parametrizations", "prune", "stateless", "clip_grads_with_norm_", "fuse_conv_bn_eval",
           "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights", "skip_init",
           "convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]

_LAZY = ("prune", "stateless", "fusion", "memory_format", "init")     # imported on first use (fast import)
_LAZY_NAMES = {"fuse_conv_bn_eval": "fusion", "fuse_conv_bn_weights": "fusion", "fuse_linear_bn_eval": "fusion",
               "fuse_linear_bn_weights": "fusion", "skip_init": "init",
               "convert_conv2d_weight_memory_format": "memory_format",
               "convert_conv3d_weight_memory_format": "memory_format"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY_NAMES:
        import importlib
        return getattr(importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")


def __dir__():
    # the lazily imported names are listed too (dir(), tab completion, signature comparisons)
    return sorted(set(globals()) | set(__all__))
