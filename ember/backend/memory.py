"""Keep freed memory for the next training step instead of handing it back to the operating system.

A NumPy training step allocates and frees the same multi-megabyte temporaries every step.  glibc's malloc
serves blocks above its mmap threshold (dynamic, from 128 KiB) with fresh ``mmap`` calls and gives the top of
the heap back to the kernel once more than its trim threshold is free, so the next step pays page faults on
first touch of every such block: measured here, batch norm forward + backward on 64x32x26x26 took 11.7-14.7 ms
and 9.7-10.7 ms with the thresholds below (an epoch of the Fashion-MNIST CNN: about 10% less time).  The
price: up to ``TRIM_THRESHOLD`` of freed memory stays with the process (its peak working set is unchanged).

``tune_allocator()`` runs once when ember is imported, on Linux with glibc only; ``EMBER_MALLOC_TUNING=0``
turns it off, and it leaves the allocator alone when the user set glibc's own ``MALLOC_*_`` variables or runs
another allocator (jemalloc, tcmalloc, preloaded).  PyTorch's CPU allocator does not do this; its performance
guide recommends preloading jemalloc or tcmalloc for the same reason.
"""
from __future__ import annotations

import os
import sys

MMAP_THRESHOLD = 32 << 20        # blocks below this come from the heap (32 MiB: glibc's largest allowed)
TRIM_THRESHOLD = 1 << 30         # give heap memory back only when more than this is free at its top
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3     # mallopt's parameter numbers (malloc.h)

tuned = False                    # whether tune_allocator changed glibc's settings in this process


def tune_allocator() -> bool:
    """Raise glibc malloc's mmap and trim thresholds (see the module docstring); returns whether it did."""
    global tuned
    if tuned:
        return True
    if os.environ.get("EMBER_MALLOC_TUNING", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if not sys.platform.startswith("linux") or any(k.startswith("MALLOC_") for k in os.environ):
        return False
    if any(lib in os.environ.get("LD_PRELOAD", "") for lib in ("jemalloc", "tcmalloc", "mimalloc")):
        return False
    try:
        import ctypes
        import platform
        if platform.libc_ver()[0] != "glibc":
            return False
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    except (OSError, AttributeError, ValueError):
        return False
    tuned = ok
    return ok
