"""Time one workload in one library, in this (fresh) process, and print one JSON line.

    python benchmarks/worker.py --lib ember|torch --bench NAME [--threads 2] [--repeat 5] [--min-time 0.25]
                                [--device cpu|cuda] [--serve]

The thread count is fixed before NumPy or torch is imported (OMP/OpenBLAS/MKL variables, then
``torch.set_num_threads``).  After one warm-up call and a calibration, ``repeat`` blocks of calls are timed, each
lasting at least ``min-time`` seconds; the per-call times of the blocks give the median and the spread.  ``rss``
is the peak resident memory growth (MiB) from the end of the set-up to the end of the first calls: what a step
allocates at its peak.  With ``--device cuda`` the workload is built under ``set_default_device("cuda")`` (its
model, data and optimizer state on the GPU) and every timed call ends with ``cuda.synchronize()``.  With
``--serve`` the blocks are timed one at a time, when a "block" line arrives on stdin, so that
``run_all.py --interleave`` can alternate them with the other library's blocks.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", choices=("ember", "torch"), required=True)
    ap.add_argument("--bench", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.25)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--serve", action="store_true",
                    help="after the warm-up and calibration, time one block per 'block' line read from stdin "
                         "(printing its per-call seconds), until 'done' (run_all.py --interleave)")
    a = ap.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import resource
    import numpy as np
    if a.lib == "torch":
        import torch as T
        T.set_num_threads(a.threads)
    else:
        import ember as T
    T.manual_seed(0)
    from workloads import WORKLOADS
    make, _ = WORKLOADS[a.bench]
    if a.device == "cuda":
        T.set_default_device("cuda")
        run, n_ops = make(T)
        sync = T.cuda.synchronize

        def step():
            run()
            sync()
    else:
        step, n_ops = make(T)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    step()                                                  # warm-up (first-call allocations, caches)
    first = time.perf_counter() - t
    number = 1
    while True:                                             # calls per block so that a block lasts min_time
        t = time.perf_counter()
        for _ in range(number):
            step()
        dt = time.perf_counter() - t
        if dt >= a.min_time:
            break
        number = max(number + 1, int(number * a.min_time / max(dt, 1e-9) * 1.1))
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def block():
        t = time.perf_counter()
        for _ in range(number):
            step()
        return (time.perf_counter() - t) / number / n_ops

    if a.serve:         # blocks on request: the caller alternates them with another library's (run_all.py)
        print(json.dumps({"ready": True}), flush=True)
        times = []
        for line in sys.stdin:
            if line.strip() != "block":
                break
            times.append(block())
            print(json.dumps({"block": times[-1]}), flush=True)
    else:
        times = [block() for _ in range(a.repeat)]
    blocks = list(times)                                    # in the order timed
    times.sort()
    blas = None
    try:
        from threadpoolctl import threadpool_info
        pools = [f"{p.get('internal_api')} {p.get('version')} x{p.get('num_threads')}" for p in threadpool_info()
                 if p.get("user_api") == "blas"]
        blas = ", ".join(pools) or None
    except ImportError:
        pass
    print(json.dumps({"lib": a.lib, "bench": a.bench, "median": float(np.median(times)), "min": times[0],
                      "max": times[-1], "blocks": blocks, "calls_per_block": number, "first_call": first,
                      "rss_mib": (rss1 - rss0) / 1024, "version": T.__version__, "numpy": np.__version__,
                      "blas": blas, "threads": a.threads, "device": a.device}))


if __name__ == "__main__":
    main()
