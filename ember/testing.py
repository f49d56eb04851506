"""``ember.testing``: PyTorch's ``torch.testing.assert_close`` (and ``make_tensor``), for scripts and
tutorials that check results.  Default tolerances are PyTorch's for the compared dtype."""
from __future__ import annotations

import numpy as np

__all__ = ["assert_close", "assert_allclose", "make_tensor"]

# PyTorch's default (rtol, atol) per dtype
_TOL = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
        np.dtype(np.float64): (1e-7, 1e-7)}


def _arr(x):
    from .tensor import Tensor
    if isinstance(x, Tensor):
        return x.detach()._data, True
    if isinstance(x, np.ndarray):
        return x, True
    return np.asarray(x), False


def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol=None, atol=None, equal_nan=False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg=None) -> None:
    """Raise ``AssertionError`` unless ``|actual - expected| <= atol + rtol * |expected|`` element-wise
    (after shape and, with ``check_dtype``, dtype checks).  Sequences and mappings are compared entry by
    entry, numbers as 0-d values."""
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match: {sorted(actual)} != {sorted(expected)}")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    a, a_tensor = _arr(actual)
    e, e_tensor = _arr(expected)
    if a.shape != e.shape:
        from .tensor import Size
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: {Size(a.shape)!r} != "
                                    f"{Size(e.shape)!r}.")
    if check_dtype and a_tensor and e_tensor and a.dtype != e.dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}.")
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"rtol={rtol} and atol={atol}")
    if rtol is None:
        rtol, atol = _TOL.get(np.result_type(a, e) if a_tensor or e_tensor else np.dtype(np.float64), (0.0, 0.0))
        if not (a_tensor or e_tensor):
            rtol, atol = (1e-7, 1e-7) if np.asarray(a).dtype.kind == "f" or np.asarray(e).dtype.kind == "f" \
                else (0.0, 0.0)
    work = np.result_type(a.dtype, e.dtype)      # differences in the compared dtype, as PyTorch reports them
    if work.kind != "f":
        work = np.dtype(np.float64)
    af, ef = a.astype(work), e.astype(work)
    ok = np.isclose(af, ef, rtol=rtol, atol=atol, equal_nan=equal_nan) | (af == ef)
    if ok.all():
        return
    diff = np.abs(af - ef)
    rel = diff / np.where(ef == 0, np.inf, np.abs(ef))
    n_bad, n = int((~ok).sum()), ok.size
    ia = np.unravel_index(int(np.argmax(np.where(ok, -1, diff))), a.shape) if a.ndim else ()
    ir = np.unravel_index(int(np.argmax(np.where(ok, -1, rel))), a.shape) if a.ndim else ()
    what = "Tensor-likes" if a.ndim or a_tensor else "Scalars"
    text = (f"{what} are not close!\n\nMismatched elements: {n_bad} / {n} ({100.0 * n_bad / n:.1f}%)\n"
            f"Greatest absolute difference: {float(diff[ia])} at index {tuple(int(i) for i in ia)} "
            f"(up to {atol} allowed)\nGreatest relative difference: {float(rel[ir])} at index "
            f"{tuple(int(i) for i in ir)} (up to {rtol} allowed)")
    raise AssertionError(msg or text)


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg="") -> None:
    """Deprecated PyTorch alias of ``assert_close`` (without the dtype check), with its FutureWarning."""
    from ._deprecation import warn
    warn("assert_allclose", once=False, category=FutureWarning)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False, msg=msg or None)


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False, memory_format=None):
    """A tensor of ``shape`` with values drawn uniformly from [low, high) (defaults -9..9), as PyTorch's
    ``make_tensor`` (the values differ: ember's generator is NumPy's)."""
    import ember
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    lo = -9 if low is None else low
    hi = 9 if high is None else high
    dt = ember._to_dtype(dtype)
    if dt.kind == "b":
        t = ember.rand(*shape) > 0.5
    elif dt.kind in "iu":
        t = ember.randint(int(lo), int(hi), tuple(shape), dtype=dt)
    else:
        t = (ember.rand(*shape, dtype=dt) * (hi - lo) + lo)
    if exclude_zero and dt.kind != "b":
        t = ember.where(t == 0, ember.ones_like(t), t)
    if requires_grad:
        t.requires_grad_(True)
    return t
