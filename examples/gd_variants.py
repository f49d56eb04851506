"""Batch, stochastic and mini-batch gradient descent side by side: the same model, loss and optimizer
(``ember.optim.SGD``); only the DataLoader's batch size changes (all N samples, 1 sample, 32 samples).

The task is a fixed synthetic linear regression (``make_linear_regression``: y = X w + b + noise, 8 features,
1,024 samples).  Each variant takes the same number of parameter updates; after every update the full-data
training loss is recorded.
Expect: batch GD descends smoothly but each update costs a full pass over the data; stochastic GD is noisy
and settles in a noise ball around the optimum; mini-batch sits in between.

    python examples/gd_variants.py [--quick] [--out DIR]
"""
from _common import parse_args, savefig

import numpy as np

import ember
import ember.nn as nn
from ember.data import DataLoader, TensorDataset
from ember.data.datasets.synthetic import make_linear_regression
from ember.models import LinearRegression

N, D = 1024, 8
VARIANTS = [   # name, batch size, learning rate (smaller steps for noisier gradients)
    ("batch (N=1024)", N, 0.1),
    ("stochastic (1)", 1, 0.01),
    ("mini-batch (32)", 32, 0.05),
]


def run(X, y, batch_size: int, lr: float, updates: int, seed: int) -> list[float]:
    """Train a fresh linear model with SGD for ``updates`` steps; return the full-data loss after each."""
    ember.manual_seed(seed)   # the same initial weights and the same shuffling for every variant
    model = LinearRegression(D)
    opt = ember.optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(ember.tensor(X), ember.tensor(y)), batch_size=batch_size, shuffle=True)
    Xa, ya = ember.tensor(X), ember.tensor(y)
    losses = []
    while len(losses) < updates:
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.mse_loss(model(xb), yb).backward()
            opt.step()
            with ember.no_grad():
                losses.append(float(nn.functional.mse_loss(model(Xa), ya)))
            if len(losses) == updates:
                break
    return losses


def main():
    args = parse_args(__doc__, updates=(int, 300, "parameter updates per variant"))
    updates = 10 if args.quick else args.updates
    X, y = make_linear_regression(N, n_features=D, noise=0.3, bias=0.5, seed=args.seed)   # float32, y (N, 1)
    # the best achievable loss (least squares with a bias) for reference
    A = np.hstack([X, np.ones((N, 1), np.float32)])
    theta, *_ = np.linalg.lstsq(A, y, rcond=None)
    best = float(np.mean((A @ theta - y) ** 2))
    results = {}
    for name, bs, lr in VARIANTS:
        results[name] = run(X, y, bs, lr, updates, args.seed)
        print(f"{name:<18} batch={bs:<5d} lr={lr:<5} final loss {results[name][-1]:.4f} after {updates} updates")
    print(f"{'least squares':<18} optimum loss {best:.4f}")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, losses in results.items():
        ax.plot(np.arange(1, len(losses) + 1), losses, label=name, lw=1.2)
    ax.axhline(best, color="gray", ls="--", lw=1, label="least-squares optimum")
    ax.set_yscale("log")
    ax.set_xlabel("parameter updates")
    ax.set_ylabel("full-data MSE")
    ax.set_title("Batch vs stochastic vs mini-batch gradient descent (ember.optim.SGD)")
    ax.legend()
    savefig(fig, args.out / "gd_variants.png")


if __name__ == "__main__":
    main()
