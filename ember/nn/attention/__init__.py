"""``torch.nn.attention``: choose the kernels behind ``F.scaled_dot_product_attention``.

``SDPBackend`` names PyTorch's backends and ``sdpa_kernel(backends)`` enables only the listed ones for the
duration of a ``with`` block (the switches are ``ember.backends.cuda``'s ``*_sdp_enabled``).  ember has one
kernel, the math one; the outcome of a backend choice is PyTorch's on the CPU, where only the math and the
CPU flash kernels exist:

* a list with ``MATH`` runs every input;
* ``FLASH_ATTENTION`` without ``MATH`` runs what PyTorch's CPU flash kernel accepts (4-D query/key/value with
  equal batch sizes and heads -- or ``enable_gqa`` --, one head dim, a 2-D or 4-D mask, no dropout, last dims
  contiguous) and otherwise warns why and raises ``RuntimeError('No available kernel...')``, as PyTorch;
* neither raises PyTorch's ``No viable backend`` error.  Empty inputs always run.

    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
        out = F.scaled_dot_product_attention(q, k, v)
"""
from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable

from ._registry import (register_flash_attention_impl, activate_flash_attention_impl,  # noqa: F401
                        list_flash_attention_impls, current_flash_attention_impl, restore_flash_attention_impl)
from ._registry import _FLASH_ATTENTION_IMPLS  # noqa: F401

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS", "register_flash_attention_impl",
           "activate_flash_attention_impl", "list_flash_attention_impls", "current_flash_attention_impl",
           "restore_flash_attention_impl"]

# PyTorch warns why the fused kernels were not used when this is True (for its attention-bias subclasses)
WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.Enum):
    """The scaled-dot-product-attention backends, with PyTorch's names and numbers (``int(b)``).  Like
    PyTorch's enum, a member is not an int: ``SDPBackend.MATH == 0`` is False."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self) -> int:
        return self.value

    def __index__(self) -> int:
        return self.value

    def __hash__(self) -> int:
        return hash(self.value)


# backend switch names (ember.backends.cuda's) -> members, in PyTorch's order
_backend_names = {"cudnn": "CUDNN_ATTENTION", "flash": "FLASH_ATTENTION", "mem_efficient": "EFFICIENT_ATTENTION",
                  "math": "MATH", "overrideable": "OVERRIDEABLE"}
_OVERRIDEABLE = {"enabled": True}       # ember.backends.cuda has no switch for it; kept here
_PRIORITY = [1, 2, 0, 3, 4]             # PyTorch's default priority order (flash, efficient, math, cudnn, ...)


def _backend_from_string(name: str):
    return getattr(SDPBackend, name)


def _get_enabled(name: str) -> bool:
    if name == "overrideable":
        return _OVERRIDEABLE["enabled"]
    from ...backends import cuda
    return getattr(cuda, f"{name}_sdp_enabled")()


def _set_enabled(name: str, enabled: bool) -> None:
    if name == "overrideable":
        _OVERRIDEABLE["enabled"] = bool(enabled)
        return
    from ...backends import cuda
    getattr(cuda, f"enable_{name}_sdp")(enabled)


def _get_sdp_priority_order() -> list:
    """The backends' priority order, as ints (``torch._C._get_sdp_priority_order``)."""
    return list(_PRIORITY)


def _cur_sdpa_kernel_backends(with_priority: bool = False) -> list:
    backends = [getattr(SDPBackend, val) for name, val in _backend_names.items() if _get_enabled(name)]
    if with_priority:
        backends = sorted(backends, key=lambda b: _PRIORITY.index(int(b)))
    return backends


def _sdpa_kernel(backends: Iterable, set_priority: bool = False) -> None:
    backends = list(backends)
    for name, val in _backend_names.items():
        _set_enabled(name, getattr(SDPBackend, val) in backends)
    if set_priority:
        user = [int(b) for b in backends]
        for b in list(_PRIORITY):
            if b not in user:
                user.append(int(b))
        _PRIORITY[:] = user


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Enable only ``backends`` (an ``SDPBackend`` or a list of them) for scaled dot product attention inside
    the ``with`` block; ``set_priority=True`` also makes the list's order the backends' priority.  The
    previous switches (and priority) come back on exit.  Yields ``{}``, as PyTorch."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(f"Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(dict.fromkeys(backends))
    previous_backends = _cur_sdpa_kernel_backends(with_priority=set_priority)
    try:
        _sdpa_kernel(backends, set_priority)
        yield {}
    finally:    # as PyTorch: the previous backends, in their priority order, go first in the priority again
        _sdpa_kernel(previous_backends, set_priority)


@contextlib.contextmanager
def _sdpa_kernel_variadic(*backends):
    with sdpa_kernel(list(backends)):
        yield


def _get_flash_version() -> str:
    return "2.5.7"
