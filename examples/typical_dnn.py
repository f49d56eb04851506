"""The lectures' "typical DNN": conv/pool stacks with 1x1 convolutions and a fully connected head, on
3x32x32 synthetic images.  Prints every layer's parameter count next to the lecture's formula
(conv: (k*k*C_in + 1) * C_out; fully connected: (n_in + 1) * n_out) and trains a few epochs.

Run:  python examples/typical_dnn.py
"""
from _common import parse_args, Timer

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F


def typical_dnn(num_classes=4):
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 8, 1), nn.ReLU(),                  # 1x1 conv: mixes channels, shrinks depth
        nn.MaxPool2d(2),
        nn.Conv2d(8, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 16, 1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),   # strided conv instead of pooling
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
        nn.Linear(64, num_classes),
    )


def formula(layer):
    if isinstance(layer, nn.Conv2d):
        k = layer.kernel_size[0] * layer.kernel_size[1]
        return (k * layer.in_channels + 1) * layer.out_channels, \
            f"({layer.kernel_size[0]}*{layer.kernel_size[1]}*{layer.in_channels}+1)*{layer.out_channels}"
    if isinstance(layer, nn.Linear):
        return (layer.in_features + 1) * layer.out_features, f"({layer.in_features}+1)*{layer.out_features}"
    return 0, "-"


def synthetic(n, rng):
    """Four classes of 3x32x32 images: a bright square in one of the four quadrants, plus noise."""
    y = rng.integers(0, 4, n)
    x = rng.normal(0, 0.3, (n, 3, 32, 32)).astype(np.float32)
    for i, c in enumerate(y):
        r, q = divmod(int(c), 2)
        x[i, c % 3, 16 * r + 4:16 * r + 12, 16 * q + 4:16 * q + 12] += 1.0
    return x, y


def main():
    args = parse_args(__doc__, epochs=(int, 3, "training epochs"))
    ember.manual_seed(args.seed)
    model = typical_dnn()
    print(f"{'layer':<14} {'output shape':<16} {'params':>8}  {'formula':<22} check")
    total = 0
    h = ember.zeros(1, 3, 32, 32)
    with ember.no_grad():
        for name, layer in model.named_children():
            h = layer(h)
            n = sum(p.numel() for p in layer.parameters())
            f, text = formula(layer)
            total += n
            print(f"{name + ' ' + type(layer).__name__:<14} {str(tuple(h.shape[1:])):<16} {n:>8}  {text:<22} "
                  f"{('ok' if n == f else 'MISMATCH') if n else ''}")
    print(f"{'total':<31} {total:>8}")

    rng = np.random.default_rng(args.seed)
    x, y = synthetic(256 if args.quick else 4000, rng)
    xt, yt = synthetic(500, rng)
    opt = ember.optim.Adam(model.parameters(), lr=2e-3)
    X, Y = ember.tensor(x), ember.tensor(y)
    epochs = 1 if args.quick else args.epochs
    with Timer() as t:
        for epoch in range(epochs):
            perm = ember.randperm(len(x))
            for i in range(0, len(x), 64):
                idx = perm[i:i + 64]
                opt.zero_grad()
                loss = F.cross_entropy(model(X[idx]), Y[idx])
                loss.backward()
                opt.step()
            with ember.no_grad():
                acc = float((model(ember.tensor(xt)).argmax(1) == ember.tensor(yt)).float().mean())
            print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy {acc:.1%}")
    print(f"typical DNN trains: test accuracy {acc:.1%} in {t.seconds:.0f}s")


if __name__ == "__main__":
    main()
