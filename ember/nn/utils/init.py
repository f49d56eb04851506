"""``torch.nn.utils.init``: ``skip_init``."""
from __future__ import annotations

import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """Build ``module_cls(*args, **kwargs)`` with its parameters and buffers left as ``ember.empty`` leaves them.

    PyTorch builds the module on the ``meta`` device and then allocates it uninitialized; ember has no meta
    device, so the module is built on its device (its initializers do run) and every parameter and buffer is
    then overwritten as ``ember.empty`` allocates memory (zero-filled).  As in PyTorch the class must be a
    Module accepting a ``device`` argument."""
    from ..module import Module
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs.setdefault("device", "cpu")
    module = module_cls(*args, **kwargs)
    import ember
    with ember.no_grad():
        for t in list(module.parameters()) + [b for b in module.buffers() if b is not None]:
            t.zero_()
    return module
