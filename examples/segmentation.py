"""A fully convolutional segmentation net on synthetic shapes: each 32x32 image holds a disc, a square or
both, and every pixel is labelled background / disc / square.  Target: mean IoU >= 0.9 on test images.

Run:  python examples/segmentation.py [--out DIR]
"""
from _common import parse_args, savefig, Timer

import ember
import ember.nn.functional as F
from ember.data.datasets.synthetic import make_shapes
from ember.metrics import MeanIoU
from ember.models import FCN


def main():
    args = parse_args(__doc__, epochs=(int, 12, "training epochs"))
    ember.manual_seed(args.seed)
    gen = ember.Generator().manual_seed(args.seed)
    # a disc and/or a square, equally bright on noise: the net must tell them apart by their form
    x, m = make_shapes(128 if args.quick else 3000, size=32, generator=gen)     # (N, 1, 32, 32), (N, 32, 32)
    xt, mt = make_shapes(300, size=32, generator=gen)
    model = FCN(in_channels=1, num_classes=3)
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    X, M = ember.tensor(x), ember.tensor(m)
    miou = MeanIoU(num_classes=3)
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
                scores = model(ember.tensor(xt))                    # (300, 3, 32, 32) per-pixel logits
            miou.reset()
            miou.update(scores, mt)
            print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test mean IoU {miou.compute():.3f}")
    score = miou.compute()
    print(f"FCN segmentation: test mean IoU {score:.3f} ({'meets' if score >= 0.9 else 'below'} the 0.9 target), "
          f"{epochs} epochs in {t.seconds:.0f}s")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    pred = scores.argmax(1).numpy()
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
