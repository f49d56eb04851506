"""Loss landscapes of a deep MLP on the 8x8 digits, with and without skip connections (Li et al., 2018): the
2-D surface around the trained weights along two filter-normalized random directions, the 1-D line from the
initial to the trained weights, and the training trajectory on its two principal directions.

Writes docs/viz/landscape_skip.png, docs/viz/landscape_line.png and docs/viz/landscape_trajectory.png.
Run:  python examples/viz_landscape.py [--epochs 6] [--depth 10] [--steps 15] [--out docs/viz] [--quick]
"""
import argparse
import os

import numpy as np

import ember
import ember.nn as nn
from ember.train.diagnostics import snapshot_weights
from ember.viz import interpolate_1d, plot_trajectory, surface_2d


class Net(nn.Module):
    """depth hidden blocks of Linear(32, 32) + ReLU, each added to its input when ``skip``; He init (the blocks
    of the residual net scaled down by sqrt(depth) so that the sum of the branches keeps its scale)."""

    def __init__(self, depth, skip):
        super().__init__()
        self.skip = skip
        self.inp = nn.Linear(64, 32)
        self.blocks = nn.ModuleList([nn.Linear(32, 32) for _ in range(depth)])
        self.out = nn.Linear(32, 10)
        for lin in [self.inp, *self.blocks]:
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)
        if skip:
            with ember.no_grad():
                for b in self.blocks:
                    b.weight.mul_(1.0 / depth ** 0.5)

    def forward(self, x):
        h = self.inp(x).relu()
        for b in self.blocks:
            h = h + b(h).relu() if self.skip else b(h).relu()
        return self.out(h)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "viz"))
    ap.add_argument("--quick", action="store_true", help="2 epochs of a 3-block net, 5 x 5 grids (a smoke test)")
    args = ap.parse_args()
    if args.quick:
        args.epochs, args.depth, args.steps = 2, 3, 5
    os.makedirs(args.out, exist_ok=True)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_digits
    d = load_digits()
    x = ember.tensor(((d.data / 16.0) - 0.3).astype(np.float32))
    y = ember.tensor(d.target.astype(np.int64))
    loader = ember.data.DataLoader(ember.data.TensorDataset(x, y), batch_size=64, shuffle=True)
    subset = (x[:256], y[:256])                    # the landscapes are evaluated on 256 samples
    loss_fn = nn.CrossEntropyLoss()

    fig = plt.figure(figsize=(10, 4.2))
    trained = {}
    for i, skip in enumerate((False, True)):
        ember.manual_seed(0)
        model = Net(args.depth, skip)
        init = snapshot_weights(model)
        snaps = [init]
        opt = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        for _ in range(args.epochs):
            for xb, yb in loader:
                opt.zero_grad()
                loss_fn(model(xb), yb).backward()
                opt.step()
            snaps.append(snapshot_weights(model))
        trained[skip] = (model, init, snaps)
        before = snapshot_weights(model)
        xs, ys, z = surface_2d(model, loss_fn, subset, span=(-1.0, 1.0), steps=args.steps, seed=1)
        assert all(np.array_equal(before[k], p.detach().numpy()) for k, p in model.named_parameters())
        name = "with skip connections" if skip else "without skip connections"
        print(f"{name}: loss at the centre {z[args.steps // 2, args.steps // 2]:.3f}, "
              f"min {z.min():.3f}, max {z.max():.3f} on [-1, 1]^2")
        ax = fig.add_subplot(1, 2, i + 1)
        X, Y = np.meshgrid(xs, ys)
        lz = np.log10(z)
        cs = ax.contourf(X, Y, lz, levels=25, cmap="viridis")
        ax.contour(X, Y, lz, levels=25, colors="k", linewidths=0.3, alpha=0.5)
        fig.colorbar(cs, ax=ax, label="log10 loss")
        ax.plot([0], [0], "r*", ms=10)
        ax.set(title=f"{args.depth + 2}-layer MLP {name}", xlabel="direction 1", ylabel="direction 2")
    fig.suptitle("loss around the trained weights along two filter-normalized random directions", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "landscape_skip.png"), dpi=75)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for skip, (model, init, snaps) in trained.items():
        a, losses = interpolate_1d(model, loss_fn, subset, init, model, steps=31)
        ax.semilogy(a, losses, "-", label="skip" if skip else "no skip")
    for a0, name in ((0.0, "init"), (1.0, "trained")):
        ax.axvline(a0, color="grey", ls=":", lw=1)
        ax.annotate(name, (a0, ax.get_ylim()[1]), ha="center", va="top", fontsize=8)
    ax.set(xlabel="interpolation coefficient a", ylabel="loss (log scale)",
           title="loss from the initial (a=0) to the trained weights (a=1)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "landscape_line.png"), dpi=80)
    plt.close(fig)

    model, init, snaps = trained[True]
    plot_trajectory(model, loss_fn, subset, snaps, os.path.join(args.out, "landscape_trajectory.png"),
                    steps=args.steps, log=True)


if __name__ == "__main__":
    main()
