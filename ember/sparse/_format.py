"""A sparse COO tensor's repr, laid out as PyTorch's ``_tensor_str`` prints one::

    tensor(indices=tensor([[0, 1],
                           [1, 0]]),
           values=tensor([1., 2.]),
           size=(2, 2), nnz=2, layout=torch.sparse_coo)
"""
from __future__ import annotations

from .._tensor_format import _body, PRINT_OPTS
from .._tensor_support import Size
from ..backend import dtypes as _dt
from ._layout import sparse_coo


def _add_suffixes(text: str, suffixes, indent: int, force_newline: bool) -> str:
    """PyTorch's ``_add_suffixes``: each suffix after ", " or, past the line width (or first, when
    forced), on a new line."""
    out = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if force_newline or last + len(s) + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + s)
            last = indent + len(s)
            force_newline = False
        else:
            out.append(", " + s)
            last += len(s) + 2
    out.append(")")
    return "".join(out)


def sparse_repr(t) -> str:
    prefix = "tensor("
    indent = len(prefix)
    suffixes = [f"size={tuple(t.shape)}", f"nnz={t._nnz()}"]
    if t.dtype not in (_dt.get_default_dtype(), _dt.int64, _dt.bool_):
        suffixes.append(f"dtype={t.dtype}")       # an ember.dtype: prints with Size._prefix
    ip, vp = "indices=tensor(", "values=tensor("
    idx = t._idx
    istr = _body(idx, indent + len(ip))
    if idx.size == 0:
        istr += f", size={tuple(idx.shape)}"
    vals = t._vals._data
    vstr = _body(vals, indent + len(vp))
    if vals.size == 0:
        vstr += f", size={tuple(vals.shape)}"
    text = prefix + ip + istr + "),\n" + " " * indent + vp + vstr + ")"
    suffixes.append(f"layout={sparse_coo}")
    if not t._leaf and t._vals.requires_grad:
        name = t._gname or "SparseCooTensorWithDimsAndTensors"
        suffixes.append(f"grad_fn=<{name if name[-1].isdigit() else name + 'Backward0'}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(text, suffixes, indent, force_newline=True)
