"""``ember.backends.nnpack``: the switch of ember's fast convolution algorithms.

PyTorch's flag turns NNPACK (the library of Winograd and FFT convolutions that PyTorch's CPU convolutions once
took) on or off.  ember has no NNPACK, but its own Winograd convolutions (``ember/ops/_conv_winograd.py``: 3x3
and 5x5 stride-1 convolutions with 16+ channels) are the same kind of algorithm, with the same kind of rounding (a
float32 result within a few millionths of the largest output of the direct convolution's, not within its last
bits), so this flag turns them off: ``enabled = False`` and every convolution takes the direct paths, whose
sums round as PyTorch's own CPU convolution's do.  ``is_available()`` is True: ember always has them.
"""
from __future__ import annotations

import contextlib as _contextlib

__all__ = ["is_available", "flags", "set_flags"]

enabled = True


def is_available() -> bool:
    """True: ember's Winograd convolutions are part of ember (see the module doc)."""
    return True


def set_flags(_enabled):
    """Turn ember's Winograd convolutions on or off; returns the previous setting as a 1-tuple (PyTorch's)."""
    global enabled
    orig = (enabled,)
    enabled = bool(_enabled)
    return orig


@_contextlib.contextmanager
def flags(enabled=False):
    """Set the flag for the ``with`` block and restore it after, as ``torch.backends.nnpack.flags``."""
    orig = set_flags(enabled)
    try:
        yield
    finally:
        set_flags(orig[0])
