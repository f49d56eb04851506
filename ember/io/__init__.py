"""Reading and writing ember objects: ``save``/``load`` (safetensors files with JSON metadata, never pickle).

``ember.save`` and ``ember.load`` are these functions; see ``serialization`` for the file layout.
"""
from .serialization import save, load, CheckpointError  # noqa: F401

__all__ = ["save", "load", "CheckpointError"]
