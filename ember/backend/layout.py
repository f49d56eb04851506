"""Strides of elementwise results, as PyTorch lays them out.

NumPy and PyTorch agree on the layout of an elementwise result when every input is C-contiguous with the
canonical strides (the common case, checked first and cheaply).  Otherwise PyTorch's rule is:

- every operand has the output's shape (no broadcasting, no scalar): all contiguous -> contiguous; all dense
  (non-overlapping, no gaps) with one and the same strides -> those strides;
- else the dims are ordered from fastest to slowest by the operands' strides, the first operand that tells two
  dims apart deciding (broadcast dims tell nothing; equal strides put the smaller dim first), starting from
  the C order, and the result is dense in that order.

``torch_like`` returns the array re-laid out by that rule (a copy only when NumPy chose differently).
"""
from __future__ import annotations

import numpy as np
from . import device as _dev


def c_strides(shape) -> tuple:
    """Canonical C-contiguous strides in elements (a size-1 dim gets the product of the later sizes)."""
    out = [0] * len(shape)
    acc = 1
    for i in range(len(shape) - 1, -1, -1):
        out[i] = acc
        acc *= max(shape[i], 1)
    return tuple(out)


def elem_strides(a) -> tuple:
    it = a.itemsize
    return tuple(s // it for s in a.strides)


def canonical(a) -> bool:
    """C-contiguous with PyTorch's strides, size-1 dims included."""
    if not a.flags.c_contiguous:
        return False
    if a.ndim < 2 or 1 not in a.shape:
        return True
    return elem_strides(a) == c_strides(a.shape)


def _dense(shape, strides) -> bool:
    acc = 1
    for s, n in sorted((s, n) for s, n in zip(strides, shape) if n != 1):
        if s != acc:
            return False
        acc *= n
    return True


def torch_strides(shape, operands) -> tuple:
    """PyTorch's strides (in elements) for an elementwise result of ``shape`` from ``operands``: arrays, or
    anything else for a Python scalar (a 0-d operand)."""
    nd = len(shape)
    arr = [isinstance(o, np.ndarray) or _dev.is_device_array(o) for o in operands]
    ops = [(o.shape, elem_strides(o)) if is_a else ((), ()) for o, is_a in zip(operands, arr)]
    if ops and all(s == shape for s, _ in ops):
        if all(is_a and o.flags.c_contiguous for o, is_a in zip(operands, arr)):
            return c_strides(shape)
        st0 = ops[0][1]
        if all(st == st0 for _, st in ops) and _dense(shape, st0):
            return st0
    full = []
    for s, st in ops:
        off = nd - len(s)
        full.append([0] * off + [0 if (s[i] == 1 and shape[off + i] != 1) else st[i] for i in range(len(s))])

    def order(d0, d1):          # > 0: d1 is faster than d0 (swap), < 0: keep, 0: no operand tells
        for st in full:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return 1 if s0 > s1 else -1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = list(range(nd - 1, -1, -1))          # fastest first
    for i in range(1, nd):
        j = i
        for k in range(i - 1, -1, -1):
            c = order(perm[k], perm[j])
            if c > 0:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
            elif c < 0:
                break
    out = [0] * nd
    acc = 1
    for d in perm:
        out[d] = acc
        acc *= shape[d]
    return tuple(out)


def with_strides(a, strides):
    """A dense copy of ``a`` with the given element strides (``a`` itself when they already match)."""
    if elem_strides(a) == tuple(strides):
        return a
    xp = _dev.array_module(a)
    buf = xp.empty(a.size, a.dtype)
    out = xp.lib.stride_tricks.as_strided(buf, a.shape, tuple(s * a.itemsize for s in strides))
    xp.copyto(out, a)
    return out


def torch_like(out, operands):
    """``out`` laid out as PyTorch lays out an elementwise result of ``operands`` (arrays or scalars)."""
    if out.ndim < 2 or out.size == 0:
        return out
    return with_strides(out, torch_strides(out.shape, operands))


def preserve(out, like):
    """``out`` (shaped like ``like``) with the strides PyTorch's ``preserve_format`` copy of ``like`` has: the
    same strides when ``like`` is dense, else dense strides in ``like``'s dim order."""
    st = elem_strides(like)
    if _dense(like.shape, st):
        return with_strides(out, st)
    return with_strides(out, torch_strides(like.shape, [like]))


# A C-order copy of a NumPy array whose last axis is strided while another axis is contiguous (a transpose:
# ``x.t().contiguous()``) runs in chunks of the last axis, each one or two cache lines wide (CHUNK_BYTES; twice
# that from CHUNK_WIDE_FROM elements on the last axis, where the chunks' own cost grows).  NumPy's single copy
# walks the source across its rows, one cache line per element; a chunk reads a few rows' lines once each and
# writes whole lines.  Only where the transposed plane (the contiguous axis by the last) is at least
# CHUNK_PLANE_BYTES: smaller planes stay in the L1 cache and NumPy's copy is as fast.  Measured on the AMD EPYC
# virtual machine, one thread, float32, rotated minima in one process (NumPy / chunked, us): the transpose of
# 128x512 143 / 47, 512x512 570 / 291, 784x512 1030 / 282, 1024x1024 5476 / 2193, 4096x64 391 / 213; a batch
# of 8 128x256 transposes 348 / 149; batches of 64x32 planes (8 KiB) 109-118 / 144-149, hence the bound.
CHUNK_BYTES = 64
CHUNK_WIDE_FROM = 2048
CHUNK_PLANE_BYTES = 1 << 16


def _chunk(a) -> int:
    """How many elements of the last axis ``c_copy`` copies at a time: 0 where NumPy's own copy is as fast (not a
    large float-sized NumPy transpose)."""
    if (type(a) is not np.ndarray or a.ndim < 2 or a.flags.c_contiguous or a.itemsize not in (4, 8)
            or a.nbytes < CHUNK_PLANE_BYTES or abs(a.strides[-1]) == a.itemsize):
        return 0
    n = a.shape[-1]
    m = max((k for k, s in zip(a.shape[:-1], a.strides[:-1]) if abs(s) == a.itemsize), default=0)
    if m * n * a.itemsize < CHUNK_PLANE_BYTES:
        return 0
    return CHUNK_BYTES // a.itemsize * (2 if n >= CHUNK_WIDE_FROM else 1)


def c_copy(a):
    """A C-contiguous copy of ``a`` (``np.array(a, order="C")``'s values and dtype); transposes in chunks."""
    b = _chunk(a)
    if not b:
        return _dev.array_module(a).array(a, order="C", copy=True)
    out = np.empty(a.shape, a.dtype)
    for i in range(0, a.shape[-1], b):
        out[..., i:i + b] = a[..., i:i + b]
    return out
