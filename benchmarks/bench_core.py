"""Core overhead: per-op cost of a small expression on tiny tensors (forward + backward), and a large
matmul + backward, ember vs PyTorch CPU in one run.  Prints a table of times and ratios (ember / torch).

    python benchmarks/bench_core.py
"""
from __future__ import annotations

import numpy as np
import torch

import ember
from _common import fmt_row, header, set_threads, timeit


def small_expression(lib, a, b, c):
    # 8 recorded ops: mul, add, tanh, mul, sub, exp, sum, and the backward through them
    y = ((a * b + c).tanh() * a - b).exp().sum()
    y.backward()


def run() -> list[tuple[str, float, float]]:
    rows = []
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal((4, 4)).astype(np.float32) for _ in range(3)]
    ea = [ember.tensor(x, requires_grad=True) for x in arrs]
    ta = [torch.tensor(x, requires_grad=True) for x in arrs]
    n_ops = 7
    te = timeit(lambda: small_expression(ember, *ea))
    tt = timeit(lambda: small_expression(torch, *ta))
    rows.append((f"per-op overhead, fwd+bwd (4x4, per op)", te / n_ops, tt / n_ops))

    def fwd_only(lib_ops, a, b):
        return (a * b + b).relu()
    with ember.no_grad():
        te = timeit(lambda: fwd_only(ember, ea[0], ea[1]))
    with torch.no_grad():
        tt = timeit(lambda: fwd_only(torch, ta[0], ta[1]))
    rows.append(("per-op overhead, forward under no_grad (per op)", te / 3, tt / 3))

    big = [rng.standard_normal((1024, 1024)).astype(np.float32) for _ in range(2)]
    eb = [ember.tensor(x, requires_grad=True) for x in big]
    tb = [torch.tensor(x, requires_grad=True) for x in big]

    def mm(lib, a, b):
        (a @ b).sum().backward()
    te = timeit(lambda: mm(ember, *eb), repeat=5)
    tt = timeit(lambda: mm(torch, *tb), repeat=5)
    rows.append(("matmul 1024x1024 fwd+bwd", te, tt))
    return rows


if __name__ == "__main__":
    n = set_threads()
    print(f"threads: {n}")
    print(header())
    for r in run():
        print(fmt_row(*r))
