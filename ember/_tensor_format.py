"""A tensor's ``repr``, laid out as PyTorch prints it (``tensor([1., 2.], requires_grad=True)``).
"""
from __future__ import annotations

import numpy as _np

from .backend import dtypes as _dt


def _format(t) -> str:
    a = t._data
    extras = []
    if a.dtype not in (_dt.get_default_dtype(), _dt.int64, _dt.bool_) or (a.size == 0 and a.dtype != _dt.float32):
        from .tensor import Size        # its prefix is "torch" while the compat hook is installed
        extras.append(f"dtype={Size._prefix}.{a.dtype}")
    if a.size == 0 and a.ndim != 1:
        extras.insert(0, f"size={tuple(a.shape)}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{type(t.grad_fn).__name__}Backward0>")
    elif t._rg:
        extras.append("requires_grad=True")
    body = _body(a)
    out = "tensor(" + body
    last = len(out) - out.rfind("\n") + 1      # PyTorch's _add_suffixes rule, verbatim
    for e in extras:
        if last + len(e) + 2 > _LINEWIDTH:
            out += ",\n" + " " * len("tensor(") + e
            last = len("tensor(") + len(e)
        else:
            out += ", " + e
            last += len(e) + 2
    return out + ")"


_LINEWIDTH, _EDGE, _THRESHOLD = 80, 3, 1000


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
    if nz.size == 0:
        base = lambda x: f"{x:.0f}" + ("." if _np.isfinite(x) else "")  # noqa: E731
    elif bool(_np.all(nz == _np.ceil(nz))):
        if nz.max() / nz.min() > 1000.0 or nz.max() > 1e8:
            base = lambda x: f"{x:.4e}"  # noqa: E731
        else:
            base = lambda x: f"{x:.0f}" + ("." if _np.isfinite(x) else "")  # noqa: E731
    elif nz.max() / nz.min() > 1000.0 or nz.max() > 1e8 or nz.min() < 1e-4:
        base = lambda x: f"{x:.4e}"  # noqa: E731
    else:
        base = lambda x: f"{x:.4f}"  # noqa: E731
    if nz.size:
        width = max(width, max(len(base(v)) for v in vals[_np.isfinite(vals) & (vals != 0)].tolist()))
    return lambda v: base(v).rjust(width), width


def _body(a) -> str:
    """The bracketed body of a tensor's repr, laid out exactly as PyTorch's _tensor_str."""
    if a.size == 0:
        return "[]"
    fmt, width = _formatter(a)
    summarize = a.size > _THRESHOLD
    if a.ndim == 0:
        return fmt(a.item())

    def vec(v, indent):
        per_line = max(1, (_LINEWIDTH - indent) // (width + 2))
        vals = v.tolist()
        if summarize and len(vals) > 2 * _EDGE:
            data = [fmt(x) for x in vals[:_EDGE]] + [" ..."] + [fmt(x) for x in vals[-_EDGE:]]
        else:
            data = [fmt(x) for x in vals]
        lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"

    def rec(v, indent):
        if v.ndim == 1:
            return vec(v, indent)
        n = v.shape[0]
        if summarize and n > 2 * _EDGE:
            parts = [rec(v[i], indent + 1) for i in range(_EDGE)] + ["..."] + \
                [rec(v[i], indent + 1) for i in range(n - _EDGE, n)]
        else:
            parts = [rec(v[i], indent + 1) for i in range(n)]
        return "[" + ("," + "\n" * (v.ndim - 1) + " " * (indent + 1)).join(parts) + "]"

    return rec(a, len("tensor("))


def _summarized(a, edge: int = 3):
    """The elements a summarized print shows (the first and last ``edge`` along each long dim)."""
    if a.size <= 1000:
        return a
    for ax in range(a.ndim):
        if a.shape[ax] > 2 * edge:
            a = _np.concatenate([_np.take(a, range(edge), axis=ax),
                                 _np.take(a, range(a.shape[ax] - edge, a.shape[ax]), axis=ax)], axis=ax)
    return a
