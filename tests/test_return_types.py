"""torch.return_types: each multi-output op returns its own named tuple type that prints as PyTorch's."""
import pytest
import torch

import ember
from ember._tensor_support import Size


def _calls(m):
    x = m.tensor([[1., 3., 2.], [4., 0., 5.]])
    a = m.tensor([[4., 1.], [1., 3.]])
    return {
        "max": lambda: m.max(x, 1), "min": lambda: x.min(dim=0), "sort": lambda: m.sort(x),
        "topk": lambda: x.topk(2), "kthvalue": lambda: x.kthvalue(2), "median": lambda: x.median(1),
        "nanmedian": lambda: x.nanmedian(1), "mode": lambda: x.mode(1), "cummax": lambda: x.cummax(1),
        "cummin": lambda: m.cummin(x, 0), "aminmax": lambda: m.aminmax(x), "frexp": lambda: m.frexp(x),
        "histogram": lambda: m.histogram(x.flatten(), bins=3), "slogdet": lambda: m.slogdet(a),
        "linalg_slogdet": lambda: m.linalg.slogdet(a), "linalg_eigh": lambda: m.linalg.eigh(a),
        "linalg_inv_ex": lambda: m.linalg.inv_ex(a), "linalg_cholesky_ex": lambda: m.linalg.cholesky_ex(a),
        "linalg_solve_ex": lambda: m.linalg.solve_ex(a, a), "linalg_qr": lambda: m.linalg.qr(a),
        "linalg_svd": lambda: m.linalg.svd(a), "svd": lambda: m.svd(a), "linalg_lu": lambda: m.linalg.lu(a),
        "linalg_lu_factor": lambda: m.linalg.lu_factor(a), "linalg_lu_factor_ex": lambda: m.linalg.lu_factor_ex(a),
        "lu_unpack": lambda: m.lu_unpack(*m.linalg.lu_factor(a)), "geqrf": lambda: m.geqrf(a),
        "linalg_lstsq": lambda: m.linalg.lstsq(a, a), "histogramdd": lambda: m.histogramdd(x, bins=2),
    }


NAMES = list(_calls(torch))
# results whose float digits depend on the LAPACK/eigen solver's last bits: compare the type and fields only
_FIELDS_ONLY = {"linalg_eigh", "linalg_qr", "linalg_svd", "svd", "geqrf", "linalg_lstsq", "linalg_lu",
                "linalg_lu_factor", "linalg_lu_factor_ex", "lu_unpack"}


@pytest.mark.parametrize("name", NAMES)
def test_type_name_fields_and_repr(name):
    got, want = _calls(ember)[name](), _calls(torch)[name]()
    assert type(got).__name__ == type(want).__name__ == name
    assert isinstance(got, tuple) and len(got) == len(want) == got.n_fields
    fields = [f for f in dir(type(want)) if not f.startswith("_") and not f.startswith("n_")
              and f not in ("count", "index")]
    assert sorted(got._fields) == sorted(fields)
    if name not in _FIELDS_ONLY:
        old = Size._prefix
        Size._prefix = "torch"          # what ember.compat.install() sets
        try:
            assert repr(got) == repr(want)
        finally:
            Size._prefix = old
        assert repr(got).startswith(f"ember.return_types.{name}(\n")


def test_unpacks_and_indexes_as_a_tuple():
    r = ember.max(ember.tensor([[1., 3.], [4., 2.]]), 1)
    v, i = r
    assert r[0] is v and r.values is v and r.indices is i and i.tolist() == [1, 0]
    assert ember.max(ember.tensor([1., 2.])).item() == 2.0      # no dim: a tensor, not a tuple
    assert ember.median(ember.tensor([1., 2., 3.])).item() == 2.0
