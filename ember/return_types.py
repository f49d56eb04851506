"""The named tuples that ops with several outputs return (``torch.return_types``).

One type per PyTorch function, named as PyTorch names it (``max``, ``sort``, ``linalg_qr``...), so that
``torch.max(x, 1)`` prints as PyTorch prints it::

    torch.return_types.max(
    values=tensor([3., 4.]),
    indices=tensor([1, 0]))

(with ``ember.`` in place of ``torch.`` unless the compat hook is installed, as ``Size`` and ``Tensor.type()``
print).  Each is a tuple: it unpacks, indexes and compares as one, and its fields are attributes.
"""
from __future__ import annotations

from collections import namedtuple as _namedtuple


def _prefix() -> str:
    from ._tensor_support import Size
    return Size._prefix


def _structseq(name: str, fields: str):
    base = _namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"{_prefix()}.return_types.{name}(\n{body})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__str__": __repr__,
                               "n_fields": len(base._fields), "n_sequence_fields": len(base._fields),
                               "n_unnamed_fields": 0, "__module__": __name__})
    cls.__qualname__ = name
    return cls


_VI = "values indices"
max = _structseq("max", _VI)                      # noqa: A001 - PyTorch's names
min = _structseq("min", _VI)                      # noqa: A001
sort = _structseq("sort", _VI)
topk = _structseq("topk", _VI)
kthvalue = _structseq("kthvalue", _VI)
mode = _structseq("mode", _VI)
median = _structseq("median", _VI)
nanmedian = _structseq("nanmedian", _VI)
cummax = _structseq("cummax", _VI)
cummin = _structseq("cummin", _VI)
aminmax = _structseq("aminmax", "min max")
frexp = _structseq("frexp", "mantissa exponent")
histogram = _structseq("histogram", "hist bin_edges")
histogramdd = _structseq("histogramdd", "hist bin_edges")
svd = _structseq("svd", "U S V")
linalg_svd = _structseq("linalg_svd", "U S Vh")
qr = _structseq("qr", "Q R")
linalg_qr = _structseq("linalg_qr", "Q R")
slogdet = _structseq("slogdet", "sign logabsdet")
linalg_slogdet = _structseq("linalg_slogdet", "sign logabsdet")
linalg_eigh = _structseq("linalg_eigh", "eigenvalues eigenvectors")
linalg_inv_ex = _structseq("linalg_inv_ex", "inverse info")
linalg_solve_ex = _structseq("linalg_solve_ex", "result info")
linalg_cholesky_ex = _structseq("linalg_cholesky_ex", "L info")
linalg_lstsq = _structseq("linalg_lstsq", "solution residuals rank singular_values")
linalg_lu = _structseq("linalg_lu", "P L U")
linalg_lu_factor = _structseq("linalg_lu_factor", "LU pivots")
linalg_lu_factor_ex = _structseq("linalg_lu_factor_ex", "LU pivots info")
lu_unpack = _structseq("lu_unpack", "P L U")
triangular_solve = _structseq("triangular_solve", "solution cloned_coefficient")
geqrf = _structseq("geqrf", "a tau")

__all__ = ["max", "min", "sort", "topk", "kthvalue", "mode", "median", "nanmedian", "cummax", "cummin", "aminmax",
           "frexp", "histogram", "histogramdd", "svd", "linalg_svd", "qr", "linalg_qr", "slogdet", "linalg_slogdet",
           "linalg_eigh", "linalg_inv_ex", "linalg_solve_ex", "linalg_cholesky_ex", "linalg_lstsq", "linalg_lu",
           "linalg_lu_factor", "linalg_lu_factor_ex", "lu_unpack", "triangular_solve", "geqrf"]


def _returning(cls):
    """Decorate an op returning a plain ``(a, b)`` so that it returns ``cls(a, b)`` (other results pass)."""
    import functools

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            r = fn(*args, **kwargs)
            return cls(*r) if type(r) is not cls and isinstance(r, tuple) else r
        return wrapper
    return deco
