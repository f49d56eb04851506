"""Multi-task learning on MNIST: one convolutional trunk with three heads (digit class, parity, and "ink", the
standardised fraction of bright pixels, a stroke-thickness proxy, as regression), trained with a fixed equal
weighting of the losses and with learned uncertainty weighting (Kendall et al., 2018), against three
single-task networks of the same architecture (each its own trunk).  Prints a table: does sharing help?

Run:  python examples/multitask.py [--train N] [--epochs N] [--out DIR]     (needs MNIST in the data root)
"""
from _common import parse_args, load_mnist_arrays, Timer

import numpy as np

import ember
import ember.nn.functional as F
from ember.models import MultiTaskNet, mnist_trunk, FixedWeighting, UncertaintyWeighting

TASKS = {"digit": 10, "parity": 1, "ink": 1}
KINDS = {"digit": "classification", "parity": "classification", "ink": "regression"}


def labels(x, y, mean=None, std=None):
    ink = (x > 0.5).mean(axis=(1, 2, 3))
    mean = ink.mean() if mean is None else mean
    std = ink.std() if std is None else std
    return {"digit": y, "parity": (y % 2).astype(np.float32), "ink": ((ink - mean) / std).astype(np.float32)}, mean, std


def task_loss(name, out, target):
    if name == "digit":
        return F.cross_entropy(out, target)
    if name == "parity":
        return F.binary_cross_entropy_with_logits(out, target)
    return F.mse_loss(out, target)


def evaluate(model, X, T):
    model.eval()
    outs = {k: [] for k in model.heads.keys()}
    with ember.no_grad():
        for i in range(0, len(X), 500):
            for k, v in model(X[i:i + 500]).items():
                outs[k].append(v.numpy())
    res = {}
    for k, v in outs.items():
        v, t = np.concatenate(v), T[k].numpy()
        if k == "digit":
            res[k] = float((v.argmax(1) == t).mean())
        elif k == "parity":
            res[k] = float(((v > 0) == (t > 0.5)).mean())
        else:
            res[k] = float(1 - ((v - t) ** 2).sum() / ((t - t.mean()) ** 2).sum())       # R^2
    return res


def run(tasks, weighting, X, T, Xt, Tt, args):
    ember.manual_seed(args.seed)
    model = MultiTaskNet(mnist_trunk(64), {t: TASKS[t] for t in tasks}, features=64)
    params = list(model.parameters()) + list(weighting.parameters())
    opt = ember.optim.Adam(params, lr=1e-3)
    epochs = 1 if args.quick else args.epochs
    for epoch in range(epochs):
        model.train()
        perm = ember.randperm(len(X))
        for i in range(0, len(X), 64):
            idx = perm[i:i + 64]
            out = model(X[idx])
            loss = weighting({t: task_loss(t, out[t], T[t][idx]) for t in tasks})
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}: [{'+'.join(tasks)}, {type(weighting).__name__}] loss {loss.item():.4f}")
    return evaluate(model, Xt, Tt), sum(p.numel() for p in model.parameters())


def main():
    args = parse_args(__doc__, epochs=(int, 3, "training epochs"), train=(int, 5000, "training images"))
    x, y, xt, yt = load_mnist_arrays("mnist", quick=args.quick)
    n = 256 if args.quick else args.train
    x, y = x[:n], y[:n]
    xt, yt = xt[:2000], yt[:2000]
    T, mean, std = labels(x, y)
    Tt, _, _ = labels(xt, yt, mean, std)
    X, Xt = ember.tensor(x), ember.tensor(xt)
    T = {k: ember.tensor(v) for k, v in T.items()}
    Tt = {k: ember.tensor(v) for k, v in Tt.items()}
    rows = []
    for name in TASKS:
        with Timer() as t:
            res, size = run([name], FixedWeighting(), X, T, Xt, Tt, args)
        rows.append((f"single-task {name}", res, size, t.seconds, ""))
        print(f"single-task {name}: {res[name]:.4f} ({size} parameters, {t.seconds:.0f}s)")
    with Timer() as t:
        res, size = run(list(TASKS), FixedWeighting(), X, T, Xt, Tt, args)
    rows.append(("multi-task, fixed weights 1:1:1", res, size, t.seconds, ""))
    print(f"multi-task fixed: {res} ({t.seconds:.0f}s)")
    uw = UncertaintyWeighting(list(TASKS), kinds=KINDS)
    with Timer() as t:
        res, size = run(list(TASKS), uw, X, T, Xt, Tt, args)
    w = uw.weights()
    rows.append(("multi-task, uncertainty weighting", res, size, t.seconds,
                 "learned weights " + ", ".join(f"{k} {v:.2f}" for k, v in w.items())))
    print(f"multi-task uncertainty: {res}, weights {w} ({t.seconds:.0f}s)")
    fmt = lambda r, k: f"{r[k]:.4f}" if k in r else "-"
    lines = [f"MNIST, {len(X)} training / {len(Xt)} test images, {1 if args.quick else args.epochs} epochs, Adam 1e-3, "
             f"batch 64, seed {args.seed}", "",
             "| model | digit accuracy | parity accuracy | ink R^2 | parameters | wall time | note |",
             "|---|---|---|---|---|---|---|"]
    for name, r, size, sec, note in rows:
        lines.append(f"| {name} | {fmt(r, 'digit')} | {fmt(r, 'parity')} | {fmt(r, 'ink')} | {size} | {sec:.0f} s | {note} |")
    table = "\n".join(lines)
    print(table)
    (args.out / "multitask.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
