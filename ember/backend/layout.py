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
