"""Cross-entropy from logits, forward + backward, ember vs PyTorch CPU in one process (float32, same threads).

Shapes: (128, 10) (a small classifier's batch: per-call overhead dominates) and (4096, 1000) (ImageNet-sized
logits: memory traffic dominates), each plain and with label_smoothing=0.1.  The two libraries are timed in
alternation rounds and the medians compared; the ratio is ember time / torch time (lower is better).

    python benchmarks/bench_loss.py [--threads 2] [--repeat 9]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ember  # noqa: E402


def _step(lib, x, y, ls):
    def run():
        x.grad = None
        loss = lib.nn.functional.cross_entropy(x, y, label_smoothing=ls)
        loss.backward()
    return run


def _time(fn, number):
    t = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t) / number


def bench(shape, ls, repeat):
    rng = np.random.default_rng(0)
    xa = rng.standard_normal(shape).astype(np.float32)
    ya = rng.integers(0, shape[1], shape[0])
    fe = _step(ember, ember.tensor(xa, requires_grad=True), ember.tensor(ya), ls)
    ft = _step(torch, torch.tensor(xa, requires_grad=True), torch.tensor(ya), ls)
    fe(), ft()                                                   # warm-up
    number = max(1, int(0.05 / max(_time(ft, 3), 1e-7)))        # ~50 ms of torch work per round
    te, tt = [], []
    for _ in range(repeat):                                      # alternate so noise hits both alike
        te.append(_time(fe, number))
        tt.append(_time(ft, number))
    return statistics.median(te), statistics.median(tt)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=9)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    print(f"cross_entropy forward+backward, float32, {a.threads} torch threads, median of {a.repeat} rounds")
    print("| case                              |  ember (ms) |  torch (ms) |  ratio |")
    print("|-----------------------------------|-------------|-------------|--------|")
    for shape in [(128, 10), (4096, 1000)]:
        for ls in (0.0, 0.1):
            te, tt = bench(shape, ls, a.repeat)
            name = f"{shape}" + (f" label_smoothing={ls}" if ls else "")
            print(f"| {name:<33} | {te * 1e3:>11.3f} | {tt * 1e3:>11.3f} | {te / tt:>6.2f} |")


if __name__ == "__main__":
    main()
