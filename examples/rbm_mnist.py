"""A restricted Boltzmann machine trained with contrastive divergence (CD-k) on binarized MNIST.

``ember.models.rbm.RBM`` turns the CD-k update into a loss (free energy of the data minus free energy of the
k-step Gibbs samples) so that an ordinary ember optimizer applies it.  The example logs the mean-field
reconstruction error (per-pixel squared error of v -> P(h|v) -> P(v|h)) on the test set after every epoch,
which should fall, and saves the learned filters (the hidden units' weights as 28x28 images) and a few
reconstructions.

    python examples/rbm_mnist.py [--epochs 5] [--hidden 256] [--k 1] [--quick] [--out DIR]
"""
from _common import parse_args, load_mnist_arrays, savefig, Timer, progress

import numpy as np

import ember
from ember.data import DataLoader, TensorDataset
from ember.models.rbm import RBM, filters_grid


def recon_error(rbm: RBM, x) -> float:
    """Mean squared error per pixel of the mean-field reconstruction of ``x`` (a (N, 784) tensor)."""
    with ember.no_grad():
        return float(np.mean([((rbm.reconstruct(b) - b) ** 2).mean().item() for b in x.split(2000)]))


def main():
    args = parse_args(__doc__, epochs=(int, 5, "training epochs"), hidden=(int, 256, "hidden units"),
                      k=(int, 1, "Gibbs steps per update (CD-k)"))
    ember.manual_seed(args.seed)
    xtr, _, xte, _ = load_mnist_arrays("mnist", args.quick)
    xtr = (xtr.reshape(-1, 784) > 0.5).astype(np.float32)       # binarized MNIST
    xte = (xte.reshape(-1, 784) > 0.5).astype(np.float32)
    loader = DataLoader(TensorDataset(ember.tensor(xtr)), batch_size=64, shuffle=True)
    Xte = ember.tensor(xte)
    rbm = RBM(784, args.hidden, k=args.k)
    opt = ember.optim.SGD(rbm.parameters(), lr=0.05, momentum=0.5)
    epochs = 1 if args.quick else args.epochs
    errors = [recon_error(rbm, Xte)]
    print(f"before training: test reconstruction error {errors[0]:.4f} per pixel")
    with Timer() as t:
        for epoch in range(epochs):
            rbm.train()
            for i, (v,) in enumerate(progress(loader, epoch, epochs)):
                opt.zero_grad()
                rbm.contrastive_divergence(v).backward()
                opt.step()
                if args.quick and i == 3:
                    break
            errors.append(recon_error(rbm, Xte))
            print(f"epoch {epoch + 1}: test reconstruction error {errors[-1]:.4f} per pixel")
    falls = all(b < a for a, b in zip(errors, errors[1:]))
    print(f"RBM ({args.hidden} hidden, CD-{args.k}) on binarized MNIST: test reconstruction error "
          f"{errors[0]:.4f} -> {errors[-1]:.4f} per pixel after {epochs} epochs in {t.seconds:.0f}s "
          f"({'falls every epoch' if falls else 'does not fall every epoch'})")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(filters_grid(rbm, n=100), cmap="gray")
    ax.axis("off")
    ax.set_title(f"RBM filters: weights of the first 100 of {args.hidden} hidden units")
    savefig(fig, args.out / "rbm_filters.png")
    with ember.no_grad():
        rec = rbm.reconstruct(Xte[:10]).numpy()
    fig, axes = plt.subplots(2, 11, figsize=(12, 2.6), gridspec_kw={"width_ratios": [1] * 10 + [2.5]})
    for i in range(10):
        axes[0, i].imshow(xte[i].reshape(28, 28), cmap="gray")
        axes[1, i].imshow(rec[i].reshape(28, 28), cmap="gray")
        axes[0, i].axis("off"); axes[1, i].axis("off")
    axes[0, 0].set_title("input", loc="left"); axes[1, 0].set_title("reconstruction", loc="left")
    gs = axes[0, 10].get_gridspec()
    axes[0, 10].remove(); axes[1, 10].remove()
    ax = fig.add_subplot(gs[:, 10])
    ax.plot(range(len(errors)), errors, "o-")
    ax.set_xlabel("epoch"); ax.set_ylabel("recon. MSE")
    savefig(fig, args.out / "rbm_reconstructions.png")


if __name__ == "__main__":
    main()
