"""Large elementwise NumPy work on several cores (through ``ember.ops._parallel``): the flat index range of
C-contiguous arrays of one shape cut into contiguous pieces that Python threads compute at once.  An
elementwise kernel computes each element on its own, so any split gives the same bits as the whole array.

Only arrays of ``MIN_SPLIT`` elements per thread and more are split (below, handing a piece to another thread
costs more than it saves); callers check ``x.size >= SPLIT_FROM`` first, one comparison, so small arrays pay
nothing.  ``par_ufunc`` runs one ufunc (``ufunc``: with the size check, else the plain call); ``par_apply`` a
kernel ``fn(out, *pieces)`` that writes its piece of the result into ``out``.  Both return None where they do
not apply (not NumPy arrays, not C-contiguous, shapes that differ, one thread): the caller then runs its
one-thread path."""
from __future__ import annotations

from ..backend import xp as np
from . import _bound, _parallel as _par

# Elements per thread below which a split does not pay.  Measured on the 2-core machine at 2 threads (a split
# section costs ~15 us: the hand-off to a section thread and back, BLAS's thread count set and restored),
# float32 multiply / exp, one thread -> split: 128K elements 28 -> 48 / 46 -> 57 us, 192K 45 -> 44 / 67 -> 62,
# 256K 107 -> 65 / 91 -> 75, 384K 159 -> 109 / 143 -> 107 (fresh result pages bound it well above 0.5x)
MIN_SPLIT = 1 << 17
SPLIT_FROM = 2 * MIN_SPLIT      # the size check callers make first (``x.size >= SPLIT_FROM``)

# ``par_apply(..., blocks=True)``: a kernel of many passes (an activation's formula, ~5-30 NumPy calls) runs
# on blocks of this many bytes of each array, one after the other (in each thread's piece at 2+ threads), its
# temporaries staying in the core's 2 MiB L2 instead of each pass streaming the whole array through memory.
# Measured, float32 GELU on 1M elements, one thread, whole / blocks of 8K, 16K, 64K elements: forward 9.8 /
# 6.1, 5.1, 4.7 ms; derivative 11.6 / -, 6.4, 5.2 ms.  Activations' forward and backward on 1M elements, 1
# thread, before / after: GELU 21.5 / 10.3 ms, ELU 7.1 / 3.7, SiLU 4.2 / 3.0, Mish 10.2 / 5.7; 2 threads,
# whole / blocked pieces: GELU 10.6 / 7.1-7.6, SiLU 2.5 / 2.1, Mish 4.1 / 3.6.
BLOCK_BYTES = 1 << 18
# Inside each thread's piece at 2+ threads, blocks of SPLIT_BLOCK_BYTES: every NumPy call of a piece gives up
# the GIL and takes it back, and where the other thread holds it then, taking it back waits for a wake-up (40-80
# us on the AMD EPYC virtual machine), so fewer, longer calls win there.  Measured on that machine (session 18,
# 1.2M float32 elements, fastest of 5, 256 KiB / 1 MiB / 4 MiB blocks), 2 threads, forward + backward: GELU
# 19.7-22.6 / 11.2-14.2 / 15.8-16.7 ms, SiLU 6.4-7.1 / 4.5-4.7 / 6.1, sigmoid 3.5-3.8 / 2.0-3.0 / 2.9, ELU
# 9.6-11.3 / 8.3-8.9 / 8.1-8.5; forward GELU 8.8-8.9 / 6.1-6.5 / 7.3.  One thread keeps BLOCK_BYTES (there 1
# MiB measured the same within noise: GELU forward + backward 18.7 / 18.8 ms).
SPLIT_BLOCK_BYTES = 1 << 20

_ndarray = np.ndarray


def _flat_operands(shape, operands):
    """The operands as flat arrays (views), numbers kept; None unless each array is a C-contiguous NumPy array
    of ``shape``."""
    flat = []
    for x in operands:
        if type(x) is _ndarray and x.ndim:
            if x.shape != shape or not x.flags.c_contiguous:
                return None
            flat.append(x.reshape(-1))
        elif isinstance(x, (int, float, bool, np.generic)) or type(x) is _ndarray:     # a number, a 0-d array
            flat.append(x)
        else:
            return None
    return flat


def _threads(n):
    return _par.threads_for(n, n, MIN_SPLIT)


