"""Why deep nets stall, measured with ember's health callbacks on the 8x8 digits (scikit-learn's copy, offline):

1. a deep sigmoid MLP with N(0, 1) weights saturates and stalls, next to a ReLU MLP with He init that learns;
2. ReLUs die when the learning rate is too high;
3. batch norm rescues the deep sigmoid net.

Writes docs/viz/health_sigmoid_vs_relu.png, docs/viz/dead_relu.png, docs/viz/batchnorm.png and prints the numbers
the callbacks recorded.  Run:  python examples/viz_health.py [--epochs 8] [--out docs/viz] [--quick]
"""
import argparse
import os
import warnings

import numpy as np

import ember
import ember.nn as nn
from ember.data import DataLoader, TensorDataset
from ember.train import GradientHealth, Trainer, UnitHealth
from ember.train.diagnostics import GradientWarning


def digits_loader(batch_size=64, limit=None):
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)[:limit]
    d.target = d.target[:limit]
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    return DataLoader(TensorDataset(ember.tensor(x), ember.tensor(d.target.astype(np.int64))),
                      batch_size=batch_size, shuffle=True)


def mlp(depth, width, act, init, bn=False):
    layers, fan = [], 64
    for _ in range(depth):
        lin = nn.Linear(fan, width)
        if init == "normal":
            nn.init.normal_(lin.weight, 0.0, 1.0)
        else:
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        nn.init.zeros_(lin.bias)
        layers += [lin] + ([nn.BatchNorm1d(width)] if bn else []) + [act()]
        fan = width
    layers.append(nn.Linear(fan, 10))
    return nn.Sequential(*layers)


def train(model, loader, epochs, lr, opt="sgd"):
    uh, gh = UnitHealth(warn_dead=None), GradientHealth(ratio_every=1)
    optim = (ember.optim.SGD(model.parameters(), lr=lr, momentum=0.9) if opt == "sgd"
             else ember.optim.Adam(model.parameters(), lr=lr))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GradientWarning)
        hist = Trainer(model, nn.CrossEntropyLoss(), optim, metrics=["accuracy"],
                       callbacks=[uh, gh]).fit(loader, epochs=epochs, verbose=0)
    msgs = sorted({str(w.message).split(": ", 1)[-1] for w in caught if issubclass(w.category, GradientWarning)})
    return hist, uh, gh, msgs


def linear_layers(gh):
    return list(next(iter(gh.history.values())))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "viz"))
    ap.add_argument("--quick", action="store_true", help="1 epoch on 256 samples (a smoke test)")
    args = ap.parse_args()
    if args.quick:
        args.epochs = 1
    os.makedirs(args.out, exist_ok=True)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    loader = digits_loader(limit=256 if args.quick else None)

    # 1. deep sigmoid + N(0, 1) against ReLU + He
    runs = {}
    for name, act, init in (("sigmoid, N(0,1) init", nn.Sigmoid, "normal"), ("ReLU, He init", nn.ReLU, "he")):
        ember.manual_seed(0)
        runs[name] = train(mlp(8, 64, act, init), loader, args.epochs, lr=0.01)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for name, (hist, uh, gh, msgs) in runs.items():
        last = max(gh.history)
        layers = linear_layers(gh)
        axes[0].semilogy(range(len(layers)), [gh.history[last][k]["grad_norm"] for k in layers], "o-", label=name)
        axes[1].plot(hist.history["accuracy"], "o-", label=name)
        rep = uh.history[last]
        frac = [r.get("saturated_fraction", r.get("dead_fraction")) for r in rep.values()]
        axes[2].plot(range(1, len(frac) + 1), frac, "o-",
                     label=name + (" (saturated)" if "sigmoid" in name else " (dead)"))
        print(f"{name}: accuracy by epoch {[round(a, 3) for a in hist.history['accuracy']]}")
        print(f"  gradient norm per Linear, last epoch: "
              f"{['%.2g' % gh.history[last][k]['grad_norm'] for k in layers]}")
        print(f"  saturated/dead fraction per activation, last epoch: {[round(f, 3) for f in frac]}")
        for m in msgs[:3]:
            print(f"  warning: {m}")
    axes[0].set(title="gradient flow (last epoch)", xlabel="Linear layer (input -> output)",
                ylabel="mean gradient norm")
    axes[1].set(title="training accuracy", xlabel="epoch", ylim=(0, 1.02))
    axes[2].set(title="unit health (last epoch)", xlabel="activation layer (input -> output)",
                ylabel="fraction of units", ylim=(-0.03, 1.03))
    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"8-layer MLP on digits, SGD momentum lr 0.01, {args.epochs} epochs", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "health_sigmoid_vs_relu.png"), dpi=80)
    plt.close(fig)

    # 2. dead ReLUs from a too-high learning rate
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for lr in (1e-3, 0.05, 0.5):
        ember.manual_seed(0)
        hist, uh, gh, msgs = train(mlp(3, 64, nn.ReLU, "he"), loader, args.epochs, lr=lr, opt="adam")
        dead = [float(np.mean([r["dead_fraction"] for r in uh.history[e].values()])) for e in sorted(uh.history)]
        axes[0].plot(dead, "o-", label=f"Adam lr {lr:g}")
        axes[1].plot(hist.history["accuracy"], "o-", label=f"Adam lr {lr:g}")
        print(f"ReLU MLP, Adam lr {lr:g}: dead fraction by epoch {[round(d, 3) for d in dead]}, "
              f"final accuracy {hist.history['accuracy'][-1]:.3f}")
    axes[0].set(title="dead ReLUs (mean over 3 layers)", xlabel="epoch", ylabel="fraction never active",
                ylim=(-0.03, 1.03))
    axes[1].set(title="training accuracy", xlabel="epoch", ylim=(0, 1.02))
    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "dead_relu.png"), dpi=80)
    plt.close(fig)

    # 3. batch norm rescues the deep sigmoid net
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for bn in (False, True):
        ember.manual_seed(0)
        hist, uh, gh, msgs = train(mlp(8, 64, nn.Sigmoid, "normal", bn=bn), loader, args.epochs, lr=0.01)
        label = "with BatchNorm" if bn else "without"
        sat = [float(np.mean([r["saturated_fraction"] for r in uh.history[e].values()])) for e in sorted(uh.history)]
        axes[0].plot(hist.history["loss"], "o-", label=label)
        axes[1].plot(sat, "o-", label=label)
        print(f"deep sigmoid {label}: loss by epoch {[round(v, 3) for v in hist.history['loss']]}, "
              f"saturated {[round(s, 3) for s in sat]}")
    axes[0].set(title="training loss", xlabel="epoch")
    axes[1].set(title="saturated sigmoid outputs (mean over layers)", xlabel="epoch", ylim=(-0.03, 1.03))
    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("8-layer sigmoid MLP, N(0,1) init", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "batchnorm.png"), dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    main()
