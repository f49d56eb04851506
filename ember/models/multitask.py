"""Multi-task networks: one shared trunk, several heads, and a weighted sum of the heads' losses, with fixed
weights or learned uncertainty weighting (Kendall, Gal and Cipolla, 2018).

    net = MultiTaskNet(mnist_trunk(), {"digit": 10, "parity": 1, "ink": 1}, features=64)
    outs = net(x)                                    # {"digit": (N, 10), "parity": (N,), "ink": (N,)}
    weighting = UncertaintyWeighting(["digit", "parity", "ink"], kinds={"ink": "regression"})
    total = weighting({"digit": l_digit, "parity": l_parity, "ink": l_ink})   # train its parameters too
"""
from __future__ import annotations

import ember
from .. import nn

__all__ = ["MultiTaskNet", "mnist_trunk", "multitask_net", "FixedWeighting", "UncertaintyWeighting"]


def mnist_trunk(features: int = 64, in_channels: int = 1, width: int = 16) -> nn.Module:
    """A small convolutional trunk for (N, 1, 28, 28) images -> (N, features): two 5x5 conv + max-pool blocks and
    a fully connected layer."""
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * width * 7 * 7, features), nn.ReLU())


class MultiTaskNet(nn.Module):
    """``trunk`` (any module giving (N, features)) shared by one linear head per task; ``heads`` maps a task name
    to its output size.  ``forward`` returns a dict of outputs, a head of size 1 squeezed to (N,)."""

    def __init__(self, trunk: nn.Module, heads: dict, features: int) -> None:
        super().__init__()
        if not heads:
            raise ValueError("MultiTaskNet: expected at least one head, got none")
        self.trunk = trunk
        self.heads = nn.ModuleDict({name: nn.Linear(features, int(size)) for name, size in heads.items()})

    def forward(self, x):
        z = self.trunk(x)
        return {name: (h(z).squeeze(1) if h.out_features == 1 else h(z)) for name, h in self.heads.items()}


def multitask_net(heads=None, features: int = 64, width: int = 16, in_channels: int = 1) -> MultiTaskNet:
    """``MultiTaskNet(mnist_trunk(features, in_channels, width), heads, features)``: the registry's
    ``"multitask_net"`` for (N, C, 28, 28) images; ``ember train`` fills ``heads`` from the config's per-head
    losses (a class head gets the data's class count, a binary or regression head 1 output)."""
    if not isinstance(heads, dict) or not heads:
        raise ValueError(f"multitask_net: heads must map head names to output sizes, e.g. {{'digit': 10, "
                         f"'parity': 1}}, got {heads!r}")
    return MultiTaskNet(mnist_trunk(features, in_channels, width), heads, features)


class FixedWeighting(nn.Module):
    """``sum_i w_i L_i`` with fixed ``weights`` (a dict; missing tasks weigh 1)."""

    def __init__(self, weights: dict | None = None) -> None:
        super().__init__()
        self.weights = dict(weights or {})

    def forward(self, losses: dict):
        return sum(self.weights.get(k, 1.0) * v for k, v in losses.items())


class UncertaintyWeighting(nn.Module):
    """Kendall et al. (2018): each task i has a learned ``s_i = log sigma_i^2`` and the total loss is
    ``sum_i c_i exp(-s_i) L_i + s_i / 2`` with ``c_i = 1/2`` for regression (a Gaussian likelihood, L_i the mean
    squared error) and ``c_i = 1`` for classification (L_i the cross-entropy).  A task the model finds noisy gets
    a larger sigma and so a smaller weight; ``weights()`` gives the current ``c_i exp(-s_i)``."""

    def __init__(self, tasks, kinds: dict | None = None) -> None:
        super().__init__()
        self.tasks = list(tasks)
        kinds = dict(kinds or {})
        bad = {k: v for k, v in kinds.items() if v not in ("regression", "classification") or k not in self.tasks}
        if bad:
            raise ValueError(f"UncertaintyWeighting: kinds must map tasks {self.tasks} to 'regression' or "
                             f"'classification', got {bad}")
        self.scale = [0.5 if kinds.get(t) == "regression" else 1.0 for t in self.tasks]
        self.log_vars = nn.Parameter(ember.zeros(len(self.tasks)))

    def forward(self, losses: dict):
        missing = [t for t in self.tasks if t not in losses]
        if missing or len(losses) != len(self.tasks):
            raise ValueError(f"UncertaintyWeighting expected losses for {self.tasks}, got {sorted(losses)}")
        total = 0
        for i, t in enumerate(self.tasks):
            s = self.log_vars[i]
            total = total + self.scale[i] * ember.exp(-s) * losses[t] + 0.5 * s
        return total

    def weights(self) -> dict:
        with ember.no_grad():
            return {t: self.scale[i] * float(ember.exp(-self.log_vars[i])) for i, t in enumerate(self.tasks)}
