"""``torch.nn.utils.stateless``: the pre-2.0 home of ``functional_call``, kept as PyTorch keeps it -- a
deprecated alias of ``ember.func.functional_call`` that warns (``FutureWarning``) with PyTorch's text."""
from __future__ import annotations

import warnings

__all__ = ["functional_call"]

_DEPRECATION = ("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed in "
                "a future version of PyTorch. Please use `torch.func.functional_call` instead which is a drop-in "
                "replacement.")


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights: bool = True,
                    strict: bool = False):
    """Run ``module(*args, **kwargs)`` with its parameters and buffers replaced by the tensors of the dict
    ``parameters_and_buffers`` (dotted names); deprecated: use ``ember.func.functional_call``."""
    warnings.warn(_DEPRECATION, FutureWarning, stacklevel=2)
    from ..parallel import DataParallel
    if isinstance(module, DataParallel):
        raise RuntimeError("The stateless API can't be used with nn.DataParallel module")
    from ...func import functional_call as _functional_call
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
