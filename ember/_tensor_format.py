"""A tensor's ``repr``, laid out as PyTorch prints it (``tensor([1., 2.], requires_grad=True)``).
"""
from __future__ import annotations

import numpy as _np

from .backend import dtypes as _dt


def _format(t) -> str:
    a = t._data
    extras = []
    if a.dtype not in (_dt.get_default_dtype(), _dt.int64, _dt.bool_) or (a.size == 0 and a.dtype != _dt.float32):
        extras.append(f"dtype={t.dtype}")        # an ember.dtype: "torch.float64" under the compat hook
    if a.size == 0 and a.ndim != 1:
        extras.insert(0, f"size={tuple(a.shape)}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    body = _body(a)
    out = "tensor(" + body
    last = len(out) - out.rfind("\n") + 1      # PyTorch's _add_suffixes rule, verbatim
    for e in extras:
        if last + len(e) + 2 > PRINT_OPTS.linewidth:
            out += ",\n" + " " * len("tensor(") + e
            last = len("tensor(") + len(e)
        else:
            out += ", " + e
            last += len(e) + 2
    return out + ")"


class _PrintOptions:
    """``torch.set_printoptions``'s state (PyTorch's ``torch._tensor_str.PRINT_OPTS``)."""
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


PRINT_OPTS = _PrintOptions()
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, float("inf"), 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """How tensors print, as ``torch.set_printoptions``: ``precision`` digits after the point (4),
    ``threshold`` elements above which a print is summarised (1000) showing ``edgeitems`` (3) at each end,
    ``linewidth`` characters per line (80), ``profile`` "default"/"short"/"full" for all four, and
    ``sci_mode`` True/False to force or forbid scientific notation (None, the default: chosen per tensor;
    every call sets it)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions(): profile must be 'default', 'short' or 'full', got {profile!r}")
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = _PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options (``torch.get_printoptions``)."""
    return {k: getattr(PRINT_OPTS, k) for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


def _formatter(a):
    """PyTorch's _Formatter: integer-valued floats print as "1.", a wide dynamic range in scientific notation,
    else 4 decimals; every element right-aligned to one width (from the values that will be shown)."""
    view = _summarized(a)
    if a.dtype.kind != "f":
        width = max((len(str(v)) for v in view.ravel().tolist()), default=1)
        return lambda v: str(v).rjust(width), width
    vals = view.ravel().astype(_np.float64)
    nz = _np.abs(vals[_np.isfinite(vals) & (vals != 0)])
    width = 1
    prec = PRINT_OPTS.precision
    sci = PRINT_OPTS.sci_mode
    if nz.size:
        nzv = vals[_np.isfinite(vals) & (vals != 0)]
        if sci is None:
            sci = bool(nz.max() / nz.min() > 1000.0 or nz.max() > 1e8 or nz.min() < 1e-4)
        if bool(_np.all(nzv == _np.ceil(nzv))) and not sci:
            base = lambda x: f"{x:.0f}" + ("." if _np.isfinite(x) else "")  # noqa: E731
        elif sci:
            base = lambda x: f"{x:.{prec}e}"  # noqa: E731
        else:
            base = lambda x: f"{x:.{prec}f}"  # noqa: E731
    else:
        base = lambda x: f"{x:.0f}" + ("." if _np.isfinite(x) else "")  # noqa: E731
    if nz.size:
        width = max(width, max(len(base(v)) for v in vals[_np.isfinite(vals) & (vals != 0)].tolist()))
    return lambda v: base(v).rjust(width), width


def _body(a, indent: int = len("tensor(")) -> str:
    """The bracketed body of a tensor's repr, laid out exactly as PyTorch's _tensor_str (``indent``: the
    column the body starts at; a sparse tensor's repr nests its indices and values deeper)."""
    if a.size == 0:
        return "[]"
    fmt, width = _formatter(a)
    summarize = a.size > PRINT_OPTS.threshold
    edge = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return fmt(a.item())

    def vec(v, indent):
        per_line = max(1, (PRINT_OPTS.linewidth - indent) // (width + 2))
        vals = v.tolist()
        if summarize and len(vals) > 2 * edge:
            data = [fmt(x) for x in vals[:edge]] + [" ..."] + [fmt(x) for x in vals[-edge:]]
        else:
            data = [fmt(x) for x in vals]
        lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"

    def rec(v, indent):
        if v.ndim == 1:
            return vec(v, indent)
        n = v.shape[0]
        if summarize and n > 2 * edge:
            parts = [rec(v[i], indent + 1) for i in range(edge)] + ["..."] + \
                [rec(v[i], indent + 1) for i in range(n - edge, n)]
        else:
            parts = [rec(v[i], indent + 1) for i in range(n)]
        return "[" + ("," + "\n" * (v.ndim - 1) + " " * (indent + 1)).join(parts) + "]"

    return rec(a, indent)


def _summarized(a, edge: int | None = None):
    """The elements a summarized print shows (the first and last ``edge`` along each long dim)."""
    if a.size <= PRINT_OPTS.threshold:
        return a
    edge = PRINT_OPTS.edgeitems if edge is None else edge
    for ax in range(a.ndim):
        if a.shape[ax] > 2 * edge:
            a = _np.concatenate([_np.take(a, range(edge), axis=ax),
                                 _np.take(a, range(a.shape[ax] - edge, a.shape[ax]), axis=ax)], axis=ax)
    return a
