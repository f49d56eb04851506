"""Hopfield network: store binary patterns with Hebb's rule, recall them from 20%-corrupted copies.

Run:  python examples/hopfield.py [--out DIR]   (saves a PNG of stored / corrupted / recalled patterns)
"""
from _common import parse_args, savefig

import numpy as np

import ember
from ember.data.datasets.synthetic import flip_bits, make_binary_patterns
from ember.models import HopfieldNetwork


def main():
    args = parse_args(__doc__)
    ember.manual_seed(args.seed)
    gen = ember.Generator().manual_seed(args.seed)
    side = 10
    n_units, n_patterns = side * side, 3 if args.quick else 6
    patterns = make_binary_patterns(n_patterns, n_units, generator=gen)     # (6, 100) of +1/-1
    net = HopfieldNetwork(n_units)
    net.store(ember.tensor(patterns))

    corrupted = flip_bits(patterns, 0.2, generator=gen)                      # 20 random bits per pattern
    recalled = net(ember.tensor(corrupted)).numpy()
    exact = (recalled == patterns).all(axis=1)
    flips = int((corrupted != patterns).sum(1)[0])
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
