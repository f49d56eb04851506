"""A fully convolutional segmentation net on synthetic shapes: each 32x32 image holds a disc, a square or
both, and every pixel is labelled background / disc / square.  Target: mean IoU >= 0.9 on test images.

Run:  python examples/segmentation.py [--out DIR]
"""
from _common import parse_args, savefig, Timer

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F


def make_shapes(n, rng, size=32):
    yy, xx = np.mgrid[:size, :size]
    x = rng.normal(0, 0.2, (n, 1, size, size)).astype(np.float32)
    mask = np.zeros((n, size, size), np.int64)
    for i in range(n):
        if rng.random() < 0.8:
            cy, cx, r = rng.integers(8, 24), rng.integers(8, 24), rng.integers(4, 8)
            disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            mask[i][disc] = 1
        if rng.random() < 0.8:
            y0, x0, s = rng.integers(2, 20), rng.integers(2, 20), rng.integers(5, 10)
            mask[i, y0:y0 + s, x0:x0 + s] = 2
        x[i, 0][mask[i] > 0] += 1.0     # both shapes equally bright: the net must use their form
    return x, mask


def fcn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1, stride=2), nn.BatchNorm2d(32), nn.ReLU(),        # 16x16
        nn.Conv2d(32, 32, 3, padding=2, dilation=2), nn.BatchNorm2d(32), nn.ReLU(),     # wider context
        nn.ConvTranspose2d(32, 16, 2, stride=2), nn.ReLU(),                               # back to 32x32
        nn.Conv2d(16, 3, 1))                                                              # per-pixel logits


def mean_iou(pred, mask, k=3):
    ious = []
    for c in range(k):
        inter = np.logical_and(pred == c, mask == c).sum()
        union = np.logical_or(pred == c, mask == c).sum()
        if union:
            ious.append(inter / union)
    return float(np.mean(ious))


def main():
    args = parse_args(__doc__, epochs=(int, 12, "training epochs"))
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x, m = make_shapes(128 if args.quick else 3000, rng)
    xt, mt = make_shapes(300, rng)
    model = fcn()
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    X, M = ember.tensor(x), ember.tensor(m)
    epochs = 1 if args.quick else args.epochs
    with Timer() as t:
        for epoch in range(epochs):
            model.train()
            perm = ember.randperm(len(x))
            for i in range(0, len(x), 32):
                idx = perm[i:i + 32]
                opt.zero_grad()
                loss = F.cross_entropy(model(X[idx]), M[idx])       # N-d cross-entropy: (N, C, H, W)
                loss.backward()
                opt.step()
            model.eval()
            with ember.no_grad():
                pred = model(ember.tensor(xt)).argmax(1).numpy()
            print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test mean IoU {mean_iou(pred, mt):.3f}")
    miou = mean_iou(pred, mt)
    print(f"FCN segmentation: test mean IoU {miou:.3f} ({'meets' if miou >= 0.9 else 'below'} the 0.9 target), "
          f"{epochs} epochs in {t.seconds:.0f}s")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(3, 6, figsize=(10, 5.5))
    for j in range(6):
        for i, (img, title) in enumerate([(xt[j, 0], "input"), (mt[j], "truth"), (pred[j], "prediction")]):
            axes[i, j].imshow(img, cmap="gray" if i == 0 else "viridis", vmin=None if i == 0 else 0, vmax=None if i == 0 else 2)
            axes[i, j].axis("off")
            if j == 0:
                axes[i, j].set_title(title, loc="left")
    savefig(fig, args.out / "segmentation.png")


if __name__ == "__main__":
    main()
