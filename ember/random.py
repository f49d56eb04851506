"""``ember.random``: PyTorch's ``torch.random`` (seeding and generator state), plus ``fork_rng``, which
restores the global generator's state after its block."""
from __future__ import annotations

import contextlib

from .backend import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,  # noqa: F401
                      set_rng_state)

__all__ = ["Generator", "default_generator", "get_rng_state", "set_rng_state", "manual_seed", "seed",
           "initial_seed", "fork_rng"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
    """Random numbers drawn inside the block do not change the global generator's state after it."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
