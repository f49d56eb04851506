"""Tensor memory shared between processes, for ``Tensor.share_memory_()`` (Hogwild-style training).

A shared tensor's array lives in a ``MAP_SHARED`` mapping of an anonymous in-memory file (``memfd``; on
systems without it, an unlinked file in ``/dev/shm`` or the temp folder).  Processes made by ``fork`` inherit
the mapping, so parent and children see each other's writes.  Pickled (to a ``spawn``/``forkserver`` child,
or through a ``Queue``), a shared tensor carries the file descriptor (duplicated by ``multiprocessing``'s
fd passing, as PyTorch's ``file_descriptor`` strategy does) plus offset, shape, strides and dtype; the
receiving process maps the same memory.  No file name is ever left behind.
"""
from __future__ import annotations

import mmap
import os
import tempfile

import numpy as np


class SharedMap(mmap.mmap):
    """An mmap that remembers the file descriptor it maps (kept open for pickling to other processes)."""


def _new_fd(nbytes: int) -> int:
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("ember-shared-tensor", getattr(os, "MFD_CLOEXEC", 0))
    else:   # pragma: no cover - non-Linux
        folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
        fd, path = tempfile.mkstemp(prefix="ember-shared-", dir=folder)
        os.unlink(path)
    os.ftruncate(fd, max(nbytes, 1))
    return fd


def _map(fd: int, nbytes: int) -> SharedMap:
    m = SharedMap(fd, max(nbytes, 1), mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    m.fd = fd
    m.nbytes = max(nbytes, 1)
    return m


def shared_owner(arr):
    """The ``SharedMap`` under ``arr`` (following ``.base``), or None when ``arr`` is ordinary memory."""
    a = arr
    while a is not None:
        if isinstance(a, SharedMap):
            return a
        a = getattr(a, "base", None) if not isinstance(a, memoryview) else a.obj
    return None


def share_array(arr):
    """A C-contiguous copy of ``arr`` in shared memory (``arr`` itself when it is already shared)."""
    if shared_owner(arr) is not None:
        return arr
    n = arr.nbytes
    m = _map(_new_fd(n), n)
    out = np.frombuffer(m, dtype=arr.dtype, count=arr.size).reshape(arr.shape)
    out[...] = arr
    return out


def reduce_array(arr):
    """Picklable description of a shared array: (fd wrapper, map size, byte offset, shape, strides, dtype)."""
    m = shared_owner(arr)
    from multiprocessing.reduction import DupFd
    base = np.frombuffer(m, dtype=np.uint8)
    offset = arr.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return (DupFd(m.fd), m.nbytes, offset, arr.shape, arr.strides, arr.dtype.str)


def rebuild_array(dupfd, nbytes, offset, shape, strides, dtype):
    fd = dupfd.detach()
    m = _map(fd, nbytes)
    return np.ndarray(shape, dtype=np.dtype(dtype), buffer=m, offset=offset, strides=strides)
