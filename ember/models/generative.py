"""Generative models and autoencoders: ``DenseAutoencoder``, ``ConvAutoencoder``, ``VAE``, the GAN's
``Generator`` and ``Discriminator`` with the ``GAN`` wrapper, and ``RBM`` (``ember.models.rbm.RBM`` with a
``training_step``).

Models whose training is not ``loss_fn(model(x), y)`` define ``training_step(batch)`` (and
``validation_step(batch)``), which ``ember.train.Trainer`` and ``ember train`` call instead (see the Trainer).
Autoencoders need no such method: they train with ``loss_fn(model(x), x)``.
"""
from __future__ import annotations

import ember
import ember.nn.functional as F
from .. import nn
from .rbm import RBM as _BaseRBM

__all__ = ["DenseAutoencoder", "ConvAutoencoder", "VAE", "Generator", "Discriminator", "GAN", "RBM"]


def _first(batch):
    """The input tensor of a batch: ``x``, ``(x,)`` or ``(x, y)``."""
    if isinstance(batch, (tuple, list)):
        if not batch:
            raise ValueError("training_step: got an empty batch")
        return batch[0]
    return batch


def _flat(x, n: int, who: str):
    if x.ndim < 2 or x[0].numel() != n:
        raise ValueError(f"{who} expected input of shape (N, {n}) (or (N, ...) flattening to it), "
                         f"got {tuple(x.shape)}")
    return x.reshape(x.shape[0], n)


def _mean(t) -> float:
    return float(t.detach().item())


class DenseAutoencoder(nn.Module):
    """A fully connected autoencoder: ``in_features -> hidden... -> latent_dim -> ...hidden -> in_features``
    with a sigmoid output (pixels in [0, 1]).  The output has the input's shape ((N, 784) or (N, 1, 28, 28)).
    Train with ``nn.MSELoss()`` against the input; ``encode`` gives the latent code (2-D by default, to plot).

    >>> DenseAutoencoder()(ember.rand(3, 1, 28, 28)).shape
    ember.Size([3, 1, 28, 28])
    """

    def __init__(self, in_features: int = 784, hidden=(256, 64), latent_dim: int = 2) -> None:
        super().__init__()
        if isinstance(hidden, int):
            hidden = (hidden,)
        self.in_features, self.latent_dim = in_features, latent_dim
        enc, sizes = [], [in_features, *hidden]
        for a, b in zip(sizes[:-1], sizes[1:]):
            enc += [nn.Linear(a, b), nn.ReLU()]
        self.encoder = nn.Sequential(*enc, nn.Linear(sizes[-1], latent_dim))
        dec, rsizes = [], [latent_dim, *reversed(hidden)]
        for a, b in zip(rsizes[:-1], rsizes[1:]):
            dec += [nn.Linear(a, b), nn.ReLU()]
        self.decoder = nn.Sequential(*dec, nn.Linear(rsizes[-1], in_features), nn.Sigmoid())

    def encode(self, x):
        """(N, in_features) or (N, ...) -> (N, latent_dim)."""
        return self.encoder(_flat(x, self.in_features, "DenseAutoencoder"))

    def decode(self, z):
        """(N, latent_dim) -> (N, in_features) in [0, 1]."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"DenseAutoencoder.decode expected (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.decoder(z)

    def forward(self, x):
        """Reconstruction of ``x``, same shape."""
        return self.decode(self.encode(x)).reshape(tuple(x.shape))


class ConvAutoencoder(nn.Module):
    """A convolutional autoencoder for (N, in_channels, H, W) images with H, W multiples of 4: two stride-2
    convolutions (16, 32 channels) down, two stride-2 transposed convolutions up, sigmoid output.  Train with
    ``nn.MSELoss()`` against the input.

    >>> ConvAutoencoder()(ember.rand(3, 1, 28, 28)).shape
    ember.Size([3, 1, 28, 28])
    """

    def __init__(self, in_channels: int = 1, channels=(16, 32)) -> None:
        super().__init__()
        c1, c2 = channels
        self.in_channels = in_channels
        self.encoder = nn.Sequential(nn.Conv2d(in_channels, c1, 3, stride=2, padding=1), nn.ReLU(),
                                     nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(c1, in_channels, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())

    def encode(self, x):
        """(N, C, H, W) -> (N, channels[1], H/4, W/4)."""
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"ConvAutoencoder expected input of shape (N, {self.in_channels}, H, W) with H and W "
                             f"multiples of 4, got {tuple(x.shape)}")
        return self.encoder(x)

    def decode(self, z):
        """Latent maps -> images in [0, 1]."""
        return self.decoder(z)

    def forward(self, x):
        """Reconstruction of ``x``, same shape."""
        return self.decode(self.encode(x))


class VAE(nn.Module):
    """Variational autoencoder (Kingma & Welling 2014): Gaussian encoder q(z|x) = N(mu, diag exp(logvar)),
    standard normal prior, Bernoulli decoder p(x|z) with logits; the reparameterization trick
    ``z = mu + eps * exp(logvar / 2)`` makes sampling differentiable.

    ``forward(x)`` returns ``(logits, mu, logvar)`` with logits (N, in_features); ``training_step`` returns the
    negative ELBO in nats per image (reconstruction BCE summed over pixels + KL(q || prior)), for inputs in
    [0, 1] of shape (N, in_features) or (N, ...) flattening to it.

    >>> vae = VAE(latent_dim=16)
    >>> loss = vae.training_step((x,))        # x: (N, 1, 28, 28) in [0, 1]
    >>> images = vae.sample(64)               # (64, 784) pixel probabilities
    """

    def __init__(self, in_features: int = 784, hidden: int = 400, latent_dim: int = 16) -> None:
        super().__init__()
        self.in_features, self.latent_dim = in_features, latent_dim
        self.enc = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent_dim)
        self.logvar = nn.Linear(hidden, latent_dim)
        self.dec = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, in_features))

    def encode(self, x):
        """(N, in_features) -> (mu, logvar), each (N, latent_dim)."""
        h = self.enc(_flat(x, self.in_features, "VAE"))
        return self.mu(h), self.logvar(h)

    def forward(self, x):
        """``(logits, mu, logvar)``; ``z`` is sampled in training mode and equals ``mu`` in eval mode."""
        mu, logvar = self.encode(x)
        z = mu + ember.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        return self.dec(z), mu, logvar

    def loss_terms(self, x):
        """``(reconstruction, kl)``: each summed over pixels / latents and averaged over the batch (nats)."""
        xf = _flat(x, self.in_features, "VAE")
        if self.training:
            logits, mu, logvar = self(xf)
        else:       # the ELBO needs a sample of z even in eval mode
            mu, logvar = self.encode(xf)
            logits = self.dec(mu + ember.randn_like(mu) * (0.5 * logvar).exp())
        n = xf.shape[0]
        rec = F.binary_cross_entropy_with_logits(logits, xf, reduction="sum") / n
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum() / n
        return rec, kl

    def training_step(self, batch) -> dict:
        """Negative ELBO of the batch's inputs (``loss``), with ``recon`` and ``kl`` logged."""
        rec, kl = self.loss_terms(_first(batch))
        return {"loss": rec + kl, "recon": _mean(rec), "kl": _mean(kl)}

    def validation_step(self, batch) -> dict:
        """As ``training_step``, with floats (the Trainer runs it under ``no_grad``)."""
        rec, kl = self.loss_terms(_first(batch))
        return {"loss": _mean(rec + kl), "recon": _mean(rec), "kl": _mean(kl)}

    @ember.no_grad()
    def sample(self, n: int):
        """``n`` images from the prior: pixel probabilities (n, in_features)."""
        return ember.sigmoid(self.dec(ember.randn(n, self.latent_dim)))


