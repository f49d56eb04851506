"""``ember.cuda``: PyTorch's ``torch.cuda`` namespace on a machine ember sees without CUDA.

ember computes on the CPU (NumPy), so ``is_available()`` is False and ``device_count()`` is 0, exactly what
``torch.cuda`` answers on a CPU-only build.  The seeding, synchronisation and memory-statistics calls that
scripts make unconditionally are accepted and do nothing (statistics are 0); anything that needs a GPU
(``set_device``, ``get_device_name``, ``current_device``...) raises one clear ``RuntimeError``.
"""
from __future__ import annotations

import contextlib as _contextlib

__all__ = ["is_available", "device_count", "is_initialized", "init", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "initial_seed", "synchronize", "empty_cache", "memory_allocated", "max_memory_allocated",
           "memory_reserved", "max_memory_reserved", "memory_cached", "max_memory_cached",
           "reset_peak_memory_stats", "reset_max_memory_allocated", "reset_accumulated_memory_stats",
           "memory_stats", "memory_summary", "ipc_collect", "current_device", "set_device", "get_device_name",
           "get_device_capability", "get_device_properties", "device", "device_of", "stream", "Stream", "Event",
           "is_bf16_supported", "get_rng_state", "get_rng_state_all", "set_rng_state", "set_rng_state_all",
           "get_arch_list", "amp", "OutOfMemoryError"]


def _no_cuda(what: str):
    return RuntimeError(f"ember.cuda.{what}: ember has no CUDA device (ember.cuda.is_available() is False); "
                        f"ember computes on 'cpu'")


class OutOfMemoryError(RuntimeError):
    """``torch.cuda.OutOfMemoryError``; never raised by ember (there is no GPU), defined for ``except``."""


def is_available() -> bool:
    """False: ember runs on the CPU."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def init() -> None:
    raise _no_cuda("init")


def manual_seed(seed: int) -> None:
    """Accepted and ignored (there is no CUDA generator), as on a CPU-only PyTorch."""
    int(seed)


def manual_seed_all(seed: int) -> None:
    int(seed)


def seed() -> None:
    pass


def seed_all() -> None:
    pass


def initial_seed() -> int:
    raise _no_cuda("initial_seed")


def get_rng_state(device="cuda"):
    raise _no_cuda("get_rng_state")


def get_rng_state_all() -> list:
    return []


def set_rng_state(new_state, device="cuda") -> None:
    raise _no_cuda("set_rng_state")


def set_rng_state_all(new_states) -> None:
    pass


def synchronize(device=None) -> None:
    """Nothing to wait for: every ember op has finished when it returns."""


def empty_cache() -> None:
    pass


def ipc_collect() -> None:
    pass


def memory_allocated(device=None) -> int:
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_cached = max_memory_cached = memory_allocated


def reset_peak_memory_stats(device=None) -> None:
    pass


reset_max_memory_allocated = reset_max_memory_cached = reset_accumulated_memory_stats = reset_peak_memory_stats


def memory_stats(device=None) -> dict:
    return {}


def memory_summary(device=None, abbreviated: bool = False) -> str:
    return "ember has no CUDA device: no GPU memory in use."


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def get_arch_list() -> list:
    return []


def current_device() -> int:
    raise _no_cuda("current_device")


def set_device(device) -> None:
    raise _no_cuda("set_device")


def get_device_name(device=None) -> str:
    raise _no_cuda("get_device_name")


def get_device_capability(device=None):
    raise _no_cuda("get_device_capability")


def get_device_properties(device=None):
    raise _no_cuda("get_device_properties")


class device:
    """``torch.cuda.device(idx)``: a context manager; refused, there is no CUDA device."""

    def __init__(self, device) -> None:
        raise _no_cuda("device")


def device_of(obj):
    return _contextlib.nullcontext()


class Stream:
    def __init__(self, *args, **kwargs) -> None:
        raise _no_cuda("Stream")


class Event:
    def __init__(self, *args, **kwargs) -> None:
        raise _no_cuda("Event")


def stream(stream=None):
    return _contextlib.nullcontext()


class _Amp:
    """``torch.cuda.amp``: ``autocast`` and ``GradScaler`` from ``ember.amp`` (accepted, no dtype changes;
    the scaler is the disabled pass-through PyTorch gives without CUDA)."""

    @property
    def autocast(self):
        from .amp import _cuda_autocast
        return _cuda_autocast

    @property
    def GradScaler(self):
        from .amp import GradScaler
        return GradScaler


amp = _Amp()
FloatTensor = DoubleTensor = LongTensor = None     # CUDA tensor types do not exist in ember
