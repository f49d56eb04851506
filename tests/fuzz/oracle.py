"""The differential oracle: run one drawn case in ember and in PyTorch and list every way the two differ.

A *case* is a list of arguments (``Arr`` entries become tensors in both libraries, anything else is passed
as is) plus keyword arguments.  ``run_case`` calls ``spec.fn(m, *args, **kwargs)`` with ``m`` = ember and
``m`` = torch and compares:

- raise / no raise (both raise, or neither); an ember error must be an ember-style exception, not a NumPy
  internal or an AttributeError for a missing op ("missing");
- the output structure, then per tensor output: shape, dtype, values (NaN-aware, dtype tolerances), strides
  (dims of size > 1) and ``is_contiguous()``, ``requires_grad``;
- gradients of every input that requires grad, after one backward with the same random upstream gradient;
- aliasing: in a second, grad-free run every output is overwritten in place, then the inputs are compared
  (a view in PyTorch that is a copy in ember, or the reverse, shows up here).

Each difference is a ``Mismatch(aspect, detail)``; ``known_differences`` decides which are documented.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import numpy as np
import torch

import ember

from .profiles import SIGNED_ZEROS

ASPECTS = ("raise", "missing", "error-type", "structure", "shape", "dtype", "value", "stride", "contiguous",
           "requires_grad", "grad", "grad-raise", "alias")


@dataclasses.dataclass
class Arr:
    """A tensor argument: its data, the layout it is presented in, and whether it requires grad.

    ``layout``: "contig"; "permuted" (stored with reversed dims, permuted back: non-contiguous, same shape);
    "strided" (every other element of a twice-as-long first dim); "expanded" (size-1 dims broadcast, stride 0;
    ``data`` then holds the compact array and ``expand_to`` the shape)."""
    data: np.ndarray
    grad: bool = False
    layout: str = "contig"
    expand_to: tuple | None = None

    def shape(self):
        return tuple(self.expand_to) if self.layout == "expanded" else self.data.shape

    def __repr__(self):
        """Evaluable (with ``np``, ``nan``, ``inf``, ``Arr`` in scope): a failing case pastes into a reproducer."""
        d = self.data
        body = np.array2string(d, separator=", ", threshold=10**6, floatmode="unique", max_line_width=10**6)
        body = " ".join(body.split())
        extra = f", layout={self.layout!r}" if self.layout != "contig" else ""
        if self.expand_to is not None:
            extra += f", expand_to={tuple(self.expand_to)}"
        if self.grad:
            extra += ", grad=True"
        shape = f".reshape({d.shape})" if d.size == 0 or d.ndim == 0 else ""
        return f"Arr(np.array({body}, dtype='{d.dtype}'){shape}{extra})"


@dataclasses.dataclass
class Case:
    args: list
    kwargs: dict = dataclasses.field(default_factory=dict)

    def arrays(self):
        return [a for a in self.args if isinstance(a, Arr)]

    def dtypes(self):
        return [str(a.data.dtype) for a in self.arrays()]

    def __repr__(self):
        return f"Case({self.args!r}, {self.kwargs!r})"


def parse_case(text: str) -> Case:
    """The inverse of ``repr(case)``."""
    return eval(text, {"np": np, "nan": float("nan"), "inf": float("inf"), "Arr": Arr, "Case": Case})  # noqa: S307


@dataclasses.dataclass
class Mismatch:
    aspect: str
    detail: str

    def __str__(self):
        return f"[{self.aspect}] {self.detail}"


TORCH_DTYPES = {"bool": torch.bool, "uint8": torch.uint8, "int8": torch.int8, "int16": torch.int16,
                "int32": torch.int32, "int64": torch.int64, "float16": torch.float16, "float32": torch.float32,
                "float64": torch.float64}


def dtype_name(dt) -> str:
    if isinstance(dt, torch.dtype):
        return str(dt).replace("torch.", "")
    return str(np.dtype(dt)) if dt is not None else "None"


# ---------------------------------------------------------------------------------------------- input set-up
def _present(m, arr: Arr, grad: bool):
    """Make the library's tensor for ``arr`` in its layout; returns (leaf, presented tensor)."""
    d = arr.data
    if arr.layout == "permuted" and d.ndim >= 2:
        store = np.ascontiguousarray(np.transpose(d))
    elif arr.layout == "strided" and d.ndim >= 1:
        store = np.repeat(d, 2, axis=0)
    else:
        store = d
    leaf = torch.from_numpy(store.copy()) if m is torch else m.tensor(store.copy())
    if grad:
        leaf.requires_grad_(True)
    t = leaf
    if arr.layout == "permuted" and d.ndim >= 2:
        t = t.permute(*reversed(range(d.ndim)))
    elif arr.layout == "strided" and d.ndim >= 1:
        t = t[::2]
    elif arr.layout == "expanded" and arr.expand_to is not None:
        t = t.expand(*arr.expand_to)
    return leaf, t


