"""Variational autoencoder on MNIST (Kingma & Welling): Gaussian encoder, Bernoulli decoder, the
reparameterization trick.  Reports the negative ELBO per test image and saves a grid of samples from the
prior.  Run:  python examples/vae.py [--epochs 10] [--quick] [--out DIR]
"""
from _common import parse_args, load_mnist_arrays, savefig, Timer

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.data import DataLoader, TensorDataset


class VAE(nn.Module):
    def __init__(self, latent=16):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(784, 400), nn.ReLU())
        self.mu = nn.Linear(400, latent)
        self.logvar = nn.Linear(400, latent)
        self.dec = nn.Sequential(nn.Linear(latent, 400), nn.ReLU(), nn.Linear(400, 784))
        self.latent = latent

    def forward(self, x):
        h = self.enc(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + ember.randn_like(mu) * (0.5 * logvar).exp()       # reparameterization
        return self.dec(z), mu, logvar


def neg_elbo(logits, x, mu, logvar):
    """-ELBO summed over pixels and latents, averaged over the batch (nats per image)."""
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum()
    return (rec + kl) / x.shape[0]


def main():
    args = parse_args(__doc__, epochs=(int, 10, "training epochs"))
    ember.manual_seed(args.seed)
    xtr, _, xte, _ = load_mnist_arrays("mnist", args.quick)
    xtr, xte = (xtr.reshape(-1, 784) > 0.5).astype(np.float32), (xte.reshape(-1, 784) > 0.5).astype(np.float32)
    loader = DataLoader(TensorDataset(ember.tensor(xtr)), batch_size=128, shuffle=True)
    model = VAE()
    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    epochs = 1 if args.quick else args.epochs
    with Timer() as t:
        for epoch in range(epochs):
            model.train()
            for i, (x,) in enumerate(loader):
                opt.zero_grad()
                loss = neg_elbo(*_split(model, x))
                loss.backward()
                opt.step()
                if args.quick and i == 3:
                    break
            with ember.no_grad():
                test = float(np.mean([neg_elbo(*_split(model, b)).item() for b in ember.tensor(xte).split(1000)]))
            print(f"epoch {epoch + 1}: test negative ELBO {test:.2f} nats/image")
    print(f"VAE on binarized MNIST: test negative ELBO {test:.2f} nats/image after {epochs} epochs in {t.seconds:.0f}s")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    with ember.no_grad():
        samples = ember.sigmoid(model.dec(ember.randn(64, model.latent))).numpy().reshape(64, 28, 28)
    grid = samples.reshape(8, 8, 28, 28).transpose(0, 2, 1, 3).reshape(8 * 28, 8 * 28)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(grid, cmap="gray"); ax.axis("off"); ax.set_title("VAE samples from the prior")
    savefig(fig, args.out / "vae_samples.png")


def _split(model, x):
    logits, mu, logvar = model(x)
    return logits, x, mu, logvar


if __name__ == "__main__":
    main()
