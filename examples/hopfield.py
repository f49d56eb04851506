"""Hopfield network: store binary patterns with Hebb's rule, recall them from 20%-corrupted copies.

Run:  python examples/hopfield.py [--out DIR]   (saves a PNG of stored / corrupted / recalled patterns)
"""
from _common import parse_args, savefig

import numpy as np

import ember
from ember.models.hopfield import HopfieldNetwork


def main():
    args = parse_args(__doc__)
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    side = 10
    n_units, n_patterns = side * side, 3 if args.quick else 6
    patterns = np.where(rng.random((n_patterns, n_units)) < 0.5, -1.0, 1.0).astype(np.float32)
    net = HopfieldNetwork(n_units)
    net.store(ember.tensor(patterns))

    corrupted = patterns.copy()
    flips = int(0.2 * n_units)
    for p in corrupted:
        idx = rng.choice(n_units, flips, replace=False)
        p[idx] *= -1
    recalled = net(ember.tensor(corrupted)).numpy()
    exact = (recalled == patterns).all(axis=1)
    print(f"{n_units} units, {n_patterns} patterns, {flips} of {n_units} bits flipped ({flips / n_units:.0%})")
    print(f"recalled exactly: {int(exact.sum())}/{n_patterns}; bit accuracy {np.mean(recalled == patterns):.1%}")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(3, n_patterns, figsize=(1.6 * n_patterns, 5))
    for j in range(n_patterns):
        for i, (row, name) in enumerate([(patterns, "stored"), (corrupted, "20% flipped"), (recalled, "recalled")]):
            ax = axes[i, j]
            ax.imshow(row[j].reshape(side, side), cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([]); ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(name)
    savefig(fig, args.out / "hopfield.png")


if __name__ == "__main__":
    main()
