"""Layouts (``torch.strided``, ``torch.sparse_coo``, ...): small named constants, as ``torch.layout``.

A layout compares equal to itself and, for the code that passed PyTorch's layouts around as strings before
these objects existed (``layout="strided"`` defaults in ember's creation functions), to its own name.
"""
from __future__ import annotations


class layout:       # noqa: N801 - PyTorch's class name (torch.layout)
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        from .._tensor_support import Size    # "torch." while the compat hook is installed, else "ember."
        return f"{Size._prefix}.{self._name}"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        if isinstance(other, layout):
            return other._name == self._name
        if isinstance(other, str):
            return other == self._name or other.rpartition(".")[2] == self._name and "." in other
        return NotImplemented

    def __ne__(self, other):
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __hash__(self) -> int:
        return hash(self._name)

    def __reduce__(self):
        return (_by_name, (self._name,))


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
_mkldnn = layout("_mkldnn")
jagged = layout("jagged")

_ALL = {x._name: x for x in (strided, sparse_coo, sparse_csr, sparse_csc, sparse_bsr, sparse_bsc, _mkldnn,
                              jagged)}


def _by_name(name: str) -> layout:
    return _ALL[name]
