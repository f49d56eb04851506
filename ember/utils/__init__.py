"""ember.utils: PyTorch's ``torch.utils`` namespace.  ``ember.utils.data`` is ``ember.data`` under that name
(with ``sampler``, ``dataset``, ``dataloader`` and ``distributed`` submodules); ``checkpoint`` and ``hooks``
hold what scripts import from there."""
from __future__ import annotations


def __getattr__(name):
    # loaded on first use: `import ember.utils` should not pull in the data package
    if name in ("data", "checkpoint", "hooks", "tensorboard", "model_zoo"):
        import importlib
        return importlib.import_module(f"ember.utils.{name}")
    raise AttributeError(f"module 'ember.utils' has no attribute '{name}'")
