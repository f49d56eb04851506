"""Restricted Boltzmann machine with Bernoulli visible and hidden units, trained by contrastive divergence.

The CD-k gradient is obtained through ember's autograd: the loss is the difference of free energies
F(v_data) - F(v_model), with v_model the k-step Gibbs sample treated as a constant; its gradient w.r.t.
(W, b, c) is exactly the CD-k update of Hinton (2002).  Not in PyTorch.

    rbm = RBM(784, 128)
    loss = rbm.contrastive_divergence(v)   # v: (B, 784) in [0, 1] (binarized MNIST)
    loss.backward(); optimizer.step()
"""
from __future__ import annotations

import math

import ember
import ember.nn.functional as F
from ember.nn.module import Module
from ember.nn.parameter import Parameter


class RBM(Module):
    """Bernoulli-Bernoulli RBM with ``weight`` (n_hidden, n_visible), ``v_bias`` and ``h_bias``.

    Args:
        n_visible: number of visible units (784 for MNIST).
        n_hidden: number of hidden units.
        k: Gibbs steps per contrastive-divergence update (CD-k).
    """

    def __init__(self, n_visible: int, n_hidden: int, k: int = 1) -> None:
        super().__init__()
        self.n_visible, self.n_hidden, self.k = n_visible, n_hidden, k
        self.weight = Parameter(ember.randn(n_hidden, n_visible) * 0.01)
        self.v_bias = Parameter(ember.zeros(n_visible))
        self.h_bias = Parameter(ember.zeros(n_hidden))

    def _check(self, v):
        if v.ndim != 2 or v.shape[1] != self.n_visible:
            raise ValueError(f"RBM expected visible input of shape (B, {self.n_visible}), got {tuple(v.shape)}")

    def p_h(self, v):
        """P(h = 1 | v)."""
        return ember.sigmoid(v @ self.weight.T + self.h_bias)

    def p_v(self, h):
        """P(v = 1 | h)."""
        return ember.sigmoid(h @ self.weight + self.v_bias)

    def free_energy(self, v):
        """F(v) = -v.b - sum_j softplus(c_j + W_j v), per sample."""
        return -(v @ self.v_bias) - F.softplus(v @ self.weight.T + self.h_bias).sum(1)

    @ember.no_grad()
    def gibbs(self, v, k: int | None = None):
        """k steps of block Gibbs sampling v -> h -> v, returning the last visible sample."""
        for _ in range(self.k if k is None else k):
            h = ember.bernoulli(self.p_h(v))
            v = ember.bernoulli(self.p_v(h))
        return v

    def contrastive_divergence(self, v):
        """The CD-k surrogate loss: mean free energy of the data minus that of the k-step samples."""
        self._check(v)
        v_model = self.gibbs(v)
        return self.free_energy(v).mean() - self.free_energy(v_model).mean()

    @ember.no_grad()
    def reconstruct(self, v):
        """Mean-field reconstruction v -> P(h|v) -> P(v|h)."""
        self._check(v)
        return self.p_v(self.p_h(v))

    def forward(self, v):
        return self.reconstruct(v)


def filters_grid(rbm: RBM, shape=(28, 28), n: int | None = None):
    """The first ``n`` hidden units' weights as a (rows*H, cols*W) NumPy image in [0, 1], for plotting."""
    import numpy as np
    w = rbm.weight.detach().numpy()
    n = min(n or w.shape[0], w.shape[0])
    cols = int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    H, W = shape
    img = np.ones((rows * (H + 1), cols * (W + 1)), np.float32)
    for i in range(n):
        f = w[i].reshape(H, W)
        f = (f - f.min()) / (np.ptp(f) + 1e-8)
        r, c = divmod(i, cols)
        img[r * (H + 1):r * (H + 1) + H, c * (W + 1):c * (W + 1) + W] = f
    return img
