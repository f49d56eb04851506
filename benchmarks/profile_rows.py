"""Where ember's time goes in benchmark rows: a cProfile of each workload, as a Markdown table per row.

    python benchmarks/profile_rows.py [--only SUBSTRING ...] [--threads 1] [--seconds 3] [--top 10]

Each row runs in a fresh process (threads fixed before NumPy loads), warms up with a few calls, then profiles
calls for about ``--seconds``.  The table lists the functions with the most *own* time (cProfile's tottime):
time spent in that function's body, which for ember's kernels is the NumPy work they call (NumPy's ufuncs and
operators do not show up as separate entries; BLAS calls made through ``numpy.matmul``/``dot`` as functions do,
named ``{numpy...}``).  cProfile adds a per-call cost, so rows made of many tiny ops read heavier in Python than
they are; the split between kernels is what it is for.  With no ``--only``, the rows slower than PyTorch in the
README's table (at 1 or 2 threads) are profiled.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# the rows of the README's table above 1.0x (ember slower than PyTorch) at 1 or 2 threads, 2026-12-06 20:14 UTC
SLOWER = ["per-op overhead, 7-op", "matmul 1024", "conv2d fwd+bwd 64x32x26x26", "batch_norm (training)",
          "cross_entropy fwd+bwd, logits 4096", "MLP 784-512-256-10, batch 128, SGD momentum step",
          "LeNet-5, batch 64, training step", "LeNet-5, batch 1, inference",
          "MLP 784-512-256-10, batch 1, inference, ember.compile",
          "MLP 784-512-256-10, batch 128, SGD momentum training step, compiled", "eager loop around",
          "CNN with batch norm", "ResNet-18", "dense autoencoder", "LSTM h128", "GRU h128",
          "two LSTMCells in a Python loop, float64", "time-sequence",
          "two RNNCells in a Python loop, float64"]


def _short(key) -> str:
    path, line, name = key
    if path == "~":
        return name                                            # a C function: {built-in method ...}
    path = os.path.relpath(path, ROOT) if path.startswith(ROOT) else os.path.basename(path)
    return f"{path}:{line} {name}"


def child(name: str, seconds: float, top: int) -> None:
    import cProfile
    import pstats
    import time
    sys.path[:0] = [HERE, ROOT]
    import ember as T
    from workloads import WORKLOADS
    T.manual_seed(0)
    step, _ = WORKLOADS[name][0](T)
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < seconds / 3 or n < 3:      # calls for about a third of the time, unprofiled
        step()
        n += 1
    per_call = (time.perf_counter() - t0) / n
    calls = max(3, int(seconds / per_call / 2))
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        step()
    prof.disable()
    st = pstats.Stats(prof)
    total = sum(v[2] for v in st.stats.values())
    rows = sorted(((v[2], v[1], k) for k, v in st.stats.items()), reverse=True)[:top]
    print(json.dumps({"name": name, "ms_per_call": per_call * 1e3, "calls": calls,
                      "functions": len(st.stats),
                      "rows": [[_short(k), tt / total, nc / calls] for tt, nc, k in rows]}))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="substrings of the row names to profile")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(a.child, a.seconds, a.top)
        return
    sys.path.insert(0, HERE)
    from workloads import WORKLOADS
    wanted = a.only if a.only else SLOWER
    names = [n for n in WORKLOADS if any(w in n for w in wanted)]
    if not names:
        raise SystemExit(f"profile_rows: no workload name contains any of {wanted}")
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(a.threads)
    print(f"cProfile of ember's side of each row, {a.threads} thread(s): own time (tottime) per function, "
          f"as a share of the profiled time; 'calls' is per step.  "
          f"`python benchmarks/profile_rows.py --threads {a.threads}`\n")
    for name in names:
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name, "--seconds",
                            str(a.seconds), "--top", str(a.top)], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"### {name}\n\nfailed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}\n")
            continue
        d = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"### {name}\n\n{d['ms_per_call']:.3f} ms per step unprofiled; {d['calls']} steps profiled, "
              f"{d['functions']} functions.\n")
        print("| own time | calls/step | function |\n|---:|---:|---|")
        for fn, share, per in d["rows"]:
            print(f"| {share * 100:.1f}% | {per:g} | `{fn}` |")
        print()


if __name__ == "__main__":
    main()
