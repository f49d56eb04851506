"""Dropout's keep masks: two elements per 64-bit output of the generator, drawn in cache-sized chunks and, on
several threads, in parallel, with the same numbers at any thread count.

The mask of ``n`` elements comes from the generator's next ``ceil(n / 2)`` raw 64-bit outputs (PCG64, ember's
generator): element ``2i`` keeps where the low 32 bits of output ``i``, read as a uniform ``v / 2**32``, are
at least ``p``, element ``2i + 1`` likewise with its high 32 bits; that is ``v >= ceil(p * 2**32)`` on the
integers, exact.  A 32-bit uniform per element is finer than any dropout probability needs, and each output
of the generator (~1.65 ns, most of the cost) serves two elements instead of one float64 uniform's one: a
scaled 1M-element mask 2.1 -> 1.2 ns an element at one thread, 1.2 -> 0.78 at two.  Other bit generators keep
``rng.random(shape) >= p``.

NumPy's PCG64 ``advance(k)`` jumps its state k outputs ahead in O(log k) steps.  A part that starts at
output ``a`` therefore draws from a copy of the generator advanced by ``a``, and afterwards the generator
itself is advanced by all the outputs used: every element gets the bits it would have got from one draw, and
the generator ends where one draw leaves it, whatever the thread count (so a seed gives the same training run
at any ``set_num_threads``).  Chunks of ``CHUNK`` outputs (256 KiB) are compared while in L2."""
from __future__ import annotations

import math
import sys

from ..backend import xp as np
from . import _parallel as _par

CHUNK = 1 << 15             # raw outputs per chunk (two mask elements each)
# Elements per thread below which a split does not pay (a section costs ~15 us; 128K elements ~120 us)
MIN_SPLIT = 1 << 17

_PCG = (np.random.PCG64, np.random.PCG64DXSM)
_LITTLE = sys.byteorder == "little"


def _threshold(p):
    """The 32-bit integer threshold of probability ``p``: ``v / 2**32 >= p`` iff ``v >= ceil(p * 2**32)``
    (``p * 2**32`` is exact in float64); None where no 32-bit value reaches it (nothing is kept)."""
    t = math.ceil(p * 4294967296.0)
    return None if t > 0xFFFFFFFF else np.uint32(max(t, 0))


def _fill(bg, keep, thr, out, scale):
    """Draw ``ceil(keep.size / 2)`` raw outputs from the bit generator ``bg`` into the flat bool ``keep``
    (two 32-bit halves each, low first, compared with ``thr``) and, when ``out`` is given, ``out = keep *
    scale`` (the same flat range)."""
    n = keep.size
    m = (n + 1) // 2
    for a in range(0, m, CHUNK):
        b = min(a + CHUNK, m)
        raw = bg.random_raw(b - a)
        halves = raw.view(np.uint32) if _LITTLE else \
            np.stack((raw & 0xFFFFFFFF, raw >> 32), -1).astype(np.uint32)
        lo, hi = 2 * a, min(2 * b, n)
        k = keep[lo:hi]
        if thr is None:
            k[...] = False
        else:
            np.greater_equal(halves.reshape(-1)[:hi - lo], thr, out=k)
        if out is not None:
            np.multiply(k, scale, out=out[lo:hi])


def _fill_uniform(rng, keep, p, out, scale):
    """The mask as ``rng.random(n) >= p`` (bit generators other than PCG64's), in chunks."""
    n = keep.size
    buf = np.empty(min(2 * CHUNK, n))
    for a in range(0, n, 2 * CHUNK):
        b = min(a + 2 * CHUNK, n)
        u = buf[:b - a]
        rng.random(out=u)
        np.greater_equal(u, p, out=keep[a:b])
        if out is not None:
            np.multiply(keep[a:b], scale, out=out[a:b])


def keep_mask(rng, shape, p, dtype=None, scale=None):
    """The keep mask (keep with probability ``1 - p``) as a new bool array (C order), drawn as the module's
    docstring says; with ``dtype``, that mask times ``scale`` (a NumPy scalar of ``dtype``) as an array of
    ``dtype`` instead, as ``np.multiply(keep, scale)`` computes it."""
    n = 1
    for s in shape:
        n *= s
    keep = np.empty(shape, bool)
    out = None if dtype is None else np.empty(shape, dtype)
    flat_k = keep.reshape(-1)
    flat_o = None if out is None else out.reshape(-1)
    bg = rng.bit_generator
    if type(bg) not in _PCG:
        _fill_uniform(rng, flat_k, p, flat_o, scale)
        return keep if out is None else out
    thr = _threshold(p)
    m = (n + 1) // 2
    t = _par.threads_for(n, n, MIN_SPLIT) if n >= 2 * MIN_SPLIT else 1
    if t <= 1:
        _fill(bg, flat_k, thr, flat_o, scale)
        return keep if out is None else out
    state = bg.state

    def part(s):                # s: a range of raw outputs, elements 2 * s.start up to 2 * s.stop
        g = type(bg)()
        g.state = state
        g.advance(s.start)
        e = slice(2 * s.start, min(2 * s.stop, n))
        _fill(g, flat_k[e], thr, None if flat_o is None else flat_o[e], scale)
    _par.run_split(part, m, t)
    bg.advance(m)
    return keep if out is None else out
