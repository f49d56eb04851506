"""``np.where(cond, a, b)`` as integer arithmetic on the float bits, without a branch per element.

NumPy's ``where`` picks each element with a data-dependent branch: on a mask that follows the data (the sign of
activations, ``|x| < 1``) the CPU mispredicts about every other element.  1M float32 elements, one thread:
``np.where`` 3.9 ms on a random mask (0.5 ms on a sorted one), boolean-mask gather and scatter 4.9 ms each.
Here the bits are unsigned integers and the mask's bytes 0 or 1: ``b + (a - b) * cond`` (wrapping around) is
``a``'s bits where ``cond`` holds and ``b``'s elsewhere, exactly, so the result is ``np.where``'s bit for bit
(NaN payloads and signed zeros included).  Where one side is +0.0 (``where(mask, grad, 0)``, as in clamp's
backward), the other side's bits times the mask are the result: one multiply, as ReLU's raw backward
(``_raw_backward._relu``) does.  Measured (float32, half-true random mask, one thread, rotated minima), 1.2M
elements: ``np.where`` 5267 us, the general case 1022 (an AND/OR of the bits with a widened all-ones mask, the
form before: 1925), against +0.0 457 (717); 65K: 271 / 57 (85) / 27 (51).  Every ``where`` of ember's
(``torch.where`` and the backward passes built on it) goes through here."""
from __future__ import annotations

from ..backend import xp as np

_UINT = {4: np.uint32, 8: np.uint64}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
MIN_SIZE = 4096                 # below, np.where (its branches cost less than the extra passes)


def select(cond, a, b):
    """``np.where(cond, a, b)`` for a bool NumPy ``cond`` and float32/float64 ``a``, ``b`` (arrays that
    broadcast with it, or numbers), as integer arithmetic on their bits; ``np.where`` itself for anything
    else."""
    if type(cond) is not np.ndarray or cond.dtype != np.bool_ or cond.size < MIN_SIZE:
        return np.where(cond, a, b)
    for v in (a, b):
        if not (type(v) is np.ndarray or isinstance(v, (int, float, np.floating))):
            return np.where(cond, a, b)
    dt = np.result_type(a, b)
    if dt not in _FLOATS:
        return np.where(cond, a, b)
    ui = _UINT[dt.itemsize]
    c = cond.view(np.uint8)                                 # 0 / 1
    bits_a = np.asarray(a, dt).view(ui)
    bits_b = np.asarray(b, dt).view(ui)
    if _plus_zero(bits_b):          # where(cond, a, +0): a's bits times the mask (ReLU's backward)
        return np.multiply(bits_a, c).view(dt)
    if _plus_zero(bits_a):          # where(cond, +0, b): b's bits times the inverted mask
        return np.multiply(bits_b, np.logical_not(cond).view(np.uint8)).view(dt)
    if bits_a.ndim or bits_b.ndim:
        d = np.subtract(bits_a, bits_b)                     # (unsigned arrays wrap around silently)
    else:                           # two numbers: their difference modulo 2^bits, without a scalar's warning
        d = np.array((int(bits_a) - int(bits_b)) % (1 << (8 * dt.itemsize)), ui)
    out = np.multiply(d, c)
    out += bits_b
    return out.view(dt)


def _plus_zero(bits) -> bool:
    """Whether ``bits`` is one element (a 0-d or one-element array) of all-zero bits: +0.0."""
    return bits.size == 1 and not bits.reshape(-1)[0]
