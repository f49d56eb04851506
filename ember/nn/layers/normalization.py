"""Normalization layers: ``BatchNorm1d``, ``BatchNorm2d``, ``BatchNorm3d``, ``LayerNorm``, ``RMSNorm``,
``GroupNorm``, ``InstanceNorm1d/2d/3d``, ``LocalResponseNorm``, with PyTorch's parameter and buffer names
(``weight``, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``), defaults and train/eval
behaviour.  The fused kernels live in
``ember.ops.normalization``."""
from __future__ import annotations

from ...tensor import Tensor
from ...creation import ones, zeros, tensor as _tensor
from ...backend import int64
from ..module import Module
from ..parameter import Parameter
from ..functional._norm import batch_norm, layer_norm, group_norm, instance_norm, rms_norm, local_response_norm

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "RMSNorm", "GroupNorm", "InstanceNorm1d",
           "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm"]


def _reset_affine(weight, bias) -> None:
    """weight <- 1, bias <- 0 in place (either may be None)."""
    for p, v in ((weight, 1), (bias, 0)):
        if p is not None:
            p._data[...] = v
            p._version[0] += 1


def _affine_params(module, n, affine, bias, dtype, shape=None, device=None) -> None:
    """Register ``weight`` (ones) and ``bias`` (zeros) of shape ``shape or (n,)`` on ``device``, or None for
    each."""
    shape = shape or (n,)
    module.register_parameter("weight", Parameter(ones(*shape, dtype=dtype, device=device)) if affine else None)
    module.register_parameter("bias", Parameter(zeros(*shape, dtype=dtype, device=device)) if affine and bias
                              else None)


class _NormBase(Module):
    """Parameters and running buffers shared by batch and instance norm (PyTorch's ``_NormBase``)."""

    _dims = ()          # accepted input ranks
    _dims_text = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_params(self, self.num_features, affine, bias, dtype, device=device)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(self.num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(self.num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", _tensor(0, dtype=int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, batch count 0."""
        if self.track_running_stats:
            for buf, val in ((self.running_mean, 0), (self.running_var, 1), (self.num_batches_tracked, 0)):
                buf._data[...] = val
                buf._version[0] += 1

    def reset_parameters(self) -> None:
        """Running statistics reset; weight 1, bias 0."""
        self.reset_running_stats()
        _reset_affine(self.weight, self.bias)

    def _check_input_dim(self, x) -> None:
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} expected a Tensor input, got {type(x).__name__}")
        if x.ndim not in self._dims:
            raise ValueError(f"{name} expected {self._dims_text} input (got {x.ndim}D input): input of shape "
                             f"{tuple(x.shape)}")

    def _check_channels(self, x, axis=1) -> None:
        c = x.shape[axis]
        n = self.num_features
        if n == 0:      # a lazy layer loaded from a state_dict (or with nothing to infer) keeps PyTorch's 0
            t = self.weight if self.weight is not None else self.running_mean
            if t is None:
                return
            n = t.shape[0]
        if c != n:
            raise ValueError(f"{type(self).__name__} expected input with {n} channels, got {c} "
                             f"(input of shape {tuple(x.shape)})")

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        self._check_channels(input)
        eaf = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._version[0] += 1
            # momentum=None: cumulative moving average (factor 1/number of batches seen)
            eaf = 1.0 / float(self.num_batches_tracked._data) if self.momentum is None else self.momentum
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_running = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if use_running else None,
                          self.running_var if use_running else None, self.weight, self.bias, bn_training, eaf,
                          self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) per channel, as ``torch.nn.BatchNorm1d``.

    Training normalizes with the batch statistics and updates ``running_mean``/``running_var`` with
    ``momentum`` (``None``: cumulative average); eval uses the running statistics.  ``weight`` starts at 1,
    ``bias`` at 0.

    >>> bn = nn.BatchNorm1d(16)
    >>> bn(ember.randn(32, 16)).shape
    ember.Size([32, 16])
    """
    _dims = (2, 3)
    _dims_text = "2D or 3D"


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) per channel, as ``torch.nn.BatchNorm2d``; see
    :class:`BatchNorm1d`.

    >>> nn.BatchNorm2d(6)(ember.randn(8, 6, 14, 14)).shape
    ember.Size([8, 6, 14, 14])
    """
    _dims = (4,)
    _dims_text = "4D"


class BatchNorm3d(_BatchNorm):
    """Batch normalization over (N, C, D, H, W) per channel, as ``torch.nn.BatchNorm3d``; see
    :class:`BatchNorm1d`.

    >>> nn.BatchNorm3d(4)(ember.randn(2, 4, 3, 5, 5)).shape
    ember.Size([2, 4, 3, 5, 5])
    """
    _dims = (5,)
    _dims_text = "5D"


