"""``ember.serialization``: PyTorch's ``torch.serialization`` path.  ``save``/``load`` are ``ember.save`` and
``ember.load`` (safetensors files, never pickle); ``add_safe_globals``/``safe_globals`` allow the default
``weights_only=True`` load to rebuild a whole saved module made of the listed classes (see
``ember.io.module_io``)."""
from .io.module_io import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals  # noqa: F401
from .io.serialization import CheckpointError, load, save  # noqa: F401

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals",
           "CheckpointError"]
