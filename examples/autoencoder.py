"""Autoencoders on MNIST: a dense one with a 2-D bottleneck (plotted as a latent map coloured by digit)
and a convolutional one.  Reports the reconstruction MSE of each on the test set.

Run:  python examples/autoencoder.py [--epochs 5] [--quick] [--out DIR]
"""
from _common import parse_args, load_mnist_arrays, savefig, Timer, progress

import numpy as np

import ember
import ember.nn.functional as F
from ember.data import DataLoader, TensorDataset
from ember.models import ConvAutoencoder, DenseAutoencoder


def train(model, loader, epochs, quick):
    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        total = 0.0
        for i, (x,) in enumerate(progress(loader, epoch, epochs)):
            opt.zero_grad()
            loss = F.mse_loss(model(x), x)
            loss.backward()
            opt.step()
            total += loss.item()
            if quick and i == 3:
                break
        print(f"epoch {epoch + 1}: train MSE {total / (i + 1):.4f}")


def test_mse(model, x):
    with ember.no_grad():
        return float(np.mean([F.mse_loss(model(b), b).item() for b in x.split(1000)]))


def main():
    args = parse_args(__doc__, epochs=(int, 5, "training epochs"))
    ember.manual_seed(args.seed)
    xtr, _, xte, yte = load_mnist_arrays("mnist", args.quick)
    loader = DataLoader(TensorDataset(ember.tensor(xtr)), batch_size=128, shuffle=True)
    Xte = ember.tensor(xte)
    epochs = 1 if args.quick else args.epochs
    models = {"dense (2-D latent)": DenseAutoencoder(784, hidden=(256, 64), latent_dim=2),
              "convolutional": ConvAutoencoder(1, channels=(16, 32))}
    for name, model in models.items():
        with Timer() as t:
            train(model, loader, epochs, args.quick)
        print(f"{name} autoencoder: test reconstruction MSE {test_mse(model, Xte):.4f} "
              f"({epochs} epochs, {t.seconds:.0f}s)")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    with ember.no_grad():
        z = models["dense (2-D latent)"].encode(Xte[:5000]).numpy()
    fig, ax = plt.subplots(figsize=(6, 5))
    sc = ax.scatter(z[:, 0], z[:, 1], c=yte[:5000], cmap="tab10", s=3)
    fig.colorbar(sc, ax=ax, label="digit")
    ax.set_title("dense autoencoder: 2-D latent space of MNIST test digits")
    savefig(fig, args.out / "latent_2d.png")
    with ember.no_grad():
        rec = models["convolutional"](Xte[:8]).numpy()
    fig, axes = plt.subplots(2, 8, figsize=(10, 2.8))
    for i in range(8):
        axes[0, i].imshow(xte[i, 0], cmap="gray"); axes[1, i].imshow(rec[i, 0], cmap="gray")
        axes[0, i].axis("off"); axes[1, i].axis("off")
    axes[0, 0].set_title("input", loc="left"); axes[1, 0].set_title("reconstruction", loc="left")
    savefig(fig, args.out / "conv_reconstructions.png")


if __name__ == "__main__":
    main()
