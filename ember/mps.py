"""``ember.mps``: Apple's Metal device, which ember does not have (``torch.mps`` on a machine without it)."""
from __future__ import annotations

__all__ = ["is_available", "device_count", "manual_seed", "seed", "synchronize", "empty_cache",
           "current_allocated_memory", "driver_allocated_memory"]


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    int(seed)


def seed() -> None:
    pass


def synchronize() -> None:
    pass


def empty_cache() -> None:
    pass


def current_allocated_memory() -> int:
    return 0


driver_allocated_memory = current_allocated_memory