def _build(m, case: Case, grad: bool):
    leaves, args = [], []
    for a in case.args:
        if isinstance(a, Arr):
            leaf, t = _present(m, a, grad and a.grad)
            leaves.append(leaf)
            args.append(t)
        else:
            args.append(a)
    return leaves, args


def _call(m, fn, case, grad):
    leaves, args = _build(m, case, grad)
    try:
        out = fn(m, *args, **case.kwargs)
        return leaves, args, out, None
    except Exception as e:  # noqa: BLE001 - every exception is an outcome to compare
        return leaves, args, None, e


def _flatten(out):
    if isinstance(out, (tuple, list)) and not isinstance(out, (torch.Size, ember.Size)):
        res = []
        for o in out:
            res.extend(_flatten(o))
        return res
    return [out]


# ---------------------------------------------------------------------------------------------- comparison
_TOL = {"float16": (2e-3, 2e-3), "float32": (1e-5, 1e-5), "float64": (1e-9, 1e-9)}


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy(force=True)   # force: a ZeroTensor gradient (sgn) converts too
    return np.asarray(x.detach().numpy())


def values_differ(a: np.ndarray, e: np.ndarray, tol_scale=1.0, scale=0.0, half=False,
                  signed_zeros=False) -> str | None:
    """NaN-aware comparison of ember's ``a`` against torch's ``e`` (same shape); returns a description or None.
    ``signed_zeros``: zeros must have torch's sign too."""
    if a.dtype.kind in "biu" or e.dtype.kind in "biu" or a.dtype == bool:
        if a.dtype.kind == "f" or e.dtype.kind == "f":
            pass
        else:
            bad = a != e
            if bad.any():
                i = np.argwhere(bad)[0]
                return f"at {tuple(i)}: ember {a[tuple(i)]!r} vs torch {e[tuple(i)]!r} ({int(bad.sum())} differ)"
            return None
    a64 = a.astype(np.float64)
    e64 = e.astype(np.float64)
    if isinstance(half, str):       # the precision the values were computed in (see _grad_precision)
        rtol, atol = _TOL[half]
    else:
        rtol, atol = _TOL["float16" if half else str(e.dtype)] if (half or str(e.dtype) in _TOL) else (1e-5, 1e-5)
    rtol, atol = rtol * tol_scale, atol * tol_scale
    atol = atol + rtol * scale
    an, en = np.isnan(a64), np.isnan(e64)
    with np.errstate(invalid="ignore", over="ignore"):
        same_inf = np.isinf(a64) & np.isinf(e64) & (a64 == e64)
        close = np.abs(a64 - e64) <= atol + rtol * np.abs(e64)
    ok = (an & en) | same_inf | (~an & ~en & close)
    if not ok.all():
        i = tuple(np.argwhere(~ok)[0])
        return f"at {i}: ember {a[i]!r} vs torch {e[i]!r} ({int((~ok).sum())} of {ok.size} differ)"
    if signed_zeros:
        zs = (a64 == 0) & (e64 == 0) & (np.signbit(a64) != np.signbit(e64))
        if zs.any():
            i = tuple(np.argwhere(zs)[0])
            return f"at {i}: ember {a[i]!r} vs torch {e[i]!r} (the signs of {int(zs.sum())} zeros differ)"
    return None


