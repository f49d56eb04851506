"""Every op of the differential fuzzer on "cuda" tensors, against the same op on the CPU (see device_oracle).

On a machine without a GPU the "cuda" device is the NumPy-backed stand-in (``fake_cupy``): it refuses every
host array that meets a device array and every implicit transfer, so an op that leaves the device path fails
here on any machine.  ``DEVICE_EXAMPLES`` sets the number of cases per op (default 2, derandomized); the specs
in ``pending.PENDING`` are not on the device path yet and must fail (strict xfail).
"""
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.fuzz.specs import SPECS

from .device_oracle import run_device_case
from .pending import PENDING

_N = int(os.environ.get("DEVICE_EXAMPLES", "2"))
_SETTINGS = settings(max_examples=_N, derandomize=True, deadline=None, database=None,
                     suppress_health_check=list(HealthCheck))


def _param(spec):
    marks = [pytest.mark.xfail(strict=True, reason="not on the device path yet (tests/devices/pending.py)")] \
        if spec.name in PENDING else []
    return pytest.param(spec, id=spec.name, marks=marks)


@pytest.mark.parametrize("spec", [_param(s) for s in SPECS])
@_SETTINGS
@given(data=st.data())
def test_op_on_cuda(spec, data, cuda, exact):
    case = data.draw(spec.cases, label="case")
    diffs = run_device_case(spec, case, exact=exact)
    assert not diffs, f"{spec.name} on cuda differs from cpu:\n  " + "\n  ".join(diffs) + f"\ncase: {case!r}"


def test_pending_names_are_specs():
    names = {s.name for s in SPECS}
    assert not PENDING - names, f"pending.py names no spec: {sorted(PENDING - names)}"
