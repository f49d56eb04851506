"""A single-shot, YOLO-style grid detector on generated scenes (one to three coloured circles, squares and
triangles per 32x32 image): objectness, box regression and class per 8x8-pixel cell, then per-class
non-maximum suppression.  Target: mAP@0.5 >= 0.8 on held-out scenes.

Run:  python examples/detection.py [--epochs N] [--train N] [--out DIR]
"""
from _common import parse_args, savefig, Timer

import ember
from ember.models import GridDetector
from ember.vision.scenes import SHAPES, make_scenes
from ember.vision.metrics import mean_average_precision


def main():
    args = parse_args(__doc__, epochs=(int, 6, "training epochs"), train=(int, 3000, "training scenes"))
    ember.manual_seed(args.seed)
    train = make_scenes(64 if args.quick else args.train, min_objects=1, max_objects=3, seed=args.seed)
    test = make_scenes(32 if args.quick else 300, min_objects=1, max_objects=3, seed=20_000 + args.seed)
    model = GridDetector(num_classes=len(SHAPES), grid=4, image_size=32)
    opt = ember.optim.Adam(model.parameters(), lr=2e-3)
    X = ember.tensor(train.images)
    target = model.encode_targets(train.boxes, train.labels)
    Xt = ember.tensor(test.images)
    gt = list(zip(test.boxes, test.labels))
    epochs = 1 if args.quick else args.epochs
    with Timer() as t:
        for epoch in range(epochs):
            model.train()
            perm = ember.randperm(len(X))
            for i in range(0, len(X), 32):
                idx = perm[i:i + 32]
                opt.zero_grad()
                loss = model.loss(model(X[idx]), {k: v[idx] for k, v in target.items()})
                loss.backward()
                opt.step()
            model.eval()
            dets = model.detect(Xt)
            m = mean_average_precision(dets, gt, num_classes=len(SHAPES), iou_threshold=0.5)
            print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test mAP@0.5 {m:.3f}")
    m75 = mean_average_precision(dets, gt, num_classes=len(SHAPES), iou_threshold=0.75)
    print(f"grid detector: {len(X)} train / {len(Xt)} held-out scenes, {epochs} epochs in {t.seconds:.0f}s; "
          f"test mAP@0.5 {m:.3f} ({'meets' if m >= 0.8 else 'below'} the 0.8 target), mAP@0.75 {m75:.3f}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle
    except ImportError:
        return
    fig, axes = plt.subplots(3, 4, figsize=(10, 8))
    for j, ax in enumerate(axes.flat):
        ax.imshow(test.images[j].transpose(1, 2, 0))
        for (x1, y1, x2, y2) in test.boxes[j]:
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec="white", lw=1, ls=":"))
        boxes, scores, labels = dets[j]
        for (x1, y1, x2, y2), s, lab in zip(boxes, scores, labels):
            if s < 0.5:
                continue
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec="magenta", lw=1.5))
            ax.text(x1, y1 - 1, f"{SHAPES[lab]} {s:.2f}", color="magenta", fontsize=7)
        ax.axis("off")
    fig.suptitle("predicted boxes (magenta, score >= 0.5) and true boxes (white dotted)", fontsize=10)
    savefig(fig, args.out / "detection.png")


if __name__ == "__main__":
    main()