def _strides_differ(et, tt):
    shape = tuple(tt.shape)
    if tt.numel() <= 1:
        return None
    es, ts = tuple(et.stride()), tuple(tt.stride())
    ek = tuple(s for n, s in zip(shape, es) if n > 1)
    tk = tuple(s for n, s in zip(shape, ts) if n > 1)
    if ek != tk:
        return f"strides {es} vs torch {ts} for shape {shape}"
    return None


def _half(case: Case) -> bool:
    """A float16 input anywhere: values computed through it carry float16 rounding, so float16 tolerances."""
    return any(a.data.dtype == np.float16 for a in case.arrays())


def _grad_precision(case: Case, grad) -> bool | str:
    """A float64 gradient that flowed through a float32 result (x32 -= y64 keeps float32) carries float32
    rounding (PyTorch reduces it in float32, then casts), so float32 tolerances; float16 as ``_half``."""
    if _half(case):
        return True
    if grad.dtype == torch.float64 and any(a.data.dtype == np.float32 for a in case.arrays()):
        return "float32"
    return False


def _input_scale(case: Case) -> float:
    s = 0.0
    for a in case.arrays():
        if a.data.size and a.data.dtype.kind in "fiub":
            d = np.abs(a.data.astype(np.float64))
            d = d[np.isfinite(d)]
            if d.size:
                s = max(s, float(d.max()))
    return s


def _compare_outputs(eo, to, mism, spec, case, where="output"):
    e_list, t_list = _flatten(eo), _flatten(to)
    if len(e_list) != len(t_list):
        mism.append(Mismatch("structure", f"{where}: ember returned {len(e_list)} values, torch {len(t_list)}"))
        return
    scale = _input_scale(case) * spec.scale_atol if spec.scale_atol else 0.0
    for i, (e, t) in enumerate(zip(e_list, t_list)):
        w = f"{where} {i}"
        if isinstance(t, torch.Tensor):
            if not isinstance(e, ember.Tensor):
                mism.append(Mismatch("structure", f"{w}: ember returned {type(e).__name__}, torch a Tensor"))
                continue
            if tuple(e.shape) != tuple(t.shape):
                mism.append(Mismatch("shape", f"{w}: shape {tuple(e.shape)} vs torch {tuple(t.shape)}"))
                continue
            if dtype_name(e.dtype) != dtype_name(t.dtype):
                mism.append(Mismatch("dtype", f"{w}: dtype {dtype_name(e.dtype)} vs torch {dtype_name(t.dtype)}"))
            d = values_differ(_np(e), _np(t), spec.tol, scale, _half(case), SIGNED_ZEROS)
            if d:
                mism.append(Mismatch("value", f"{w}: {d}"))
            if spec.check_layout:
                s = _strides_differ(e, t)
                if s:
                    mism.append(Mismatch("stride", f"{w}: {s}"))
                if bool(e.is_contiguous()) != bool(t.is_contiguous()):
                    mism.append(Mismatch("contiguous", f"{w}: is_contiguous {e.is_contiguous()} vs torch "
                                                       f"{t.is_contiguous()}"))
            if bool(e.requires_grad) != bool(t.requires_grad):
                mism.append(Mismatch("requires_grad", f"{w}: requires_grad {e.requires_grad} vs torch "
                                                      f"{t.requires_grad}"))
        elif isinstance(t, (bool, int, float)) or t is None:
            ev = e.item() if isinstance(e, ember.Tensor) and e.numel() == 1 else e
            if t is None or ev is None:
                if (t is None) != (ev is None):
                    mism.append(Mismatch("value", f"{w}: ember {ev!r} vs torch {t!r}"))
            elif not (ev == t or (isinstance(t, float) and math.isnan(t) and isinstance(ev, float)
                                   and math.isnan(ev))):
                if not (isinstance(t, float) and isinstance(ev, (int, float))
                        and abs(ev - t) <= 1e-5 * (1 + abs(t))):
                    mism.append(Mismatch("value", f"{w}: ember {ev!r} vs torch {t!r}"))
        elif isinstance(t, (torch.Size, tuple)):
            if tuple(e) != tuple(t):
                mism.append(Mismatch("value", f"{w}: ember {tuple(e)} vs torch {tuple(t)}"))
        elif isinstance(t, torch.dtype):
            if dtype_name(e) != dtype_name(t):
                mism.append(Mismatch("dtype", f"{w}: ember {e} vs torch {t}"))


