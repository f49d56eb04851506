"""A GAN on MNIST (Goodfellow et al.): an MLP generator and discriminator trained with the non-saturating
loss.  Logs discriminator and generator losses per epoch and saves a grid of generated digits.

The loop below alternates a discriminator step and a generator step, each with its own Adam (the original
algorithm); ``ember.models.GAN`` wraps the same two networks for the Trainer with one simultaneous step.

Run:  python examples/gan.py [--epochs 20] [--quick] [--out DIR]
"""
from _common import parse_args, load_mnist_arrays, savefig, Timer, progress

import ember
import ember.nn.functional as F
from ember.data import DataLoader, TensorDataset
from ember.models import Discriminator, Generator

LATENT = 64


def main():
    args = parse_args(__doc__, epochs=(int, 20, "training epochs"))
    ember.manual_seed(args.seed)
    xtr, _, _, _ = load_mnist_arrays("mnist", args.quick)
    x = ember.tensor(xtr.reshape(-1, 784) * 2 - 1)              # [-1, 1] to match tanh
    loader = DataLoader(TensorDataset(x), batch_size=128, shuffle=True, drop_last=True)
    G = Generator(LATENT, out_features=784, hidden=(256, 512))            # LeakyReLU(0.2), tanh output
    D = Discriminator(784, hidden=(512, 256), dropout=0.3)                # LeakyReLU(0.2), dropout, one logit
    opt_g = ember.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = ember.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    epochs = 1 if args.quick else args.epochs
    log = []
    with Timer() as t:
        for epoch in range(epochs):
            d_sum = g_sum = 0.0
            for i, (real,) in enumerate(progress(loader, epoch, epochs)):
                b = real.shape[0]
                ones, zeros = ember.ones(b, 1), ember.zeros(b, 1)
                # discriminator: real -> 1, fake -> 0
                fake = G(ember.randn(b, LATENT))
                opt_d.zero_grad()
                d_loss = F.binary_cross_entropy_with_logits(D(real), ones * 0.9) + \
                    F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
                d_loss.backward()
                opt_d.step()
                # generator: make D say 1 on fakes (non-saturating loss)
                opt_g.zero_grad()
                g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
                g_loss.backward()
                opt_g.step()
                d_sum, g_sum = d_sum + d_loss.item(), g_sum + g_loss.item()
                if args.quick and i == 3:
                    break
            log.append((d_sum / (i + 1), g_sum / (i + 1)))
            print(f"epoch {epoch + 1}: discriminator loss {log[-1][0]:.3f}, generator loss {log[-1][1]:.3f}")
    print(f"GAN trained {epochs} epochs in {t.seconds:.0f}s")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    G.eval()
    with ember.no_grad():
        s = (G(ember.randn(64, LATENT)).numpy().reshape(8, 8, 28, 28) + 1) / 2
    fig, axes = plt.subplots(1, 2, figsize=(11, 5), gridspec_kw={"width_ratios": [1, 1.2]})
    axes[0].imshow(s.transpose(0, 2, 1, 3).reshape(224, 224), cmap="gray"); axes[0].axis("off")
    axes[0].set_title("generated digits")
    axes[1].plot([d for d, _ in log], label="discriminator"); axes[1].plot([g for _, g in log], label="generator")
    axes[1].set_xlabel("epoch"); axes[1].set_ylabel("loss"); axes[1].legend()
    savefig(fig, args.out / "gan_samples.png")


if __name__ == "__main__":
    main()
