"""A small CNN with batch norm, dropout and data augmentation on Fashion-MNIST.  Target: >= 91% test accuracy.

``ember.models.FashionCNN``: two conv blocks (conv 3x3 -> BatchNorm2d -> ReLU -> max-pool 2) with 32 and 64
channels, then dropout, a 128-unit hidden layer, dropout again and the 10-way classifier; Adam with a one-cycle
learning-rate schedule.

Augmentation is the classic pair ``RandomCrop(28, padding=2)`` + ``RandomHorizontalFlip()`` of
``ember.data.transforms``, applied here to a whole mini-batch of arrays at once (``augment`` below draws one
crop offset and one flip per image, exactly what the per-image transforms draw, without a Python loop over
images).  Pass ``--per-image 1`` to use the ``ember.data.transforms`` objects through a Dataset instead (slower).

    python examples/fashion_cnn.py [--epochs 6] [--quick] [--out DIR]
"""
from _common import parse_args, load_mnist_arrays, savefig, Timer, progress

import numpy as np

import ember
import ember.nn.functional as F
from ember.data import DataLoader, Dataset
from ember.data import transforms as T
from ember.models import FashionCNN

MEAN, STD = 0.2860, 0.3530          # Fashion-MNIST training-set pixel statistics
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def augment(x: np.ndarray, rng: np.random.Generator, pad: int = 2) -> np.ndarray:
    """RandomCrop(28, padding=pad) + RandomHorizontalFlip(0.5) for a batch (B, C, H, W) of arrays."""
    B, C, H, W = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))      # zero fill, as RandomCrop's default
    top = rng.integers(0, 2 * pad + 1, B)
    left = rng.integers(0, 2 * pad + 1, B)
    rows = (top[:, None] + np.arange(H))[:, None, :, None]             # (B, 1, H, 1)
    cols = (left[:, None] + np.arange(W))
    flip = rng.random(B) < 0.5
    cols = np.where(flip[:, None], cols[:, ::-1], cols)[:, None, None, :]   # (B, 1, 1, W)
    return padded[np.arange(B)[:, None, None, None], np.arange(C)[None, :, None, None], rows, cols]


class AugmentedFashion(Dataset):
    """The per-image route: each item goes through ``ember.data.transforms`` (crop, flip, normalize)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y
        self.transform = T.Compose([T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(),
                                    T.Normalize((MEAN,), (STD,))])

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i):
        return ember.tensor(self.transform(self.x[i])), int(self.y[i])


def batches(x, y, batch_size, rng):
    """Shuffled, augmented, normalized mini-batches as ember tensors (the batched augmentation route)."""
    perm = rng.permutation(len(x))
    for s in range(0, len(x), batch_size):
        idx = perm[s:s + batch_size]
        yield ember.tensor((augment(x[idx], rng) - MEAN) / STD), ember.tensor(y[idx])


def evaluate(model, x, y):
    model.eval()
    with ember.no_grad():
        pred = np.concatenate([model(ember.tensor((b - MEAN) / STD)).argmax(1).numpy()
                               for b in np.array_split(x, max(1, len(x) // 1000))])
    return float((pred == y).mean()), pred


def main():
    args = parse_args(__doc__, epochs=(int, 6, "training epochs"), batch_size=(int, 64, "mini-batch size"),
                      lr=(float, 3e-3, "peak learning rate of the one-cycle schedule"),
                      per_image=(int, 0, "1: augment with ember.data.transforms per image (slower)"))
    per_image = bool(args.per_image)
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    xtr, ytr, xte, yte = load_mnist_arrays("fashion", args.quick)
    model = FashionCNN(in_channels=1, num_classes=10, channels=(32, 64), hidden=128, dropout=0.2)
    n_params = sum(p.numel() for p in model.parameters())
    epochs = 1 if args.quick else args.epochs
    steps = -(-len(xtr) // args.batch_size)
    opt = ember.optim.Adam(model.parameters(), lr=args.lr)
    sched = ember.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=epochs * steps)
    loader = DataLoader(AugmentedFashion(xtr, ytr), batch_size=args.batch_size, shuffle=True) if per_image else None
    print(f"FashionCNN: {n_params:,} parameters, {epochs} epochs of {steps} steps, "
          f"{'per-image transforms' if per_image else 'batched augmentation'}")
    history = []
    with Timer() as t:
        for epoch in range(epochs):
            model.train()
            total, n = 0.0, 0
            data = loader if per_image else batches(xtr, ytr, args.batch_size, rng)
            for i, (xb, yb) in enumerate(progress(data, epoch, epochs, total=steps)):
                opt.zero_grad()
                loss = F.cross_entropy(model(xb), yb)
                loss.backward()
                opt.step()
                sched.step()
                total, n = total + loss.item(), n + 1
                if args.quick and i == 3:
                    break
            acc, _ = evaluate(model, xte, yte)
            history.append((total / n, acc))
            print(f"epoch {epoch + 1}: train loss {total / n:.4f}, test accuracy {acc:.2%}", flush=True)
    acc, pred = evaluate(model, xte, yte)
    print(f"CNN (batch norm, dropout, augmentation) on Fashion-MNIST: test accuracy {acc:.2%} after {epochs} epochs "
          f"in {t.seconds:.0f}s ({'meets' if acc >= 0.91 else 'below'} the 91% target)")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    cm = np.zeros((10, 10), np.int64)
    np.add.at(cm, (yte, pred), 1)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    ax = axes[0]
    ax.plot(range(1, epochs + 1), [h[1] for h in history], "o-", label="test accuracy")
    ax.axhline(0.91, color="gray", ls="--", lw=1, label="91% target")
    ax.set_xlabel("epoch"); ax.set_ylabel("test accuracy"); ax.legend(loc="center right"); ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(range(1, epochs + 1), [h[0] for h in history], "s--", color="tab:red")
    ax2.set_ylabel("train loss", color="tab:red")
    im = axes[1].imshow(cm, cmap="Blues")
    axes[1].set_xticks(range(10), CLASSES, rotation=60, ha="right", fontsize=8)
    axes[1].set_yticks(range(10), CLASSES, fontsize=8)
    axes[1].set_xlabel("predicted"); axes[1].set_ylabel("true"); axes[1].set_title("test confusion matrix")
    fig.colorbar(im, ax=axes[1])
    savefig(fig, args.out / "fashion_cnn.png")


if __name__ == "__main__":
    main()
