"""Helpers shared by ``ember/_toplevel.py`` and ``ember/_toplevel_misc.py``."""
from __future__ import annotations

__all__: list[str] = []


def _export(fn):
    __all__.append(fn.__name__)
    return fn


def _check_tensor(op, x, name="input"):
    from .tensor import Tensor
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")


def _sig(fn, text):
    """Give a forwarding function torch's exact parameter list (for ``inspect.signature``)."""
    import inspect
    ns = {}
    exec(f"def f{text}: pass", {"inf": float("inf")}, ns)  # noqa: S102 - a literal parameter list written here
    fn.__signature__ = inspect.signature(ns["f"])
    return fn
