"""Variational autoencoder on MNIST (Kingma & Welling): Gaussian encoder, Bernoulli decoder, the
reparameterization trick.  Reports the negative ELBO per test image and saves a grid of samples from the
prior.  Run:  python examples/vae.py [--epochs 10] [--quick] [--out DIR]
"""
from _common import parse_args, load_mnist_arrays, savefig, Timer, progress

import numpy as np

import ember
from ember.data import DataLoader, TensorDataset
from ember.models import VAE


def main():
    args = parse_args(__doc__, epochs=(int, 10, "training epochs"))
    ember.manual_seed(args.seed)
    xtr, _, xte, _ = load_mnist_arrays("mnist", args.quick)
    xtr, xte = (xtr.reshape(-1, 784) > 0.5).astype(np.float32), (xte.reshape(-1, 784) > 0.5).astype(np.float32)
    loader = DataLoader(TensorDataset(ember.tensor(xtr)), batch_size=128, shuffle=True)
    model = VAE(784, hidden=400, latent_dim=16)
    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    epochs = 1 if args.quick else args.epochs
    with Timer() as t:
        for epoch in range(epochs):
            model.train()
            for i, (x,) in enumerate(progress(loader, epoch, epochs)):
                opt.zero_grad()
                rec, kl = model.loss_terms(x)          # -ELBO = reconstruction BCE + KL, nats per image
                loss = rec + kl
                loss.backward()
                opt.step()
                if args.quick and i == 3:
                    break
            with ember.no_grad():     # validation_step: {"loss": -ELBO as a float, "recon", "kl"}
                test = float(np.mean([model.validation_step((b,))["loss"] for b in ember.tensor(xte).split(1000)]))
            print(f"epoch {epoch + 1}: test negative ELBO {test:.2f} nats/image")
    print(f"VAE on binarized MNIST: test negative ELBO {test:.2f} nats/image after {epochs} epochs in {t.seconds:.0f}s")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    samples = model.sample(64).numpy().reshape(64, 28, 28)       # pixel probabilities, z from the prior
    grid = samples.reshape(8, 8, 28, 28).transpose(0, 2, 1, 3).reshape(8 * 28, 8 * 28)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(grid, cmap="gray"); ax.axis("off"); ax.set_title("VAE samples from the prior")
    savefig(fig, args.out / "vae_samples.png")


if __name__ == "__main__":
    main()
