"""What the health callbacks cost on an MNIST-sized epoch (784-512-256-10 ReLU MLP, batch 128, Adam; random
data of MNIST's shape, so it runs offline: the cost does not depend on the pixels).

On a shared machine two epochs' wall times differ by tens of percent, so besides the wall times (alternating
runs, medians) this measures the time spent inside the callbacks' hooks during the same epoch, which is not
disturbed by the noise: overhead = hook time / (epoch time - hook time).

Run:  python benchmarks/bench_viz_overhead.py [--samples 12000] [--repeats 3]
"""
import argparse
import functools
import statistics
import time

import numpy as np

import ember
import ember.nn as nn
from ember.data import DataLoader, TensorDataset
from ember.train import GradientHealth, Trainer, UnitHealth
from ember.train import diagnostics

SPENT = [0.0]


def _timed(fn):
    @functools.wraps(fn)
    def wrapper(*a, **k):
        t0 = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            SPENT[0] += time.perf_counter() - t0
    return wrapper


def instrument():
    """Time every hook the health callbacks run: the forward hooks, the optimizer step hooks and the epoch
    hooks."""
    make = diagnostics.ActivationStats._hook
    diagnostics.ActivationStats._hook = lambda self, acc: _timed(make(self, acc))
    for cls in (diagnostics.UnitHealth, diagnostics.GradientHealth):
        for name in ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end"):
            setattr(cls, name, _timed(getattr(cls, name)))
    diagnostics.GradientHealth._pre = _timed(diagnostics.GradientHealth._pre)
    diagnostics.GradientHealth._post = _timed(diagnostics.GradientHealth._post)


def epoch(loader, callbacks):
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    trainer = Trainer(model, nn.CrossEntropyLoss(), ember.optim.Adam(model.parameters(), lr=1e-3),
                      callbacks=callbacks)
    SPENT[0] = 0.0
    t0 = time.perf_counter()
    trainer.fit(loader, epochs=1, verbose=0)
    return time.perf_counter() - t0, SPENT[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=12000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="512 samples, one run each (a smoke test)")
    ap.add_argument("--out", help="(unused: this example only prints)")
    args = ap.parse_args()
    if args.quick:
        args.samples, args.repeats = 512, 1
    instrument()
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.random((args.samples, 784), dtype=np.float32))
    y = ember.tensor(rng.integers(0, 10, args.samples))
    loader = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True)
    variants = {
        "none": lambda: [],
        "UnitHealth": lambda: [UnitHealth(warn_dead=None)],
        "GradientHealth": lambda: [GradientHealth()],
        "GradientHealth(ratio_every=1)": lambda: [GradientHealth(ratio_every=1)],
        "both (defaults)": lambda: [UnitHealth(warn_dead=None), GradientHealth()],
    }
    runs = {k: [] for k in variants}
    epoch(loader, [])                      # warm-up
    for _ in range(args.repeats):
        for k, make in variants.items():
            runs[k].append(epoch(loader, make()))
    base = statistics.median(t for t, _ in runs["none"])
    print(f"{args.samples} samples, batch 128, {args.repeats} alternating runs each (medians):")
    print(f"  {'callbacks':31s} {'epoch':>8s} {'vs none':>8s} {'in hooks':>9s} {'overhead':>9s}")
    for k, rs in runs.items():
        t = statistics.median(r[0] for r in rs)
        h = statistics.median(r[1] for r in rs)
        share = statistics.median(r[1] / (r[0] - r[1]) for r in rs)
        print(f"  {k:31s} {t:7.2f}s {100 * (t / base - 1):+7.1f}% {h:8.3f}s {100 * share:8.1f}%")


if __name__ == "__main__":
    main()
