"""ember's random number generators: one global generator seeded by ``manual_seed``, plus explicit ones.

A single ``ember.manual_seed(s)`` makes a whole run reproducible: every random op (``rand``, dropout masks,
weight initialization, DataLoader shuffling) draws from ``default_generator`` unless handed a ``Generator``.
"""
from __future__ import annotations

import threading

import numpy as np


class Generator:
    """A seeded source of random numbers, like ``torch.Generator`` (backed by NumPy's PCG64)."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> "Generator":
        seed = int(seed)
        if seed < 0:
            seed &= 0xFFFF_FFFF_FFFF_FFFF
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The generator's full state as plain Python values (JSON-serializable, no pickle)."""
        st = self._rng.bit_generator.state
        return {"seed": self._seed, "state": int(st["state"]["state"]), "inc": int(st["state"]["inc"]),
                "has_uint32": int(st["has_uint32"]), "uinteger": int(st["uinteger"])}

    def set_state(self, state: dict) -> None:
        bg = np.random.PCG64()
        bg.state = {"bit_generator": "PCG64", "state": {"state": int(state["state"]), "inc": int(state["inc"])},
                    "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])}
        self._rng = np.random.Generator(bg)
        self._seed = int(state.get("seed", self._seed))

    @property
    def rng(self) -> np.random.Generator:
        """The NumPy generator that draws the numbers."""
        return self._rng


default_generator = Generator()
default_generator.manual_seed(0x5EED)


def manual_seed(seed: int) -> Generator:
    """Seed the global generator (and NumPy's legacy global one, for user code that uses it)."""
    np.random.seed(int(seed) % (2**32))
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(new_state: dict) -> None:
    default_generator.set_state(new_state)


# DataLoader worker threads set their own generator here, so that random ops inside a worker (a user's
# augmentation calling ember.rand) draw from a per-worker, reproducible stream instead of racing on the global one.
_local = threading.local()


def rng_of(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, else the current worker's, else the global one."""
    if generator is not None:
        return generator.rng
    return (getattr(_local, "generator", None) or default_generator).rng
