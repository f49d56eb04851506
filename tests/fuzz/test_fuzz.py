"""The differential fuzzer: every op spec in ``specs.SPECS`` against PyTorch 2.13 on Hypothesis-drawn cases.

A case fails when ember and torch differ in any aspect (see ``oracle``) that ``known_differences`` does not
document for exactly that op and case.  ``make test`` runs the derandomized ``ci`` profile; ``make fuzz`` the
long one (``profiles.py``).  A failure prints the case; rerun one op with
``pytest tests/fuzz -n 0 -k 'test_op and <name>'``.
"""
import warnings

import pytest
from hypothesis import event, given, note, strategies as st

from .known_differences import KNOWN, explain, run_repro
from .oracle import run_case
from .profiles import FUZZ_SETTINGS, STRICT
from .specs import SPECS


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@FUZZ_SETTINGS
@given(data=st.data())
def test_op(spec, data):
    case = data.draw(spec.cases, label="case")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mism = run_case(spec, case)
    unexplained = []
    for mm in mism:
        k = explain(spec.name, case, mm)
        if k is None:
            unexplained.append(mm)
        else:
            event(f"known difference {k.id}")
    if unexplained:
        note(f"case: {case!r}")
        raise AssertionError(f"{spec.name} ({spec.family}) differs from torch:\n  "
                             + "\n  ".join(str(x) for x in unexplained) + f"\ncase: {case!r}")


def test_spec_names_unique():
    names = [s.name for s in SPECS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@pytest.mark.parametrize("known", KNOWN, ids=[k.id for k in KNOWN])
def test_known_difference_still_differs(known):
    """Each documented difference carries a minimal reproducer; once it stops differing, the entry is stale:
    remove it (and its line in docs/differences.md).  Strict under the long profile, a warning otherwise, so a
    fix landing elsewhere does not break ``make test``; never strict for an entry whose PyTorch side depends on
    the CPU's kernels (``cpu_dependent``: it shows on one machine and not on another)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diffs = run_repro(known)
    if not diffs:
        if known.cpu_dependent:      # PyTorch's kernels for this CPU agree with ember: not stale
            pytest.xfail(f"known difference {known.id} depends on PyTorch's CPU kernels and does not show here")
        msg = f"known difference {known.id} no longer reproduces: remove it from tests/fuzz/known_differences.py"
        if STRICT:
            pytest.fail(msg)
        pytest.xfail(msg)


def test_docs_mirror_known_differences():
    """docs/differences.md is generated from the list: `python -m tests.fuzz.known_differences > ...`."""
    import pathlib
    from .known_differences import markdown
    doc = pathlib.Path(__file__).resolve().parents[2] / "docs" / "differences.md"
    assert doc.exists(), "docs/differences.md is missing"
    assert doc.read_text() == markdown(), ("docs/differences.md is out of date: regenerate it with "
                                           "`.venv/bin/python -m tests.fuzz.known_differences > docs/differences.md`")


def _planted(name, fn_ember, fn_torch, args):
    from .oracle import Case, Spec
    return Spec(name, "self-test", lambda m, *a: (fn_torch if m.__name__ == "torch" else fn_ember)(m, *a),
                None), Case(args)


def _planted_cases():
    import numpy as np
    from .oracle import Arr
    x = lambda: Arr(np.array([[1.0, -2.0], [3.0, np.nan]], dtype=np.float32), grad=True)  # noqa: E731
    return {
        "value": _planted("v", lambda m, t: t * 2, lambda m, t: t * 2.001, [x()]),
        "dtype": _planted("d", lambda m, t: t.double(), lambda m, t: t * 1, [x()]),
        "stride": _planted("s", lambda m, t: t.t().contiguous(), lambda m, t: t.t(),
                           [Arr(np.ones((2, 3), dtype=np.float32))]),
        "alias": _planted("a", lambda m, t: t[0].clone(), lambda m, t: t[0], [Arr(np.ones((2, 2), dtype=np.float32))]),
        "grad": _planted("g", lambda m, t: t.detach() * 2 + t * 0.0 + t.detach() * 0, lambda m, t: t * 2, [x()]),
        "raise": _planted("r", lambda m, t: t.sum(dim=5), lambda m, t: t.sum(dim=0), [x()]),
        "requires_grad": _planted("q", lambda m, t: t.detach() * 2, lambda m, t: t * 2, [x()]),
        "shape": _planted("h", lambda m, t: t.reshape(4), lambda m, t: t, [x()]),
        "error-type": _planted("e", lambda m, t: {}["missing"], lambda m, t: t.sum(dim=5), [x()]),
    }


@pytest.mark.parametrize("aspect", sorted(_planted_cases()))
def test_oracle_detects_planted_difference(aspect):
    """The oracle itself can fail: a deliberately planted difference of each kind is reported as that aspect."""
    spec, case = _planted_cases()[aspect]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = {mm.aspect for mm in run_case(spec, case)}
    assert aspect in found, (aspect, found)
    same_spec, _ = _planted("same", lambda m, t: t * 2, lambda m, t: t * 2, [])
    assert run_case(same_spec, case) == []
