"""Shared timing helpers for the side-by-side ember vs PyTorch benchmarks (never assertions, only ratios)."""
from __future__ import annotations

import os
import statistics
import time


def set_threads(n: int | None = None) -> int:
    """Give both libraries the same number of threads (the machine's cores by default)."""
    import torch
    n = n or int(os.environ.get("EMBER_BENCH_THREADS", os.cpu_count() or 1))
    torch.set_num_threads(n)
    try:    # NumPy's BLAS pool (ember's threads); without threadpoolctl, set OPENBLAS_NUM_THREADS instead
        from threadpoolctl import threadpool_limits
        threadpool_limits(n, user_api="blas")
    except ImportError:
        pass
    return n


def timeit(fn, repeat: int = 7, number: int | None = None, min_time: float = 0.2) -> float:
    """Median seconds per call of ``fn`` over ``repeat`` rounds (calls per round chosen to last ~min_time)."""
    fn()  # warm-up
    if number is None:
        number = 1
        while True:
            t = time.perf_counter()
            for _ in range(number):
                fn()
            dt = time.perf_counter() - t
            if dt >= min_time / 4 or number >= 1 << 16:
                number = max(1, int(number * (min_time / 4) / max(dt, 1e-9)) or 1)
                break
            number *= 4
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return statistics.median(times)


def fmt_row(name: str, t_ember: float, t_torch: float) -> str:
    return f"| {name:<66} | {t_ember * 1e3:>10.3f} | {t_torch * 1e3:>10.3f} | {t_ember / t_torch:>6.2f} |"


def header() -> str:
    return (f"| {'benchmark':<66} | ember (ms) | torch (ms) |  ratio |\n"
            f"|{'-' * 68}|------------|------------|--------|")


def time_pair(f_ember, f_torch, repeat: int = 15) -> tuple[float, float]:
    """Median seconds of ``f_ember`` and ``f_torch`` timed in alternation (machine noise hits both alike)."""
    f_ember(), f_torch()
    te, tt = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f_ember()
        t1 = time.perf_counter()
        f_torch()
        te.append(t1 - t0)
        tt.append(time.perf_counter() - t1)
    return statistics.median(te), statistics.median(tt)
