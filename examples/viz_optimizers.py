"""Every ember.optim optimizer on Rosenbrock, Beale, a saddle and Himmelblau (paths on contour plots, and an
animated GIF of Rosenbrock), then the learning-rate range test (Smith, 2017) of a small MLP on the 8x8 digits.

Writes docs/viz/optimizer_paths.png, docs/viz/rosenbrock.gif and docs/viz/lr_range.png.
Run:  python examples/viz_optimizers.py [--steps 300] [--out docs/viz] [--quick]
"""
import argparse
import os

import numpy as np

import ember
import ember.nn as nn
from ember.viz import TEST_FUNCTIONS, animate_paths, lr_range_test, optimizer_paths, plot_lr_range
from ember.viz.optim_paths import _contours, path_colour


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "viz"))
    ap.add_argument("--quick", action="store_true", help="20 steps, a short range test (a smoke test)")
    args = ap.parse_args()
    if args.quick:
        args.steps = 20
    os.makedirs(args.out, exist_ok=True)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 10))
    all_paths = {}
    for ax, name in zip(axes.ravel(), TEST_FUNCTIONS):
        paths = optimizer_paths(name, steps=args.steps)
        all_paths[name] = paths
        spec = TEST_FUNCTIONS[name]
        _contours(ax, spec)
        for i, (opt, pts) in enumerate(paths.items()):
            ax.plot(pts[:, 0], pts[:, 1], "-", color=path_colour(i), lw=1.3, label=opt)
            f_end = float(spec["f"](*pts[-1]))
            print(f"{name:10s} {opt:13s} {len(pts) - 1:4d} steps, ends at ({pts[-1][0]:+.3f}, {pts[-1][1]:+.3f}),"
                  f" f = {f_end:.3g}")
        ax.set_title(name)
    axes[0, 0].legend(fontsize=7, loc="lower right", framealpha=0.85)
    fig.suptitle(f"ember.optim on 2-D test functions, {args.steps} steps from the ring; stars: minima", fontsize=11)
    fig.tight_layout()
    out = os.path.join(args.out, "optimizer_paths.png")
    fig.savefig(out, dpi=70)
    plt.close(fig)
    from PIL import Image            # a 256-colour palette PNG: a sixth of the size, the same to the eye
    Image.open(out).convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(out, optimize=True)
    pick = {k: all_paths["rosenbrock"][k] for k in ("SGD", "SGD momentum", "RMSprop", "Adam", "LBFGS")}
    animate_paths("rosenbrock", pick, os.path.join(args.out, "rosenbrock.gif"), frames=4 if args.quick else 24,
                  dpi=75)

    from sklearn.datasets import load_digits
    d = load_digits()
    x = ember.tensor(((d.data / 16.0) - 0.3).astype(np.float32))
    y = ember.tensor(d.target.astype(np.int64))
    loader = ember.data.DataLoader(ember.data.TensorDataset(x, y), batch_size=64, shuffle=True)
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    res = lr_range_test(model, nn.CrossEntropyLoss(), loader,
                        lambda ps, lr: ember.optim.SGD(ps, lr=lr, momentum=0.9), start_lr=1e-4, end_lr=10.0,
                        num_iter=20 if args.quick else 150)
    print(f"LR range test (SGD momentum 0.9): stopped at lr {res['lrs'][-1]:.3g}, suggested lr {res['suggested']:.3g}")
    plot_lr_range(res, os.path.join(args.out, "lr_range.png"),
                  title="LR range test: MLP on digits, SGD momentum 0.9")


if __name__ == "__main__":
    main()
