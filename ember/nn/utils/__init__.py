"""nn utilities, like ``torch.nn.utils``: gradient clipping, parameter <-> vector conversion and explicit
regularization penalties, variable-length sequences (``rnn``: pad/pack for the recurrent layers), ``prune``
(masks on parameters) and ``stateless`` (the deprecated home of ``functional_call``).

    loss.backward()
    ember.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    opt.step()
"""
from .clip_grad import clip_grad_norm_, clip_grad_norm, clip_grad_value_, get_total_norm  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .regularization import l1_penalty, l2_penalty  # noqa: F401
from . import rnn  # noqa: F401
from .weight_norm import weight_norm, remove_weight_norm  # noqa: F401
from .spectral_norm import spectral_norm, remove_spectral_norm  # noqa: F401
from . import parametrize, parametrizations  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "parameters_to_vector",
           "vector_to_parameters", "l1_penalty", "l2_penalty", "rnn",
           "weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm", "parametrize",
           "parametrizations", "prune", "stateless"]

_LAZY = ("prune", "stateless")     # imported on first use (``import ember`` stays as fast)


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")