def _exc(e):
    return f"{type(e).__module__}.{type(e).__name__}: {str(e)[:200]}"


_USER_ERRORS = (ValueError, TypeError, IndexError, RuntimeError, NotImplementedError)


def _ember_error_ok(e) -> Mismatch | None:
    """An ember error must be a user-facing exception raised by ember itself: not an AttributeError for a missing
    op, not a NumPy exception class, not an error raised from inside NumPy (a leaked reshape/broadcast error)."""
    if isinstance(e, AttributeError) and "has no attribute" in str(e):
        return Mismatch("missing", f"ember has no such op: {_exc(e)}")
    if type(e).__module__.startswith("numpy") or not isinstance(e, _USER_ERRORS):
        return Mismatch("error-type", f"ember raised an internal error {_exc(e)}")
    tb = e.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    if last and "/numpy/" in last:
        return Mismatch("error-type", f"ember leaked an error raised inside NumPy: {_exc(e)}")
    return None


def _grad_seed(case: Case) -> int:
    # crc32, not hash(): str hashes change between processes (PYTHONHASHSEED), the upstream gradient must not
    import zlib
    return zlib.crc32(repr(case).encode())


def run_case(spec, case: Case) -> list[Mismatch]:
    mism: list[Mismatch] = []
    want_grad = spec.grad and torch.is_grad_enabled()
    t_leaves, _, t_out, t_err = _call(torch, spec.fn, case, want_grad)
    e_leaves, _, e_out, e_err = _call(ember, spec.fn, case, want_grad)
    if t_err is not None or e_err is not None:
        if t_err is not None and e_err is not None:
            m = _ember_error_ok(e_err)
            if m:
                mism.append(m)
        elif t_err is not None:
            mism.append(Mismatch("raise", f"torch raised {_exc(t_err)}; ember returned"))
        else:
            m = _ember_error_ok(e_err)
            mism.append(m or Mismatch("raise", f"ember raised {_exc(e_err)}; torch returned"))
        return mism
    try:
        _compare_outputs(e_out, t_out, mism, spec, case)
    except Exception as ex:  # noqa: BLE001 - ember raising when its result is read is a difference too
        mism.append(Mismatch("raise", f"reading ember's result raised {_exc(ex)}; torch's reads fine"))
        return mism
    if any(x.aspect in ("structure", "shape") for x in mism):
        return mism
    if want_grad:
        _compare_grads(spec, case, e_leaves, t_leaves, e_out, t_out, mism)
    if spec.alias:
        _compare_alias(spec, case, mism)
    return mism


