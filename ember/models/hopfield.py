"""Hopfield network: an associative memory that stores binary (+1/-1) patterns in symmetric weights with
Hebb's rule and recalls a stored pattern from a corrupted one by descending the network's energy.

    net = HopfieldNetwork(100)
    net.store(patterns)                 # (P, 100) tensor of +1/-1
    recalled = net(corrupted)           # iterate until no unit changes

It learns without gradients (``automatic_optimization = False``): with the ``Trainer`` or ``ember train``, one
epoch over the patterns stores them (``training_step``), and evaluating on ``(corrupted, original)`` pairs
reports how many are recalled (``validation_step``).

Not in PyTorch; follows Hopfield (1982) with the Hebbian rule W = (1/N) * sum_p x_p x_p^T, zero diagonal.
Capacity is about 0.138 N random patterns before recall degrades.
"""
from __future__ import annotations

import ember
from ember.nn.module import Module


class HopfieldNetwork(Module):
    """A fully connected network of ``num_units`` binary (+1/-1) neurons with symmetric weights.

    Args:
        num_units: number of neurons N (pattern length).
        max_iter: maximum number of update sweeps in ``forward``.
        mode: "async" (one unit at a time in random order: energy never increases, guaranteed to converge) or
            "sync" (all units at once: faster, may oscillate between two states).
    """

    automatic_optimization = False      # Hebb's rule in training_step; no optimizer, no backward

    def __init__(self, num_units: int = 100, max_iter: int = 100, mode: str = "async") -> None:
        super().__init__()
        if mode not in ("async", "sync"):
            raise ValueError(f"HopfieldNetwork: mode must be 'async' or 'sync', got {mode!r}")
        self.num_units = num_units
        self.max_iter = max_iter
        self.mode = mode
        self.register_buffer("weight", ember.zeros(num_units, num_units))

    def _check(self, x, what):
        if x.ndim not in (1, 2) or x.shape[-1] != self.num_units:
            raise ValueError(f"HopfieldNetwork expected {what} of shape (P, {self.num_units}) or "
                             f"({self.num_units},), got {tuple(x.shape)}")
        bad = ((x != 1) & (x != -1)).any()
        if bool(bad):
            raise ValueError(f"HopfieldNetwork expected {what} with values in {{-1, +1}}")

    @ember.no_grad()
    def store(self, patterns) -> None:
        """Add ``patterns`` (P, N) of +1/-1 to the memory with Hebb's rule (accumulates over calls)."""
        p = ember.as_tensor(patterns).float()
        p = p.unsqueeze(0) if p.ndim == 1 else p
        self._check(p, "patterns")
        w = self.weight + p.T @ p / self.num_units
        w = w * (1 - ember.eye(self.num_units))       # no self-connections
        self.weight.copy_(w)

    def energy(self, state):
        """E(s) = -1/2 s^T W s for each state (lower is more stable)."""
        s = ember.as_tensor(state).float()
        return -0.5 * ((s @ self.weight) * s).sum(-1)

    @ember.no_grad()
    def forward(self, state, generator=None):
        """Run the dynamics from ``state`` (P, N) or (N,) until no unit changes or ``max_iter`` sweeps."""
        s = ember.as_tensor(state).float().clone()
        single = s.ndim == 1
        s = s.unsqueeze(0) if single else s
        self._check(s, "state")
        w = self.weight
        for _ in range(self.max_iter):
            prev = s.clone()
            if self.mode == "sync":
                h = s @ w
                s = ember.where(h >= 0, 1.0, -1.0)
            else:
                for i in ember.randperm(self.num_units, generator=generator).tolist():
                    h = s @ w[:, i]
                    s[:, i] = ember.where(h >= 0, 1.0, -1.0)
            if ember.equal(s, prev):
                break
        return s[0] if single else s

    def training_step(self, batch) -> dict:
        """Store the batch's patterns (``batch`` is the patterns, or ``(patterns, targets)`` whose first entry is
        stored); returns ``loss``: the mean energy per unit of the stored patterns (about -1/2 - P/(2N) while
        they are stable; it rises towards 0 as the memory fills up)."""
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        self.store(x)
        return {"loss": float(self.energy(x).mean()) / self.num_units}

    def validation_step(self, batch) -> dict:
        """For ``(inputs, originals)`` pairs (e.g. stored patterns with 20% of the bits flipped): ``recall`` (the
        fraction of inputs that converge to their original exactly), ``bit_accuracy``, and ``loss`` = 1 -
        bit_accuracy (the fraction of wrong units after the dynamics)."""
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise TypeError("HopfieldNetwork.validation_step expected batches (inputs, originals)")
        x, target = batch
        out = self(x, generator=ember.Generator().manual_seed(0))     # the same update order every evaluation
        same = out == ember.as_tensor(target).float()
        bits = float(same.float().mean())
        return {"loss": 1.0 - bits, "recall": float(same.all(dim=-1).float().mean()), "bit_accuracy": bits}
