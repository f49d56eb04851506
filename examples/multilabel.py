"""Multi-label classification: several labels per sample, one sigmoid per label and binary cross-entropy.
Reports the Hamming loss against the per-label majority baseline.

Run:  python examples/multilabel.py
"""
from _common import parse_args

import numpy as np

import ember
import ember.nn as nn


def make_multilabel(n, rng, n_features=20, n_labels=5):
    w = np.random.default_rng(123).standard_normal((n_features, n_labels))
    x = rng.standard_normal((n, n_features)).astype(np.float32)
    logits = x @ w + 0.5 * np.sin(3 * x[:, :n_labels])
    y = (logits > 0.8).astype(np.float32)
    return x, y


def hamming(pred, y):
    return float((pred != y).mean())


def main():
    args = parse_args(__doc__, epochs=(int, 40, "training epochs"))
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x, y = make_multilabel(500 if args.quick else 5000, rng)
    xt, yt = make_multilabel(2000, rng)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 5))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.BCEWithLogitsLoss()
    X, Y = ember.tensor(x), ember.tensor(y)
    for epoch in range(2 if args.quick else args.epochs):
        perm = ember.randperm(len(x))
        for i in range(0, len(x), 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), Y[idx])
            loss.backward()
            opt.step()
    with ember.no_grad():
        pred = (model(ember.tensor(xt)) > 0).float().numpy()
    baseline = (y.mean(0) > 0.5).astype(np.float32)[None].repeat(len(yt), 0)
    h_model, h_base = hamming(pred, yt), hamming(baseline, yt)
    print(f"label frequencies (train): {[round(float(v), 2) for v in y.mean(0)]}")
    print(f"multi-label MLP: Hamming loss {h_model:.4f} vs per-label majority baseline {h_base:.4f} "
          f"({'beats' if h_model < h_base else 'does not beat'} the baseline); "
          f"exact-match accuracy {float((pred == yt).all(1).mean()):.1%}")


if __name__ == "__main__":
    main()
