"""The activation study: ReLU, leaky ReLU, ELU, SELU, Swish (fixed beta = 1, and a trainable beta per layer),
Mish and GELU in the same small ResNet on Fashion-MNIST, same schedule, several seeds each: mean and spread of
the test accuracy, and a PNG of the curves.  Then the lecture's batch-norm experiment: a deep sigmoid MLP with
and without batch norm, against the same MLP with ReLU.

The ResNet is ResNet-20's design (3x3 basic blocks, three stages with stride-2 down-sampling, global average
pooling) cut down to one block per stage and widths 8/16/32 so that the whole study runs in minutes on a
loaded 2-core machine; ResNet-20 itself has three blocks per stage and widths 16/32/64.

Run:  python examples/activation_study.py [--seeds N] [--train N] [--epochs N] [--out DIR]   (needs Fashion-MNIST)
"""
from _common import parse_args, load_mnist_arrays, savefig, Timer

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.models.resnet_small import SmallResNet


# the study's activations (ember.models.resnet_small.ACTIVATIONS also has sigmoid and tanh)
STUDY = ["relu", "leaky_relu", "elu", "selu", "swish", "swish_trainable", "mish", "gelu"]


def deep_mlp(act, depth=10, width=64, batch_norm=False):
    layers, cin = [nn.Flatten()], 784
    for _ in range(depth):
        layers.append(nn.Linear(cin, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(act())
        cin = width
    layers.append(nn.Linear(cin, 10))
    return nn.Sequential(*layers)


def accuracy(model, X, y):
    model.eval()
    with ember.no_grad():
        pred = np.concatenate([model(X[i:i + 500]).argmax(1).numpy() for i in range(0, len(X), 500)])
    return float((pred == y).mean())


def train(model, X, Y, Xt, yt, epochs, lr, seed, batch=64):
    opt = ember.optim.Adam(model.parameters(), lr=lr)
    curve = []
    gen = ember.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        perm = ember.randperm(len(X), generator=gen)
        for i in range(0, len(X), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = F.cross_entropy(model(X[idx]), Y[idx])
            loss.backward()
            opt.step()
        curve.append(accuracy(model, Xt, yt))
    return curve


def main():
    args = parse_args(__doc__, seeds=(int, 3, "seeds per activation"), train=(int, 2000, "training images"),
                      epochs=(int, 3, "training epochs"))
    x, y, xt, yt = load_mnist_arrays("fashion", quick=args.quick)
    n = 128 if args.quick else args.train
    x, y, xt, yt = x[:n], y[:n], xt[:1000], yt[:1000]
    X, Y, Xt = ember.tensor((x - 0.286) / 0.353), ember.tensor(y), ember.tensor((xt - 0.286) / 0.353)
    epochs, seeds = (1, 1) if args.quick else (args.epochs, args.seeds)
    names = ["relu", "gelu"] if args.quick else STUDY
    results, curves = {}, {}
    print(f"small ResNet (widths 8/16/32, one basic block per stage) on Fashion-MNIST: {len(X)} train / {len(Xt)} "
          f"test images, {epochs} epochs, Adam 1e-3, batch 64, seeds 0..{seeds - 1}")
    with Timer() as total:
        for name in names:
            accs, cs = [], []
            with Timer() as t:
                for seed in range(seeds):
                    ember.manual_seed(seed)
                    c = train(SmallResNet(activation=name), X, Y, Xt, yt, epochs, 1e-3, seed)
                    accs.append(c[-1])
                    cs.append(c)
            results[name], curves[name] = accs, np.mean(cs, 0)
            print(f"{name}: test accuracy {np.mean(accs):.4f} +- {np.std(accs):.4f} (runs {', '.join(f'{a:.4f}' for a in accs)}; {t.seconds:.0f}s)")
    lines = ["| activation | test accuracy mean | std over seeds | runs |", "|---|---|---|---|"]
    lines += [f"| {k} | {np.mean(v):.4f} | {np.std(v):.4f} | {len(v)} |" for k, v in results.items()]
    # the batch-norm experiment: a 10-layer MLP
    bn_rows = []
    bn_epochs = 1 if args.quick else args.epochs
    bn_time = Timer().__enter__()
    for label, act, bn in [("sigmoid", nn.Sigmoid, False), ("sigmoid + batch norm", nn.Sigmoid, True),
                           ("relu", nn.ReLU, False), ("relu + batch norm", nn.ReLU, True)]:
        accs = []
        for seed in range(seeds):
            ember.manual_seed(seed)
            accs.append(train(deep_mlp(act, batch_norm=bn), X, Y, Xt, yt, bn_epochs, 1e-3, seed)[-1])
        bn_rows.append((label, accs))
        print(f"10-layer MLP, {label}: test accuracy {np.mean(accs):.4f} +- {np.std(accs):.4f}")
    bn_time.__exit__()
    lines += ["", f"10-layer MLP (width 64), same data and schedule, {seeds} seeds:", "",
              "| network | test accuracy mean | std over seeds |", "|---|---|---|"]
    lines += [f"| {k} | {np.mean(v):.4f} | {np.std(v):.4f} |" for k, v in bn_rows]
    table = "\n".join(lines)
    print(table)
    print(f"activation study: {len(names)} activations x {seeds} seeds in {total.seconds:.0f}s, then the batch-norm "
          f"experiment in {bn_time.seconds:.0f}s")
    (args.out / "activation_study.md").write_text(table + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for k, c in curves.items():
        a1.plot(range(1, len(c) + 1), c, marker="o", label=k)
    a1.set_xticks(range(1, epochs + 1))
    a1.set_xlabel("epoch")
    a1.set_ylabel(f"test accuracy (mean of {seeds} seeds)")
    a1.set_title("small ResNet, Fashion-MNIST")
    a1.legend(fontsize=8)
    ks = list(results)
    a2.errorbar(range(len(ks)), [np.mean(results[k]) for k in ks], yerr=[np.std(results[k]) for k in ks], fmt="o", capsize=4)
    a2.set_xticks(range(len(ks)))
    a2.set_xticklabels(ks, rotation=40, ha="right", fontsize=8)
    a2.set_ylabel("final test accuracy (mean +- std)")
    a2.set_title(f"after {epochs} epochs")
    savefig(fig, args.out / "activation_study.png")


if __name__ == "__main__":
    main()
