"""``nn.SyncBatchNorm``: batch normalization whose batch statistics are computed over every rank's batch.

In training with an initialised process group of more than one rank, the per-channel mean and (biased) variance
come from two all-reduces (sum, then centred sum of squares) over all ranks; the all-reduce is differentiable (its
backward all-reduces the gradients), so backward matches BatchNorm on the concatenated global batch.  The running
statistics are updated with the global mean and unbiased variance, identically on every rank.  In eval mode, or
in one process, it is BatchNorm.  ``SyncBatchNorm.convert_sync_batchnorm(model)`` swaps every BatchNorm*d."""
from __future__ import annotations

from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...backend import xp
from ..layers.normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


class _AllReduceSum(Function):
    @staticmethod
    def forward(ctx, a, comm):
        from mpi4py import MPI
        out = xp.array(a, order="C", copy=True)
        comm.Allreduce(MPI.IN_PLACE, out, MPI.SUM)
        ctx.comm = comm
        return out

    @staticmethod
    def backward(ctx, g):
        return _AllReduceSum.apply(g, ctx.comm), None


class SyncBatchNorm(_BatchNorm):
    """``nn.SyncBatchNorm(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
    process_group=None, *, bias=True)`` for inputs (N, C, *) of 2 to 5 dimensions."""

    _dims = (2, 3, 4, 5)
    _dims_text = "at least 2D"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group=None, device=None, dtype=None, *,
                 bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, x) -> None:
        from ...tensor import Tensor
        if not isinstance(x, Tensor):
            raise TypeError(f"SyncBatchNorm expected a Tensor input, got {type(x).__name__}")
        if x.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {x.ndim}D input)")

    def _comm(self):
        from ... import distributed as dist
        if not dist.is_initialized():
            return None
        pg = dist._group(self.process_group)
        return pg.comm if pg.size() > 1 else None

    def forward(self, input):
        self._check_input_dim(input)
        self._check_channels(input)
        comm = self._comm() if self.training else None
        if comm is None:
            return super().forward(input)
        c = self.num_features
        dims = tuple(d for d in range(input.ndim) if d != 1)
        shape = (1, c) + (1,) * (input.ndim - 2)
        count = comm.allreduce(int(input.numel() // c))
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{tuple(input.shape)} and {count} values per channel over all ranks")
        mean = _AllReduceSum.apply(input.sum(dims), comm) / count
        xc = input - mean.reshape(shape)
        var = _AllReduceSum.apply((xc * xc).sum(dims), comm) / count
        y = xc / (var + self.eps).sqrt().reshape(shape)
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        if self.track_running_stats and self.running_mean is not None:
            with no_grad():
                self.num_batches_tracked._data += 1
                self.num_batches_tracked._version[0] += 1
                m = (1.0 / float(self.num_batches_tracked._data) if self.momentum is None else self.momentum)
                rm, rv = self.running_mean, self.running_var
                rm._data[...] = (1 - m) * rm._data + m * mean._data.astype(rm._data.dtype)
                rv._data[...] = (1 - m) * rv._data + m * (var._data * (count / (count - 1))).astype(rv._data.dtype)
                rm._version[0] += 1
                rv._version[0] += 1
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every ``BatchNorm*d`` replaced by a SyncBatchNorm holding the same parameters and
        buffers (in place for children; returns the converted module)."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group, bias=module.bias is not None or not module.affine)
            if module.affine:
                with no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