class _InstanceNorm(_NormBase):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        self._check_input_dim(input)
        unbatched = input.ndim == self._dims[0]
        x = input.unsqueeze(0) if unbatched else input
        if self.affine or self.track_running_stats:
            self._check_channels(x)
        use_input_stats = self.training or not self.track_running_stats
        out = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization over (N, C, L) or (C, L): each (sample, channel) row normalized on its own, as
    ``torch.nn.InstanceNorm1d`` (``affine`` and ``track_running_stats`` default to False).

    >>> nn.InstanceNorm1d(3)(ember.randn(2, 3, 10)).shape
    ember.Size([2, 3, 10])
    """
    _dims = (2, 3)
    _dims_text = "2D or 3D"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization over (N, C, H, W) or (C, H, W), as ``torch.nn.InstanceNorm2d``.

    >>> nn.InstanceNorm2d(3, affine=True)(ember.randn(2, 3, 8, 8)).shape
    ember.Size([2, 3, 8, 8])
    """
    _dims = (3, 4)
    _dims_text = "3D or 4D"


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization over (N, C, D, H, W) or (C, D, H, W), as ``torch.nn.InstanceNorm3d``.

    >>> nn.InstanceNorm3d(3)(ember.randn(2, 3, 4, 4, 4)).shape
    ember.Size([2, 3, 4, 4, 4])
    """
    _dims = (4, 5)
    _dims_text = "4D or 5D"


class LayerNorm(Module):
    """Layer normalization over the last ``len(normalized_shape)`` dims, as ``torch.nn.LayerNorm``;
    ``weight`` (ones) and ``bias`` (zeros, omitted with ``bias=False``) have shape ``normalized_shape``.

    >>> nn.LayerNorm(16)(ember.randn(4, 10, 16)).shape
    ember.Size([4, 10, 16])
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_params(self, 0, elementwise_affine, bias, dtype, self.normalized_shape, device)

    def reset_parameters(self) -> None:
        """Weight 1, bias 0."""
        _reset_affine(self.weight, self.bias)

    def forward(self, input):
        k = len(self.normalized_shape)
        if not isinstance(input, Tensor) or input.ndim < k or tuple(input.shape[input.ndim - k:]) != \
                self.normalized_shape:
            shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise RuntimeError(f"LayerNorm expected input of shape (*, {', '.join(map(str, self.normalized_shape))})"
                               f", got {shape}")
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalization: ``num_channels`` split into ``num_groups`` groups normalized per sample, then a
    per-channel affine (``weight`` ones, ``bias`` zeros), as ``torch.nn.GroupNorm``.

    >>> nn.GroupNorm(3, 6)(ember.randn(2, 6, 4, 4)).shape
    ember.Size([2, 6, 4, 4])
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = int(num_groups)
        self.num_channels = int(num_channels)
        self.eps = eps
        self.affine = affine
        _affine_params(self, self.num_channels, affine, bias, dtype, device=device)

    def reset_parameters(self) -> None:
        """Weight 1, bias 0."""
        _reset_affine(self.weight, self.bias)

    def forward(self, input):
        if not isinstance(input, Tensor) or input.ndim < 2 or input.shape[1] != self.num_channels:
            shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise RuntimeError(f"GroupNorm expected input of shape (N, {self.num_channels}, *), got {shape}")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"


def _shape_tuple(normalized_shape) -> tuple:
    if isinstance(normalized_shape, int):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


class RMSNorm(Module):
    """Root-mean-square normalization over the last ``len(normalized_shape)`` dims, as ``torch.nn.RMSNorm``:
    ``x / sqrt(mean(x**2) + eps) * weight``; ``eps=None`` uses the input dtype's machine epsilon, ``weight``
    (ones, of shape ``normalized_shape``) is omitted with ``elementwise_affine=False``.

    >>> nn.RMSNorm(16)(ember.randn(4, 10, 16)).shape
    ember.Size([4, 10, 16])
    """

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.register_parameter("weight", Parameter(ones(*self.normalized_shape, dtype=dtype, device=device))
                                if elementwise_affine else None)

    def reset_parameters(self) -> None:
        """Weight 1."""
        _reset_affine(self.weight, None)

    def forward(self, x):
        k = len(self.normalized_shape)
        if not isinstance(x, Tensor) or x.ndim < k or tuple(x.shape[x.ndim - k:]) != self.normalized_shape:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise RuntimeError(f"RMSNorm expected input of shape (*, {', '.join(map(str, self.normalized_shape))})"
                               f", got {shape}")
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class LocalResponseNorm(Module):
    """Local response normalization across channels (AlexNet's), as ``torch.nn.LocalResponseNorm``:
    ``x / (k + alpha * mean of x**2 over the `size` neighbouring channels)**beta``.  Input (N, C, *), at
    least 3-D.  No parameters.

    >>> nn.LocalResponseNorm(2)(ember.randn(2, 8, 5, 5)).shape
    ember.Size([2, 8, 5, 5])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"LocalResponseNorm expected a Tensor input, got {type(input).__name__}")
        if input.ndim < 3:
            raise ValueError(f"LocalResponseNorm expected an input of 3 or more dims (N, C, *), got shape "
                             f"{tuple(input.shape)} ({input.ndim}D)")
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
