"""Rosenblatt's perceptron and logistic regression on linearly separable data, then XOR.

The perceptron rule converges on separable data and cannot solve XOR (no line separates it); a 2-layer
MLP trained with backpropagation solves XOR exactly.  Run:  python examples/perceptron.py
"""
from _common import parse_args

import numpy as np

import ember
import ember.nn as nn


def perceptron_train(X, y, epochs=100):
    """Rosenblatt's rule: w += y_i x_i for every misclassified sample (labels +-1).  Returns (w, b, converged)."""
    w = ember.zeros(X.shape[1])
    b = 0.0
    for epoch in range(epochs):
        errors = 0
        for xi, yi in zip(X, y):
            if yi * (float(xi @ w) + b) <= 0:
                w += yi * xi
                b += yi
                errors += 1
        if errors == 0:
            return w, b, True, epoch + 1
    return w, b, False, epochs


def main():
    args = parse_args(__doc__)
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    # two separable clouds
    n = 50 if args.quick else 200
    X = np.vstack([rng.normal(-2, 1, (n, 2)), rng.normal(2, 1, (n, 2))]).astype(np.float32)
    y = np.hstack([-np.ones(n), np.ones(n)]).astype(np.float32)
    X[np.abs(X.sum(1)) < 0.5] += 1.0 * np.sign(y[np.abs(X.sum(1)) < 0.5])[:, None]   # keep a margin
    Xt, yt = ember.tensor(X), ember.tensor(y)
    w, b, ok, epochs = perceptron_train(Xt, yt)
    acc = float((ember.where(Xt @ w + b > 0, 1.0, -1.0) == yt).float().mean())
    print(f"perceptron on separable data: converged={ok} after {epochs} epochs, accuracy {acc:.1%}")

    # logistic regression with BCE on the same data
    model = nn.Linear(2, 1)
    opt = ember.optim.SGD(model.parameters(), lr=0.5)
    target = ((yt + 1) / 2).reshape(-1, 1)
    for _ in range(20 if args.quick else 300):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(Xt), target)
        loss.backward()
        opt.step()
    acc = float(((model(Xt) > 0).float() == target).float().mean())
    print(f"logistic regression: loss {loss.item():.4f}, accuracy {acc:.1%}")

    # XOR: the perceptron fails, an MLP succeeds
    Xx = ember.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
    yx = ember.tensor([-1., 1., 1., -1.])
    _, _, ok, _ = perceptron_train(Xx, yx, epochs=100)
    w, b, _, _ = perceptron_train(Xx, yx, epochs=100)
    pred = ember.where(Xx @ w + b > 0, 1.0, -1.0)
    acc = float((pred == yx).float().mean())
    print(f"perceptron on XOR: converged={ok}, accuracy {acc:.0%} (a single line cannot separate XOR)")

    mlp = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = ember.optim.Adam(mlp.parameters(), lr=0.05)
    t = ((yx + 1) / 2).reshape(-1, 1)
    for _ in range(50 if args.quick else 500):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(mlp(Xx), t)
        loss.backward()
        opt.step()
    acc = float(((mlp(Xx) > 0).float() == t).float().mean())
    print(f"2-layer MLP on XOR: loss {loss.item():.4f}, accuracy {acc:.0%}")


if __name__ == "__main__":
    main()
