"""Survey tool (not a test): run every spec (or those matching the arguments) for N examples without stopping and
print each distinct (op, aspect) difference with one example case, marking the documented ones.

    .venv/bin/python -m tests.fuzz.survey [-n 30] [--all] [name-glob ...]
"""
from __future__ import annotations

import argparse
import fnmatch
import sys
import time
import warnings

from hypothesis import HealthCheck, given, settings, strategies as st

from .known_differences import explain
from .oracle import run_case
from .specs import SPECS


def survey(specs, n, derandomize, show_known):
    found = {}
    for spec in specs:
        t0 = time.perf_counter()

        @settings(max_examples=n, deadline=None, database=None, derandomize=derandomize,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def run(data):
            case = data.draw(spec.cases)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    mism = run_case(spec, case)
                except Exception as e:  # noqa: BLE001 - a harness error is worth seeing too
                    found.setdefault((spec.name, "HARNESS"), (f"{type(e).__name__}: {e}", case, None))
                    return
            for mm in mism:
                k = explain(spec.name, case, mm)
                if k is not None and not show_known:
                    continue
                key = (spec.name, mm.aspect)
                if key not in found:
                    print(f"# found {spec.name} [{mm.aspect}] {mm.detail[:200]}\n#   {case!r}"[:1500],
                          file=sys.stderr, flush=True)
                if key not in found or len(repr(case)) < len(repr(found[key][1])):
                    found[key] = (mm.detail, case, k.id if k else None)
        run()
        dt = time.perf_counter() - t0
        if dt > 2:
            print(f"# slow: {spec.name} {dt:.1f}s", file=sys.stderr)
    return found


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--random", action="store_true")
    ap.add_argument("--known", action="store_true", help="also list documented differences")
    ap.add_argument("--case", help="rerun the reproducer of this known-difference id and print what differs")
    ap.add_argument("--suggest", action="store_true", help="print each difference as a Known(...) entry")
    ap.add_argument("globs", nargs="*")
    a = ap.parse_args(argv)
    if a.case:
        from .known_differences import KNOWN, run_repro
        k = {k.id: k for k in KNOWN}[a.case]
        diffs = run_repro(k)
        print("\n".join(str(d) for d in diffs) or "no longer differs")
        return
    specs = [s for s in SPECS if not a.globs or any(fnmatch.fnmatchcase(s.name, g) for g in a.globs)]
    found = survey(specs, a.n, not a.random, a.known)
    for (name, aspect), (detail, case, kid) in sorted(found.items()):
        tag = f" (known: {kid})" if kid else ""
        if a.suggest and not kid:
            print(f"    Known({name + '-' + aspect!r}, ({name!r},), ({aspect!r},),\n"
                  f"          {detail[:160]!r},\n          case={repr(case)!r}),")
        else:
            print(f"{name} [{aspect}]{tag}: {detail[:300]}\n    {case!r}"[:1500])
    print(f"# {len(found)} distinct (op, aspect) differences", file=sys.stderr)


if __name__ == "__main__":
    main()
