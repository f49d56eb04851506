"""``ember.cuda``: PyTorch's ``torch.cuda`` namespace.

With CuPy installed (``pip install 'ember[cuda]'``) and a GPU present, ``is_available()`` is True and tensors
and modules move there with ``.to("cuda")``/``.cuda()``; ops run on CuPy arrays (``ember/backend/device.py``).
Without one, ``is_available()`` is False and ``device_count()`` 0, exactly what ``torch.cuda`` answers on a
CPU-only build: the seeding, synchronisation and memory-statistics calls that scripts make unconditionally are
accepted and do nothing (statistics are 0), and anything that needs a GPU raises one clear ``RuntimeError``.
CuPy is imported on the first question, never by ``import ember``.
"""
from __future__ import annotations

import contextlib as _contextlib

from .backend import device as _dev

__all__ = ["is_available", "device_count", "is_initialized", "init", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "initial_seed", "synchronize", "empty_cache", "memory_allocated", "max_memory_allocated",
           "memory_reserved", "max_memory_reserved", "memory_cached", "max_memory_cached",
           "reset_peak_memory_stats", "reset_max_memory_allocated", "reset_accumulated_memory_stats",
           "memory_stats", "memory_summary", "ipc_collect", "current_device", "set_device", "get_device_name",
           "get_device_capability", "get_device_properties", "device", "device_of", "stream", "Stream", "Event",
           "is_bf16_supported", "get_rng_state", "get_rng_state_all", "set_rng_state", "set_rng_state_all",
           "get_arch_list", "amp", "OutOfMemoryError"]

_current = [0]          # the current CUDA device index (set_device / with cuda.device(i))
_seed = [None]          # the CUDA generator's seed (manual_seed)
_peak = [0]


def _no_cuda(what: str):
    return RuntimeError(f"ember.cuda.{what}: ember has no CUDA device (ember.cuda.is_available() is False); "
                        f"ember computes on 'cpu'")


class OutOfMemoryError(RuntimeError):
    """``torch.cuda.OutOfMemoryError``; never raised by ember (there is no GPU), defined for ``except``."""


def _mod():
    return _dev.cuda_module(required=False)


def _need(what: str):
    m = _mod()
    if m is None:
        raise RuntimeError(f"ember.cuda.{what}: no CUDA device ({_dev.cuda_module.reason}); "
                           f"ember.cuda.is_available() is False, ember computes on 'cpu'")
    return m


def is_available() -> bool:
    """True when CuPy is installed and sees a GPU."""
    return _mod() is not None


def device_count() -> int:
    m = _mod()
    return 0 if m is None else int(m.cuda.runtime.getDeviceCount())


def is_initialized() -> bool:
    return _dev.cuda is not None


def init() -> None:
    _need("init")


def manual_seed(seed: int) -> None:
    """Seed the CUDA generator (accepted and remembered without a GPU, as on a CPU-only PyTorch)."""
    _seed[0] = int(seed)
    m = _dev.cuda
    if m is not None:
        m.random.seed(int(seed) % (1 << 32))


def manual_seed_all(seed: int) -> None:
    manual_seed(seed)


def seed() -> None:
    pass


def seed_all() -> None:
    pass


def initial_seed() -> int:
    _need("initial_seed")
    return _seed[0] if _seed[0] is not None else 0


def get_rng_state(device="cuda"):
    raise _no_cuda("get_rng_state")


def get_rng_state_all() -> list:
    return []


def set_rng_state(new_state, device="cuda") -> None:
    raise _no_cuda("set_rng_state")


def set_rng_state_all(new_states) -> None:
    pass


def synchronize(device=None) -> None:
    """Wait until the work queued on the GPU has finished (nothing to wait for without one)."""
    _dev.synchronize(_index(device) if device is not None else None)


def _index(device) -> int:
    if device is None:
        return _current[0]
    if isinstance(device, int):
        return device
    from .tensor import device as _device_cls
    d = _device_cls(device) if not isinstance(device, _device_cls) else device
    return _current[0] if d.index is None else d.index


