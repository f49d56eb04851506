"""Dropout's keep masks, drawn in cache-sized chunks and, on several threads, in parallel, with the same
numbers as one ``rng.random(shape) >= p``.

NumPy's PCG64 spends exactly one 64-bit output on each float64 uniform, and ``advance(k)`` jumps its state k
outputs ahead in O(log k) steps.  A part that starts at flat index ``a`` therefore draws from a copy of the
generator advanced by ``a``, and afterwards the generator itself is advanced by the whole size: every element
gets the uniform it would have got from the single call, and the generator ends where that call leaves it,
whatever the thread count (so a seed gives the same training run at any ``set_num_threads``).

Drawing in chunks of ``CHUNK`` uniforms (512 KiB of float64, in L2) and comparing each at once, instead of
filling a whole float64 array first, saves its trip through memory: 524K elements 1.08 -> 0.95 ms, 2M 4.8 ->
4.5 ms at one thread (the draws themselves, ~1.7 ns each, are most of it)."""
from __future__ import annotations

from ..backend import xp as np
from . import _parallel as _par

CHUNK = 1 << 16
# Elements per thread below which a split does not pay (a section costs ~15 us; 128K draws ~230 us)
MIN_SPLIT = 1 << 17


def _fill(rng, keep, p, out, scale):
    """Draw ``keep.size`` uniforms from ``rng`` into the flat bool ``keep`` (``u >= p``) and, when ``out`` is
    given, ``out = keep * scale`` (the same flat range)."""
    n = keep.size
    buf = np.empty(min(CHUNK, n))
    for a in range(0, n, CHUNK):
        b = min(a + CHUNK, n)
        u = buf[:b - a]
        rng.random(out=u)
        np.greater_equal(u, p, out=keep[a:b])
        if out is not None:
            np.multiply(keep[a:b], scale, out=out[a:b])


def keep_mask(rng, shape, p, dtype=None, scale=None):
    """``rng.random(shape) >= p`` as a new bool array (C order), the same draws and the same generator state
    after; with ``dtype``, that mask times ``scale`` (a NumPy scalar of ``dtype``) as an array of ``dtype``
    instead, as ``np.multiply(keep, scale)`` computes it."""
    n = 1
    for s in shape:
        n *= s
    keep = np.empty(shape, bool)
    out = None if dtype is None else np.empty(shape, dtype)
    flat_k = keep.reshape(-1)
    flat_o = None if out is None else out.reshape(-1)
    bg = rng.bit_generator
    t = _par.threads_for(n, n, MIN_SPLIT) if n >= 2 * MIN_SPLIT and type(bg) is np.random.PCG64 else 1
    if t <= 1:
        _fill(rng, flat_k, p, flat_o, scale)
        return keep if out is None else out
    state = bg.state

    def part(s):
        g = np.random.PCG64()
        g.state = state
        g.advance(s.start)
        _fill(np.random.Generator(g), flat_k[s], p, None if flat_o is None else flat_o[s], scale)
    _par.run_split(part, n, t)
    bg.advance(n)
    return keep if out is None else out
