"""``ember.accelerator``: PyTorch's device-agnostic ``torch.accelerator`` API.  ember has no accelerator
(it computes on the CPU), so ``is_available()`` is False, ``current_accelerator()`` is None and
``device_count()`` is 0, which is what PyTorch answers on a CPU-only machine."""
from __future__ import annotations

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "current_device_idx",
           "set_device_index", "set_device_idx", "synchronize", "empty_cache", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "max_memory_reserved", "memory_stats",
           "reset_peak_memory_stats", "reset_accumulated_memory_stats"]


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    return None


def device_count() -> int:
    return 0


def current_device_index() -> int:
    raise RuntimeError("ember.accelerator.current_device_index: ember has no accelerator; it computes on 'cpu'")


current_device_idx = current_device_index


def set_device_index(device) -> None:
    raise RuntimeError(f"ember.accelerator.set_device_index({device!r}): ember has no accelerator; it computes "
                       f"on 'cpu'")


set_device_idx = set_device_index


def synchronize(device=None) -> None:
    pass


def empty_cache() -> None:
    pass


def memory_allocated(device_index=None) -> int:
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


def memory_stats(device_index=None) -> dict:
    return {}


def reset_peak_memory_stats(device_index=None) -> None:
    pass


reset_accumulated_memory_stats = reset_peak_memory_stats