class Generator(nn.Module):
    """The GAN's MLP generator: noise (N, latent_dim) -> LeakyReLU(0.2) hidden layers -> tanh output
    (N, out_features) in [-1, 1] (train on images scaled to [-1, 1]).

    >>> Generator()(ember.randn(4, 64)).shape
    ember.Size([4, 784])
    """

    def __init__(self, latent_dim: int = 64, out_features: int = 784, hidden=(256, 512)) -> None:
        super().__init__()
        self.latent_dim, self.out_features = latent_dim, out_features
        layers, sizes = [], [latent_dim, *hidden]
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], out_features), nn.Tanh())

    def forward(self, z):
        """(N, latent_dim) -> (N, out_features)."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"Generator expected noise of shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z)


class Discriminator(nn.Module):
    """The GAN's MLP discriminator: (N, in_features) (or images flattening to it) -> one logit (N, 1), "real"
    when positive; LeakyReLU(0.2) and dropout between layers.

    >>> Discriminator()(ember.randn(4, 784)).shape
    ember.Size([4, 1])
    """

    def __init__(self, in_features: int = 784, hidden=(512, 256), dropout: float = 0.3) -> None:
        super().__init__()
        self.in_features = in_features
        layers, sizes = [], [in_features, *hidden]
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)] + ([nn.Dropout(dropout)] if dropout else [])
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], 1))

    def forward(self, x):
        """(N, in_features) -> (N, 1) logits."""
        return self.net(_flat(x, self.in_features, "Discriminator"))


class GAN(nn.Module):
    """A generator and a discriminator trained together with the non-saturating loss (Goodfellow et al. 2014).

    ``training_step(batch)`` fits the Trainer's contract of one loss and one optimizer step per batch:
    it returns ``d_loss + g_loss`` where

    - ``d_loss = BCE(D(real), real_label) + BCE(D(G(z).detach()), 0)``: the ``detach`` keeps it out of G;
    - ``g_loss = BCE(D(G(z)), 1)`` is computed with D's parameters frozen (``requires_grad=False`` for that
      forward only), so its gradient reaches G through D's input but never D's weights.

    One backward therefore gives D exactly the gradient of ``d_loss`` and G exactly that of ``g_loss``, and one
    optimizer over ``gan.parameters()`` updates both: a *simultaneous* gradient step (both players' gradients
    taken at the same point), instead of the alternating D-then-G steps of the original algorithm; it works as
    well on MNIST and keeps accumulation, clipping, checkpoints and exact resume of the Trainer valid (no hidden
    second optimizer).  Adam with ``betas=(0.5, 0.999)`` and lr 2e-4 is the usual choice.
    ``real_label`` 0.9 is one-sided label smoothing.  Inputs are real images in [-1, 1] (N, data_dim) or
    (N, ...) flattening to it.  ``forward(z)`` generates: (N, latent_dim) -> (N, data_dim).

    >>> gan = GAN()
    >>> out = gan.training_step((x,))    # {'loss': d+g (Tensor), 'd_loss': float, 'g_loss': float}
    >>> images = gan.sample(64)          # (64, 784) in [-1, 1]
    """

    def __init__(self, latent_dim: int = 64, data_dim: int = 784, g_hidden=(256, 512), d_hidden=(512, 256),
                 dropout: float = 0.3, real_label: float = 0.9) -> None:
        super().__init__()
        if not 0 < real_label <= 1:
            raise ValueError(f"GAN: real_label must be in (0, 1], got {real_label}")
        self.latent_dim, self.data_dim, self.real_label = latent_dim, data_dim, real_label
        self.generator = Generator(latent_dim, data_dim, g_hidden)
        self.discriminator = Discriminator(data_dim, d_hidden, dropout)

    def forward(self, z):
        """Generate: noise (N, latent_dim) -> samples (N, data_dim)."""
        return self.generator(z)

    def _losses(self, real, freeze_d: bool):
        real = _flat(real, self.data_dim, "GAN")
        b = real.shape[0]
        D = self.discriminator
        fake = self.generator(ember.randn(b, self.latent_dim))
        d_loss = (F.binary_cross_entropy_with_logits(D(real), ember.full((b, 1), self.real_label))
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), ember.zeros(b, 1)))
        params = [p for p in D.parameters() if p.requires_grad] if freeze_d else []
        for p in params:
            p.requires_grad_(False)
        try:
            g_loss = F.binary_cross_entropy_with_logits(D(fake), ember.ones(b, 1))
        finally:
            for p in params:
                p.requires_grad_(True)
        return d_loss, g_loss

    def training_step(self, batch) -> dict:
        """``{'loss': d_loss + g_loss, 'd_loss': ..., 'g_loss': ...}`` for a batch of real images (see the class)."""
        d_loss, g_loss = self._losses(_first(batch), freeze_d=True)
        return {"loss": d_loss + g_loss, "d_loss": _mean(d_loss), "g_loss": _mean(g_loss)}

    def validation_step(self, batch) -> dict:
        """The same losses as floats, without any update."""
        d_loss, g_loss = self._losses(_first(batch), freeze_d=False)
        return {"loss": _mean(d_loss + g_loss), "d_loss": _mean(d_loss), "g_loss": _mean(g_loss)}

    @ember.no_grad()
    def sample(self, n: int):
        """``n`` generated samples (n, data_dim), generator in eval mode."""
        was = self.generator.training
        self.generator.eval()
        try:
            return self.generator(ember.randn(n, self.latent_dim))
        finally:
            self.generator.train(was)


class RBM(_BaseRBM):
    """``ember.models.rbm.RBM`` (Bernoulli RBM trained by CD-k) with defaults for MNIST and the Trainer's
    ``training_step``: the CD-k surrogate loss ``F(v_data) - F(v_k)`` whose gradient is the CD-k update, with
    the mean-field reconstruction MSE logged as ``recon_mse`` (the number to watch: the surrogate loss is not
    a likelihood and need not fall).  Inputs: (N, n_visible) or images flattening to it, in [0, 1] (binarized).

    >>> rbm = RBM(784, 128, k=1)
    >>> out = rbm.training_step((x,))     # {'loss': Tensor, 'recon_mse': float}
    """

    def __init__(self, n_visible: int = 784, n_hidden: int = 128, k: int = 1) -> None:
        super().__init__(n_visible, n_hidden, k)

    def training_step(self, batch) -> dict:
        """CD-k loss of the batch (and its reconstruction MSE)."""
        v = _flat(_first(batch), self.n_visible, "RBM")
        loss = self.contrastive_divergence(v)
        rec = F.mse_loss(self.reconstruct(v), v)
        return {"loss": loss, "recon_mse": _mean(rec)}

    def validation_step(self, batch) -> dict:
        """CD-k loss and reconstruction MSE as floats."""
        v = _flat(_first(batch), self.n_visible, "RBM")
        return {"loss": _mean(self.contrastive_divergence(v)), "recon_mse": _mean(F.mse_loss(self.reconstruct(v), v))}

    def forward(self, v):
        """Mean-field reconstruction (N, n_visible) of ``v`` (flattened if it is an image batch)."""
        return self.reconstruct(_flat(v, self.n_visible, "RBM"))
