"""``ember.nn.parallel``: PyTorch's data-parallel wrappers.  ember has one device (the CPU), so
``DataParallel`` is a pass-through wrapper: ``dp(x)`` is ``dp.module(x)`` and its ``state_dict`` keys carry
the ``module.`` prefix, as PyTorch's do.  ``DistributedDataParallel`` trains one model replica per process over
``ember.distributed`` (MPI); see ``ember/nn/parallel/distributed.py`` and docs/distributed.md."""
from __future__ import annotations

from ..module import Module

__all__ = ["DataParallel", "DistributedDataParallel", "SyncBatchNorm", "data_parallel"]


def _check_devices(device_ids, output_device) -> None:
    from ...tensor import _check_device
    for d in list(device_ids or ()) + ([output_device] if output_device is not None else []):
        if isinstance(d, int):
            raise RuntimeError(f"DataParallel: device id {d} is a CUDA device; ember has no CUDA device "
                               f"(ember.cuda.is_available() is False) and runs on 'cpu'")
        _check_device(d)


class DataParallel(Module):
    """``nn.DataParallel(module)``: on ember's single CPU device it runs ``module`` unchanged."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        _check_devices(device_ids, output_device)
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim: int = 0, module_kwargs=None):
    _check_devices(device_ids, output_device)
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    return module(*inputs, **(module_kwargs or {}))


from .distributed import DistributedDataParallel  # noqa: E402
from .sync_batchnorm import SyncBatchNorm  # noqa: E402
