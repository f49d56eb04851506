"""ember.utils: PyTorch's ``torch.utils`` namespace; ``ember.utils.data`` is ``ember.data`` under that name."""
from __future__ import annotations


def __getattr__(name):
    # loaded on first use: `import ember.utils` should not pull in the data package
    if name == "data":
        import importlib
        return importlib.import_module("ember.utils.data")
    raise AttributeError(f"module 'ember.utils' has no attribute '{name}'")
