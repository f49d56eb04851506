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
from . import _parallel as _par

# Elements per thread below which a split does not pay.  Measured on the 2-core machine at 2 threads (a split
# section costs ~15 us: the hand-off to a section thread and back, BLAS's thread count set and restored),
# float32 multiply / exp, one thread -> split: 128K elements 28 -> 48 / 46 -> 57 us, 192K 45 -> 44 / 67 -> 62,
# 256K 107 -> 65 / 91 -> 75, 384K 159 -> 109 / 143 -> 107 (fresh result pages bound it well above 0.5x)
MIN_SPLIT = 1 << 17
SPLIT_FROM = 2 * MIN_SPLIT      # the size check callers make first (``x.size >= SPLIT_FROM``)

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


def _size(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _split(fn, shape, dtype, flat, out, n, t):
    if out is None:
        out = np.empty(shape, dtype)
    elif type(out) is not _ndarray or out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous:
        return None
    of = out.reshape(-1)

    def part(s):
        fn(of[s], *[x[s] if type(x) is _ndarray and x.ndim else x for x in flat])
    _par.run_split(part, n, t)         # (each piece in a copy of the caller's context: its errstate holds)
    return out


def par_apply(fn, shape, dtype, *operands, out=None):
    """``fn(out_piece, *operand_pieces)`` over pieces of the flat index range, at once; the result array (a
    new C-contiguous one of ``shape`` and ``dtype``, or ``out``).  None where a split does not apply."""
    n = _size(shape)
    if n < SPLIT_FROM:
        return None
    flat = _flat_operands(shape, operands)
    if flat is None:
        return None
    t = _threads(n)
    if t <= 1:
        return None
    return _split(fn, shape, dtype, flat, out, n, t)


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
    t = _threads(n)
    if t <= 1:
        return None
    # NumPy's result dtype for these operands (numbers weak, as in the whole-array call): from one element
    probe = ufunc(*[x[:1] if type(x) is _ndarray and x.ndim else x for x in flat])
    return _split(lambda o, *xs: ufunc(*xs, out=o), shape, probe.dtype, flat, out, n, t)