def empty_cache() -> None:
    """Return the memory CuPy's pool keeps cached to the driver."""
    m = _dev.cuda
    if m is not None:
        m.get_default_memory_pool().free_all_blocks()


def ipc_collect() -> None:
    pass


def memory_allocated(device=None) -> int:
    """Bytes held by tensors on the GPU (CuPy's memory pool in use); 0 without one."""
    m = _dev.cuda
    if m is None:
        return 0
    used = int(m.get_default_memory_pool().used_bytes())
    _peak[0] = max(_peak[0], used)
    return used


def memory_reserved(device=None) -> int:
    """Bytes CuPy's memory pool holds from the driver (in use and cached)."""
    m = _dev.cuda
    return 0 if m is None else int(m.get_default_memory_pool().total_bytes())


def max_memory_allocated(device=None) -> int:
    """The largest ``memory_allocated`` seen since the last reset (sampled when statistics are read)."""
    memory_allocated(device)
    return _peak[0]


memory_cached = max_memory_reserved = max_memory_cached = memory_reserved


def reset_peak_memory_stats(device=None) -> None:
    _peak[0] = 0


reset_max_memory_allocated = reset_max_memory_cached = reset_accumulated_memory_stats = reset_peak_memory_stats


def memory_stats(device=None) -> dict:
    if _dev.cuda is None:
        return {}
    return {"allocated_bytes.all.current": memory_allocated(device), "allocated_bytes.all.peak": _peak[0],
            "reserved_bytes.all.current": memory_reserved(device)}


def memory_summary(device=None, abbreviated: bool = False) -> str:
    if _dev.cuda is None:
        return "ember has no CUDA device: no GPU memory in use."
    return (f"ember CUDA memory (CuPy pool): allocated {memory_allocated(device)} bytes, peak {_peak[0]} bytes, "
            f"reserved {memory_reserved(device)} bytes")


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def get_arch_list() -> list:
    return []


def current_device() -> int:
    _need("current_device")
    return _current[0]


def set_device(device) -> None:
    m = _need("set_device")
    i = _index(device)
    if not 0 <= i < device_count():
        raise RuntimeError(f"ember.cuda.set_device: invalid device ordinal {i}: {device_count()} CUDA device(s)")
    _current[0] = i
    m.cuda.Device(i).use()


def _props(device):
    m = _need("get_device_properties")
    return m.cuda.runtime.getDeviceProperties(_index(device))


def get_device_name(device=None) -> str:
    name = _props(device)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def get_device_capability(device=None):
    p = _props(device)
    return int(p["major"]), int(p["minor"])


def get_device_properties(device=None):
    import types
    p = _props(device)
    name = p["name"].decode() if isinstance(p["name"], bytes) else str(p["name"])
    return types.SimpleNamespace(name=name, total_memory=int(p["totalGlobalMem"]), major=int(p["major"]),
                                 minor=int(p["minor"]), multi_processor_count=int(p["multiProcessorCount"]))


class device:
    """``torch.cuda.device(idx)``: a context manager making ``idx`` the current CUDA device."""

    def __init__(self, device) -> None:
        _need("device")
        self.idx = _index(device)

    def __enter__(self):
        self.prev = _current[0]
        set_device(self.idx)
        return self

    def __exit__(self, *exc):
        set_device(self.prev)
        return False


def device_of(obj):
    """``torch.cuda.device_of(tensor)``: the tensor's CUDA device as a context manager (a no-op for CPU)."""
    d = getattr(obj, "device", None)
    if d is None or getattr(d, "type", "cpu") != "cuda":
        return _contextlib.nullcontext()
    return device(d.index or 0)


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
        from .amp import _CudaGradScaler
        return _CudaGradScaler


amp = _Amp()
FloatTensor = DoubleTensor = LongTensor = None     # CUDA tensor types do not exist in ember
