"""``ember.jit``: TorchScript does not exist in ember.  ``script`` and ``trace`` return what they are given
(the eager module or function runs as before), the decorators (``ignore``, ``unused``, ``export``) are
identity, and ``save``/``load`` of a scripted program raise ``NotImplementedError`` (use ``ember.save``)."""
from __future__ import annotations

__all__ = ["script", "trace", "ignore", "unused", "export", "is_scripting", "is_tracing", "save", "load",
           "Final", "annotate"]

from typing import Final  # noqa: F401


def script(obj=None, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    return func


def ignore(drop=False, **kwargs):
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def annotate(the_type, the_value):
    return the_value


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False


def save(m, f, _extra_files=None) -> None:
    raise NotImplementedError("ember.jit.save: TorchScript is not implemented in ember; save the weights with "
                              "ember.save(model.state_dict(), path) or the whole model with ember.save(model, path)")


def load(f, map_location=None, _extra_files=None):
    raise NotImplementedError("ember.jit.load: TorchScript archives cannot be loaded by ember; load a "
                              "state_dict with ember.load(path) instead")