def _compare_grads(spec, case, e_leaves, t_leaves, e_out, t_out, mism):
    pairs = [(e, t) for e, t in zip(_flatten(e_out), _flatten(t_out))
             if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point
             and isinstance(e, ember.Tensor) and e.requires_grad]
    if not pairs:
        return
    rng = np.random.default_rng(_grad_seed(case))
    gs = [rng.standard_normal(tuple(t.shape)).astype(dtype_name(t.dtype)) for _, t in pairs]
    t_err = e_err = None
    try:
        torch.autograd.backward([t for _, t in pairs], [torch.from_numpy(g.copy()) for g in gs])
    except Exception as ex:  # noqa: BLE001
        t_err = ex
    try:
        ember.autograd.backward([e for e, _ in pairs], [ember.tensor(g.copy()) for g in gs])
    except Exception as ex:  # noqa: BLE001
        e_err = ex
    if (t_err is None) != (e_err is None):
        mism.append(Mismatch("grad-raise", f"backward: torch {'raised ' + _exc(t_err) if t_err else 'ran'}, "
                                           f"ember {'raised ' + _exc(e_err) if e_err else 'ran'}"))
        return
    if t_err is not None:
        return
    scale = _input_scale(case) * spec.scale_atol if spec.scale_atol else 0.0
    for k, (el, tl) in enumerate(zip(e_leaves, t_leaves)):
        if not tl.requires_grad:
            continue
        tg, eg = tl.grad, el.grad
        if tg is None:
            if eg is not None and np.any(_np(eg) != 0):
                mism.append(Mismatch("grad", f"input {k}: ember has a nonzero gradient, torch none"))
            continue
        if eg is None:
            if np.any(_np(tg) != 0):
                mism.append(Mismatch("grad", f"input {k}: ember produced no gradient, torch a nonzero one"))
            continue
        if tuple(eg.shape) != tuple(tg.shape):
            mism.append(Mismatch("grad", f"input {k}: grad shape {tuple(eg.shape)} vs torch {tuple(tg.shape)}"))
            continue
        d = values_differ(_np(eg), _np(tg), spec.tol * spec.grad_tol, scale, _grad_precision(case, tg))
        if d:
            mism.append(Mismatch("grad", f"grad of input {k}: {d}"))


def _fill_value(t):
    return True if dtype_name(t.dtype) == "bool" else 3


def _compare_alias(spec, case, mism):
    """Second run without grad: write every output in place, then compare what the inputs now hold."""
    res = {}
    for m in (torch, ember):
        grad_ctx = torch.no_grad() if m is torch else ember.no_grad()
        with grad_ctx:
            leaves, args, out, err = _call(m, spec.fn, case, False)
            if err is not None:
                return
            outs = [o for o in _flatten(out) if isinstance(o, (torch.Tensor, ember.Tensor)) and o.numel() > 0]
            errs = []
            for o in outs:
                try:
                    o.fill_(_fill_value(o))
                    errs.append(None)
                except Exception as ex:  # noqa: BLE001
                    errs.append(type(ex).__name__)
            res[m.__name__] = (errs, [_np(x).copy() for x in leaves])
    (t_errs, t_ins), (e_errs, e_ins) = res["torch"], res["ember"]
    if [e is None for e in t_errs] != [e is None for e in e_errs]:
        mism.append(Mismatch("alias", f"writing the outputs in place: torch errors {t_errs}, ember {e_errs}"))
        return
    for k, (a, b) in enumerate(zip(e_ins, t_ins)):
        if a.shape == b.shape and values_differ(a, b) is not None:
            mism.append(Mismatch("alias", f"input {k} after writing the outputs in place: "
                                          f"{values_differ(a, b)} (view vs copy)"))


@dataclasses.dataclass
class Spec:
    """One op family member: ``fn(m, *args, **kwargs)`` is called with m = ember and m = torch."""
    name: str
    family: str
    fn: Callable
    cases: Any                      # a Hypothesis strategy of Case
    grad: bool = True
    alias: bool = True
    check_layout: bool = True
    tol: float = 1.0                # multiplies the dtype tolerance
    grad_tol: float = 1.0           # extra factor for gradients
    scale_atol: float = 0.0         # absolute tolerance += rtol * scale_atol * max|finite input|
