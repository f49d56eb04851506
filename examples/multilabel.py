"""Multi-label classification: several labels per sample, one sigmoid per label and binary cross-entropy.
Reports the Hamming loss against the per-label majority baseline.

Run:  python examples/multilabel.py
"""
from _common import parse_args

import numpy as np

import ember
import ember.nn as nn
from ember.data.datasets.synthetic import make_multilabel
from ember.models import MultiLabelMLP


def hamming(pred, y):
    return float((pred != y).mean())


def main():
    args = parse_args(__doc__, epochs=(int, 40, "training epochs"))
    ember.manual_seed(args.seed)
    n = 500 if args.quick else 5000
    # one draw, so that the training and test samples share the same labelling rule; then split
    X_all, Y_all = make_multilabel(n + 2000, n_features=20, n_labels=5, seed=args.seed)
    x, y, xt, yt = X_all[:n], Y_all[:n], X_all[n:], Y_all[n:]
    model = MultiLabelMLP(20, num_labels=5, hidden=(64,))
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
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}")
    pred = model.predict(ember.tensor(xt)).numpy()
    baseline = (y.mean(0) > 0.5).astype(np.float32)[None].repeat(len(yt), 0)
    h_model, h_base = hamming(pred, yt), hamming(baseline, yt)
    print(f"label frequencies (train): {[round(float(v), 2) for v in y.mean(0)]}")
    print(f"multi-label MLP: Hamming loss {h_model:.4f} vs per-label majority baseline {h_base:.4f} "
          f"({'beats' if h_model < h_base else 'does not beat'} the baseline); "
          f"exact-match accuracy {float((pred == yt).all(1).mean()):.1%}")


if __name__ == "__main__":
    main()
