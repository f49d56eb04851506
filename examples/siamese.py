"""Metric learning on MNIST: a siamese net trained with the contrastive loss on pairs, and a triplet net
trained with the triplet margin loss and batch-hard negative mining.  Both are evaluated by 1-nearest-
neighbour accuracy on the test embeddings (reference set: a sample of training embeddings).  Target: >= 97%.

Run:  python examples/siamese.py [--epochs 2] [--nets both|siamese|triplet] [--quick]
"""
from _common import parse_args, load_mnist_arrays, Timer, progress

import numpy as np

import ember
import ember.nn.functional as F
from ember.models import EmbeddingNet


def knn_accuracy(net, xref, yref, xq, yq):
    net.eval()
    with ember.no_grad():
        er = np.concatenate([net(b).numpy() for b in ember.tensor(xref).split(1000)])
        eq = np.concatenate([net(b).numpy() for b in ember.tensor(xq).split(1000)])
    d = (eq ** 2).sum(1)[:, None] - 2 * eq @ er.T + (er ** 2).sum(1)[None]
    return float((yref[d.argmin(1)] == yq).mean())


def train_siamese(x, y, epochs, quick, rng):
    net = EmbeddingNet(1, embedding_dim=32)     # conv 5x5 (32), pool, conv 5x5 (64), pool, fc 128, fc 32
    opt = ember.optim.Adam(net.parameters(), lr=1e-3)
    n = len(x)
    for epoch in range(epochs):
        net.train()
        for i in progress(range(n // 128), epoch, epochs):
            a = rng.integers(0, n, 128)
            same = rng.random(128) < 0.5
            # positives: another image of the same class; negatives: any image of another class
            b = np.array([rng.choice(_by_class[y[j]]) if s else rng.integers(0, n) for j, s in zip(a, same)])
            label = ember.tensor((y[a] == y[b]).astype(np.float32))
            ea, eb = net(ember.tensor(x[a])), net(ember.tensor(x[b]))
            opt.zero_grad()
            loss = F.contrastive_loss(ea, eb, label, margin=1.0)
            loss.backward()
            opt.step()
            if quick and i == 3:
                break
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}")
    return net


def train_triplet(x, y, epochs, quick, rng):
    # the same CNN with its embeddings L2-normalized (keeps batch-hard triplet training from collapsing)
    net = EmbeddingNet(1, embedding_dim=32, normalize=True)
    opt = ember.optim.Adam(net.parameters(), lr=1e-3)
    n = len(x)
    for epoch in range(epochs):
        net.train()
        for i in progress(range(n // 128), epoch, epochs):
            # P classes x K images per batch, then batch-hard mining: hardest positive and negative per anchor
            classes = rng.choice(10, 8, replace=False)
            idx = np.concatenate([rng.choice(_by_class[c], 16) for c in classes])
            emb = net(ember.tensor(x[idx]))          # already on the unit sphere (normalize=True)
            lab = y[idx]
            with ember.no_grad():
                d = _pdist(emb.detach().numpy())
            same = lab[:, None] == lab[None]
            pos = np.where(same, d, -np.inf).argmax(1)
            neg = np.where(~same, d, np.inf).argmin(1)
            opt.zero_grad()
            loss = F.triplet_margin_loss(emb, emb[ember.tensor(pos)], emb[ember.tensor(neg)], margin=0.2)
            loss.backward()
            opt.step()
            if quick and i == 3:
                break
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}")
    return net


def _pdist(e):
    return np.sqrt(np.maximum((e ** 2).sum(1)[:, None] - 2 * e @ e.T + (e ** 2).sum(1)[None], 0))


_by_class = {}


def main():
    args = parse_args(__doc__, epochs=(int, 2, "training epochs"),
                      nets=(str, "both", "which nets to train: both, siamese or triplet"))
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    xtr, ytr, xte, yte = load_mnist_arrays("mnist", args.quick)
    xtr, xte = (xtr - 0.1307) / 0.3081, (xte - 0.1307) / 0.3081
    _by_class.update({c: np.flatnonzero(ytr == c) for c in range(10)})
    epochs = 1 if args.quick else args.epochs
    ref = rng.choice(len(xtr), min(10000, len(xtr)), replace=False)
    nets = [("siamese + contrastive loss", train_siamese), ("triplet + batch-hard mining", train_triplet)]
    for name, fn in [n for n in nets if args.nets == "both" or n[0].startswith(args.nets)]:
        with Timer() as t:
            net = fn(xtr, ytr, epochs, args.quick, rng)
        acc = knn_accuracy(net, xtr[ref], ytr[ref], xte, yte)
        print(f"{name}: 1-NN test accuracy on embeddings {acc:.2%} ({epochs} epochs, {t.seconds:.0f}s) "
              f"({'meets' if acc >= 0.97 else 'below'} the 97% target)")


if __name__ == "__main__":
    main()
