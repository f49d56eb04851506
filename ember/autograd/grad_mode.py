"""Grad modes: whether ops record a graph.  ``no_grad``, ``enable_grad`` and ``set_grad_enabled`` work as
context managers and as decorators, like PyTorch's."""
from __future__ import annotations

import functools


class _GradState:
    __slots__ = ("enabled", "create_graph")

    def __init__(self) -> None:
        self.enabled = True
        self.create_graph = False   # True while the engine runs a backward with create_graph=True


state = _GradState()


def is_grad_enabled() -> bool:
    """True when new ops record the graph that ``backward`` walks."""
    return state.enabled


class _GradModeContext:
    _target = True

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self._target
        return self

    def __exit__(self, *exc) -> None:
        state.enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator under which no graph is built (inference, weight updates)::

        with ember.no_grad():
            p -= lr * p.grad
    """
    _target = False


class enable_grad(_GradModeContext):
    """Re-enable graph building inside a ``no_grad`` block."""
    _target = True


class inference_mode(no_grad):
    """Alias of ``no_grad`` (ember has no separate inference tensors); ``inference_mode(False)`` leaves the
    grad mode as it is, as in PyTorch."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = bool(mode)

    def __enter__(self):
        self._prev = state.enabled
        if self._mode:
            state.enabled = False
        return self

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper


class set_grad_enabled(_GradModeContext):
    """Turn graph building on or off; takes effect at once (like PyTorch), and as a context manager it
    restores the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self._prev = state.enabled
        self._target = bool(mode)
        state.enabled = self._target

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        state.enabled = self._prev

    def __call__(self, fn):
        state.enabled = self._prev    # used as a decorator: the constructor must not have changed the mode
        mode = self._target

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper
