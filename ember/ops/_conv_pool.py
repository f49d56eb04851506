"""The caching allocator of convolution's large temporaries (``conv._COLS``, ``conv._SCRATCH``)."""
from __future__ import annotations

import threading
import weakref

from ..backend import xp as np
from ..backend.device import array_module as _xp


class _BufferPool:
    """Reuse large arrays of the same shape and dtype between calls: ``empty`` hands out a view of an idle
    buffer (or a new one); when that view is garbage collected the buffer is idle again.  Only for arrays
    whose views never outlive the handed-out view itself (numpy views point at the owning buffer, not at the
    view they were made from): the conv columns are made, multiplied and saved for backward, nothing else."""

    def __init__(self, max_idle_bytes: int) -> None:
        self.max_idle_bytes = max_idle_bytes
        self._idle: dict = {}
        self._idle_bytes = 0
        self._lock = threading.Lock()

    def empty(self, shape, dtype, like=None):
        if like is not None and type(like) is not np.ndarray:     # device arrays: the device's own pool
            return _xp(like).empty(shape, dtype)
        key = (tuple(shape), np.dtype(dtype).str)
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
