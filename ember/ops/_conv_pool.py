"""The caching allocator of convolution's large temporaries (``conv._COLS``, ``conv._SCRATCH``)."""
from __future__ import annotations

import math
import threading
import weakref

from ..backend import xp as np
from ..backend import memory as _memory
from ..backend.device import array_module as _xp


class _BufferPool:
    """Reuse large arrays of the same shape and dtype between calls: ``empty`` hands out a view of an idle
    buffer (or a new one); when that view is garbage collected the buffer is idle again.  Only for sizes that
    glibc's malloc would map afresh (and fault in page by page) on every call: with ember's allocator tuning
    (``ember.backend.memory``) blocks below 32 MiB come from the heap, whose freed memory the next allocation
    reuses, so those are plain ``np.empty`` (pooled, every distinct shape held its idle buffer through the
    step: ResNet-18's step peaked 30 MB higher, 166 against 135 MiB, and ran no faster).  Only for arrays
    whose views never outlive the handed-out view itself (numpy views point at the owning buffer, not at the
    view they were made from): the conv columns are made, multiplied and saved for backward, nothing else."""

    def __init__(self, max_idle_bytes: int) -> None:
        self.max_idle_bytes = max_idle_bytes
        self.pool_from = None       # bytes from which arrays are pooled (None: malloc's mmap threshold when tuned)
        self._idle: dict = {}
        self._idle_bytes = 0
        self._lock = threading.Lock()

    def empty(self, shape, dtype, like=None):
        if like is not None and type(like) is not np.ndarray:     # device arrays: the device's own pool
            return _xp(like).empty(shape, dtype)
        dtype = np.dtype(dtype)
        least = self.pool_from
        if least is None:
            least = _memory.MMAP_THRESHOLD if _memory.tuned else 0
        if math.prod(shape) * dtype.itemsize < least:
            return np.empty(shape, dtype)       # malloc keeps these itself (see the class doc)
        key = (tuple(shape), dtype.str)
        with self._lock:
            stack = self._idle.get(key)
            base = stack.pop() if stack else None
            if base is not None:
                self._idle_bytes -= base.nbytes
        if base is None:
            base = np.empty(shape, dtype)
        handle = base[...]
        weakref.finalize(handle, self._release, key, base)
        return handle

    def _release(self, key, base) -> None:
        with self._lock:
            if self._idle_bytes + base.nbytes <= self.max_idle_bytes:
                self._idle.setdefault(key, []).append(base)
                self._idle_bytes += base.nbytes

    def clear(self) -> None:
        """Drop every idle buffer (their memory goes back to the allocator)."""
        with self._lock:
            self._idle.clear()
            self._idle_bytes = 0
