"""SGD, SGD with momentum, Adagrad, RMSprop and Adam compared on one fixed MLP task.

The task: classify scikit-learn's 8x8 Digits (``ember.data.datasets.Digits``, 1,437 training images) with a
64-64-10 MLP.  Every optimizer starts from the same initial weights and sees the same mini-batches (batch 64,
same shuffling seed) for the same number of updates; after every update the full training-set cross-entropy
is recorded together with the wall time spent so far (training steps only, the evaluation is not timed).
One PNG, two panels: loss vs updates and loss vs wall time.

Each optimizer runs at its best learning rate from the grid ``LRS`` (chosen by the final training loss of a
short sweep with the same budget of updates), so that the comparison is between methods, not between
lucky step sizes.  Wall times are the training steps only; on a loaded machine they include pauses.

    python examples/optimizers_compare.py [--updates 600] [--quick] [--out DIR]
"""
from _common import parse_args, savefig

import time

import numpy as np

import ember
import ember.nn.functional as F
from ember.data import DataLoader, TensorDataset
from ember.data.datasets import Digits
from ember.models import MLP

OPTIMIZERS = [   # name, constructor taking (params, lr)
    ("SGD", lambda p, lr: ember.optim.SGD(p, lr=lr)),
    ("SGD + momentum 0.9", lambda p, lr: ember.optim.SGD(p, lr=lr, momentum=0.9)),
    ("Adagrad", lambda p, lr: ember.optim.Adagrad(p, lr=lr)),
    ("RMSprop", lambda p, lr: ember.optim.RMSprop(p, lr=lr)),
    ("Adam", lambda p, lr: ember.optim.Adam(p, lr=lr)),
]
LRS = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]


def run(make_opt, lr: float, X, y, updates: int, seed: int, record: bool = True):
    """Train a fresh MLP for ``updates`` mini-batch steps; return (losses, cumulative seconds, train accuracy),
    the losses and times per update (only the final loss when ``record`` is False)."""
    ember.manual_seed(seed)                      # same initial weights and same batch order for every optimizer
    model = MLP(64, hidden=(64,), out_features=10)      # the fixed task's model: 64 -> 64 -> 10, ReLU
    opt = make_opt(model.parameters(), lr)
    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
    losses, times, elapsed = [], [], 0.0
    while len(losses) < updates:
        for xb, yb in loader:
            t0 = time.perf_counter()
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
            elapsed += time.perf_counter() - t0
            with ember.no_grad():
                last = record or len(times) == updates - 1
                losses.append(F.cross_entropy(model(X), y).item() if last else float("nan"))
            times.append(elapsed)
            if len(losses) == updates:
                break
    with ember.no_grad():
        acc = float((model(X).argmax(1) == y).float().mean())
    return np.array(losses), np.array(times), acc


def main():
    args = parse_args(__doc__, updates=(int, 600, "parameter updates per optimizer"))
    updates = 10 if args.quick else args.updates
    ds = Digits(train=True)
    X = ember.tensor(ds.data.numpy().reshape(len(ds.data), -1))
    y = ds.targets
    results = {}
    lrs = LRS[2:4] if args.quick else LRS
    for name, make_opt in OPTIMIZERS:
        sweep = {lr: run(make_opt, lr, X, y, updates, args.seed, record=False)[0][-1] for lr in lrs}
        lr = min(sweep, key=lambda k: sweep[k] if np.isfinite(sweep[k]) else np.inf)
        losses, times, acc = run(make_opt, lr, X, y, updates, args.seed)
        label = f"{name} (lr {lr:g})"
        results[label] = (losses, times)
        print(f"{label:<28} final train loss {losses[-1]:.4f} (train accuracy {acc:.1%}) after {updates} updates, "
              f"{times[-1]:.2f}s of steps;  sweep: " + ", ".join(f"{k:g}: {v:.3f}" for k, v in sweep.items()))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for name, (losses, times) in results.items():
        axes[0].plot(np.arange(1, len(losses) + 1), losses, label=name, lw=1.2)
        axes[1].plot(times, losses, label=name, lw=1.2)
    axes[0].set_xlabel("parameter updates (batch 64)")
    axes[1].set_xlabel("wall time of the training steps (s)")
    axes[0].set_ylabel("full training-set cross-entropy")
    for ax in axes:
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle("Optimizers on a fixed MLP task (64-64-10 on 8x8 Digits, same init and batches, best lr of a sweep each)")
    savefig(fig, args.out / "optimizers_compare.png")


if __name__ == "__main__":
    main()
