"""``ember.amp``: PyTorch's automatic mixed precision API.  ember computes in the dtype it is given (there is
no float16/bfloat16 GEMM to gain from on NumPy), so ``autocast`` is accepted and leaves dtypes unchanged,
and ``GradScaler`` is the disabled scaler PyTorch gives without CUDA: ``scale`` returns the loss as is and
``step`` calls ``optimizer.step()``.  Results therefore equal a float32 run, not a reduced-precision one."""
from __future__ import annotations

import contextlib as _contextlib
import functools as _functools
import warnings as _warnings

__all__ = ["autocast", "GradScaler", "is_autocast_available", "custom_fwd", "custom_bwd"]


class autocast(_contextlib.ContextDecorator):
    """``with autocast(device_type, dtype=None, enabled=True):`` accepted; ember keeps every op's dtype."""

    def __init__(self, device_type: str = "cpu", dtype=None, enabled: bool = True, cache_enabled=None) -> None:
        self.device_type, self.fast_dtype, self.enabled = device_type, dtype, enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def is_autocast_available(device_type: str) -> bool:
    return False


def custom_fwd(fwd=None, *, device_type: str = "cpu", cast_inputs=None):
    if fwd is None:
        return lambda f: custom_fwd(f, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type: str = "cpu"):
    if bwd is None:
        return lambda f: custom_bwd(f, device_type=device_type)
    return bwd


class GradScaler:
    """A disabled gradient scaler (PyTorch's ``GradScaler`` without CUDA): ``scale(x)`` is ``x``,
    ``step(opt)`` is ``opt.step()``, ``get_scale()`` is 1.0."""

    def __init__(self, device: str = "cpu", init_scale: float = 65536.0, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        self._enabled = False

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer) -> None:
        pass

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        pass

    def get_scale(self) -> float:
        return 1.0

    def is_enabled(self) -> bool:
        return False

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state_dict) -> None:
        pass


_CUDA_AMP = "`torch.cuda.amp.{0}(args...)` is deprecated. Please use `torch.amp.{0}('cuda', args...)` instead."


@_functools.wraps(autocast)
def _cuda_autocast(enabled: bool = True, dtype=None, cache_enabled=None):
    """``torch.cuda.amp.autocast`` (deprecated there, with its FutureWarning): ``autocast("cuda", ...)``."""
    _warnings.warn(_CUDA_AMP.format("autocast"), FutureWarning, stacklevel=2)
    return autocast("cuda", dtype=dtype, enabled=enabled)


class _CudaGradScaler(GradScaler):
    """``torch.cuda.amp.GradScaler`` (deprecated there, with its FutureWarning): ``GradScaler("cuda", ...)``,
    its parameters from ``init_scale`` on (no ``device``)."""

    def __init__(self, init_scale: float = 65536.0, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        _warnings.warn(_CUDA_AMP.format("GradScaler"), FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


_CudaGradScaler.__name__ = _CudaGradScaler.__qualname__ = "GradScaler"
