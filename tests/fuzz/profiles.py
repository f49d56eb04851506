"""Hypothesis profiles for the differential fuzzer (applied to the fuzz tests only, never loaded globally).

- ``ci`` (the default, used by ``make test``): few examples per op, derandomized (the same cases every run,
  so a failure reproduces), no example database, no deadline.
- ``dev``: random cases, more examples: ``HYPOTHESIS_PROFILE=dev pytest tests/fuzz -n 0``.
- ``long`` (``make fuzz``): random cases, ``FUZZ_EXAMPLES`` examples per op (``make fuzz`` passes 3500: about
  35 minutes on two cores; 1500 without it); a known difference whose reproducer no longer differs fails
  the run (strict).
``FUZZ_EXAMPLES`` overrides the number of examples per op in any profile.  ``FUZZ_SIGNED_ZEROS=1`` also
compares the sign of zero results (outputs, not gradients): a survey, off by default, since PyTorch's own signs
differ between its scalar and vectorized kernels (float32 ``gelu(-0.0)`` is -0.0 alone, 0.0 in a longer tensor)
and between BLAS libraries (an empty or all-zero product).
"""
import os

from hypothesis import HealthCheck, settings

_common = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
_n = os.environ.get("FUZZ_EXAMPLES")
settings.register_profile("ci", max_examples=int(_n or 10), derandomize=True, **_common)
settings.register_profile("dev", max_examples=int(_n or 200), **_common)
settings.register_profile("long", max_examples=int(_n or 1500), **_common)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "dev", "long"):
    PROFILE = "ci"
FUZZ_SETTINGS = settings.get_profile(PROFILE)
STRICT = PROFILE == "long" or os.environ.get("FUZZ_STRICT") == "1"
SIGNED_ZEROS = os.environ.get("FUZZ_SIGNED_ZEROS") == "1"