# Binary ufuncs of a fraction of a nanosecond an element: where handing a piece to another thread costs more
# than on the machine MIN_SPLIT was measured on, their threshold grows by that factor (``_par.handoff_scale``),
# up to CHEAP_SCALE_MAX (that machine's elements are slower too, so the break-even moves less than the
# hand-off); the other kernels' by up to ``_par.HANDOFF_SCALE_MAX``.  Measured on an AMD EPYC virtual machine
# (hand-off 70-90 us there and back, scale ~11) at 2 threads, float32, median of 9, split / whole: add 262K
# elements 179 / 75 us, 524K 234 / 126, 1M 257 / 291, 2M 559 / 936; multiply alike.  ReLU's ``maximum``
# (forward + backward, scale 4.6, split / whole): 301K elements 1.45, 803K 1.15, 1.38M 1.09, 2.36M 0.96.
# Re-measured there (session 18, scale 8-12, no-grad ops, fastest of 25 each, split / whole): 1M elements add
# 1.21, multiply 1.71, ReLU 2.12; 1.2M add 1.40-1.84, ReLU 1.46-1.56, clamp 1.06-1.75; 1.5M add 1.23,
# multiply 0.78, ReLU 1.48; 2M add 1.05, multiply 0.74, ReLU 1.25; 2.4M add 0.96, ReLU 0.86; 4.7M add 0.74,
# ReLU 0.74: so up to 8x (pieces from 1M elements, splits from 2M), where 4x had split from 1M.
# Unchanged on the reference machine (scale 1).
_CHEAP = {np.add, np.subtract, np.multiply, np.maximum, _bound.maximum}
CHEAP_SCALE_MAX = 8


def _threads_cheap(n):
    return _par.threads_for(n, n, MIN_SPLIT, scale_max=CHEAP_SCALE_MAX)


def _size(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _pieces(fn, shape, dtype, flat, out, run):
    """``run(part)`` calls ``part(s)`` for the slices ``s`` of the flat index range; the result array."""
    if out is None:
        out = np.empty(shape, dtype)
    elif type(out) is not _ndarray or out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous:
        return None
    of = out.reshape(-1)

    def part(s):
        fn(of[s], *[x[s] if type(x) is _ndarray and x.ndim else x for x in flat])
    run(part)         # (a thread's piece runs in a copy of the caller's context: its errstate holds)
    return out


def par_apply(fn, shape, dtype, *operands, out=None, blocks=False, cheap=False):
    """``fn(out_piece, *operand_pieces)`` over pieces of the flat index range, at once; the result array (a
    new C-contiguous one of ``shape`` and ``dtype``, or ``out``).  None where a split does not apply.  With
    ``blocks`` (a kernel of many passes), each thread's piece is computed in ``SPLIT_BLOCK_BYTES`` blocks, one
    after the other (the whole range at one thread in ``BLOCK_BYTES`` blocks); ``cheap``: a kernel of one pass
    that memory bounds, split from the cheap ufuncs' sizes (``_CHEAP``)."""
    n = _size(shape)
    if n < SPLIT_FROM:
        return None
    flat = _flat_operands(shape, operands)
    if flat is None:
        return None
    t = _threads_cheap(n) if cheap else _threads(n)
    if not blocks:
        return None if t <= 1 else _pieces(fn, shape, dtype, flat, out,
                                           lambda part: _par.run_split(part, n, t))
    item = np.dtype(dtype).itemsize

    def in_blocks(part, size):
        def run(s):
            m = s.stop - s.start
            for b in _par.slices(m, -(-m * item // size)):     # even blocks (no short last one)
                part(slice(s.start + b.start, s.start + b.stop))
        return run
    if t <= 1:
        return _pieces(fn, shape, dtype, flat, out, lambda part: in_blocks(part, BLOCK_BYTES)(slice(0, n)))
    return _pieces(fn, shape, dtype, flat, out,
                   lambda part: _par.run_split(in_blocks(part, SPLIT_BLOCK_BYTES), n, t))


def ufunc(f, *operands):
    """``f(*operands)``, split among threads where that applies (the first operand an array of at least
    ``SPLIT_FROM`` elements, ...), else in one call: the same values either way."""
    a = operands[0]
    if type(a) is _ndarray and a.size >= SPLIT_FROM:
        r = par_ufunc(f, *operands)
        if r is not None:
            return r
    return f(*operands)


def par_ufunc(ufunc, *operands, out=None):
    """``ufunc(*operands)`` (one output, NumPy's result dtype) split among threads; None where it does not
    apply (the caller computes it itself)."""
    shape = None
    for x in operands:
        if type(x) is _ndarray and x.ndim:
            shape = x.shape
            break
    if shape is None:
        return None
    n = _size(shape)
    if n < SPLIT_FROM:
        return None
    flat = _flat_operands(shape, operands)
    if flat is None:
        return None
    t = _threads_cheap(n) if ufunc in _CHEAP else _threads(n)
    if t <= 1:
        return None
    # NumPy's result dtype for these operands (numbers weak, as in the whole-array call): from one element
    probe = ufunc(*[x[:1] if type(x) is _ndarray and x.ndim else x for x in flat])
    return _pieces(lambda o, *xs: ufunc(*xs, out=o), shape, probe.dtype, flat, out,
                   lambda part: _par.run_split(part, n, t))
