"""``ember.backends.cudnn``: the cuDNN flags scripts set.  They are kept (``cudnn.benchmark = True`` reads back
True) but ember never uses cuDNN, so ``is_available()`` is False and ``version()`` None."""
from __future__ import annotations

import contextlib as _contextlib

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None


def is_acceptable(tensor) -> bool:
    return False


@_contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Set the flags for the ``with`` block and restore them after, as ``torch.backends.cudnn.flags``."""
    import sys
    mod = sys.modules[__name__]
    old = (mod.enabled, mod.benchmark, mod.benchmark_limit, mod.deterministic, mod.allow_tf32)
    mod.enabled, mod.benchmark, mod.benchmark_limit, mod.deterministic, mod.allow_tf32 = (
        enabled, benchmark, benchmark_limit, deterministic, allow_tf32)
    try:
        yield
    finally:
        mod.enabled, mod.benchmark, mod.benchmark_limit, mod.deterministic, mod.allow_tf32 = old
