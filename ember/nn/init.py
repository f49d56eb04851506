"""``ember.nn.init``: weight initializers with PyTorch's names, formulas and defaults.

Each one fills a tensor in place (outside the graph), draws from ember's global generator (so
``ember.manual_seed`` makes it reproducible; a ``generator=`` may be passed instead) and returns the tensor.

    >>> w = ember.empty(256, 784)
    >>> nn.init.kaiming_uniform_(w, a=math.sqrt(5))     # Linear's default
"""
from __future__ import annotations

import math
import warnings

from ..backend import xp
from ..backend.device import like as _like
from ..backend.random import rng_of
from ..tensor import Tensor
from ..ops.elementwise import _erf_array

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "eye_", "dirac_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_",
           "orthogonal_", "sparse_", "lecun_normal_", "lecun_uniform_",
           # PyTorch's deprecated names (warn, then call the underscore form)
           "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform",
           "kaiming_normal", "orthogonal", "sparse"]


def _write(tensor: Tensor, arr) -> Tensor:
    """Store ``arr`` into the tensor's memory (cast to its dtype) and bump the version counter, as an
    in-place op under ``no_grad`` does.  The values are drawn on the host (ember's generator) and copied to a
    device tensor's device: a seed gives the same weights on every device."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init expected an ember Tensor, got {type(tensor).__name__}")
    tensor._data[...] = _like(arr, tensor._data)
    tensor._version[0] += 1
    return tensor


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for an activation (PyTorch's table): 1 for linear/conv/sigmoid, 5/3 for tanh,
    sqrt(2) for relu, sqrt(2 / (1 + slope**2)) for leaky_relu (slope ``param``, default 0.01), 3/4 for selu.

    >>> nn.init.calculate_gain("relu")
    1.4142135623730951
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor):
    """``(fan_in, fan_out)`` of a weight: ``(in, out)`` for a (out, in) matrix; for a conv weight
    (out, in/groups, *kernel) both are multiplied by the kernel's size."""
    dims = tensor.dim()
    if dims < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         f"(got shape {tuple(tensor.shape)})")
    num_input_fmaps = tensor.shape[1]
    num_output_fmaps = tensor.shape[0]
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return num_input_fmaps * receptive_field_size, num_output_fmaps * receptive_field_size


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with U(a, b)."""
    return _write(tensor, rng_of(generator).uniform(a, b, tuple(tensor.shape)))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with N(mean, std**2)."""
    return _write(tensor, rng_of(generator).normal(mean, std, tuple(tensor.shape)))


def _erfinv(y):
    # Giles' single-precision approximation refined by two Newton steps: accurate to ~1e-12 in float64.
    y = xp.asarray(y, dtype=xp.float64)
    w = -xp.log((1.0 - y) * (1.0 + y))
    small = w < 5.0
    ws = w - 2.5
    p1 = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p1 = c + p1 * ws
    wl = xp.sqrt(xp.maximum(w, 5.0)) - 3.0
    p2 = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
              1.00167406, 2.83297682):
        p2 = c + p2 * wl
    x = xp.where(small, p1, p2) * y
    for _ in range(1 if x.size <= 4096 else 0):   # the fit alone is good to ~1e-7; refine small tensors
        x = x - (_erf_array(x) - y) / (2.0 / math.sqrt(math.pi) * xp.exp(-x * x))
    return x


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill with N(mean, std**2) truncated to [a, b] (absolute bounds, as in PyTorch), by inverse-CDF
    sampling.

    >>> nn.init.trunc_normal_(ember.empty(3, 5), std=0.02)
    """
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values "
                      "may be incorrect.", stacklevel=2)

    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    lo, hi = norm_cdf((a - mean) / std), norm_cdf((b - mean) / std)
    u = rng_of(generator).uniform(2 * lo - 1, 2 * hi - 1, tuple(tensor.shape))
    x = _erfinv(u) * (std * math.sqrt(2.0)) + mean
    return _write(tensor, xp.clip(x, a, b))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _write(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _write(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return _write(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (preserves the inputs in a Linear layer)."""
    if tensor.dim() != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported by eye_, got shape {tuple(tensor.shape)}")
    return _write(tensor, xp.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3/4/5-D conv weight with the Dirac delta (preserves the inputs of a conv layer), per group."""
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError(f"Only tensors with 3, 4, or 5 dimensions are supported by dirac_, got shape "
                         f"{tuple(tensor.shape)}")
    sizes = tuple(tensor.shape)
    if sizes[0] % groups != 0:
        raise ValueError(f"dirac_: dim 0 ({sizes[0]}) must be divisible by groups ({groups})")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    arr = xp.zeros(sizes)
    for g in range(groups):
        for d in range(min_dim):
            idx = (g * out_per_group + d, d) + tuple(s // 2 for s in sizes[2:])
            arr[idx] = 1
    return _write(tensor, arr)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None) -> Tensor:
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
    ``kaiming_uniform_(w, a=math.sqrt(5))`` is the default init of Linear and Conv weights."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None) -> Tensor:
    """He normal: N(0, std**2) with std = gain / sqrt(fan)."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def lecun_normal_(tensor: Tensor, generator=None) -> Tensor:
    """LeCun normal: N(0, 1 / fan_in), the initialization self-normalizing networks (SELU) need.

    Not in PyTorch (there: ``kaiming_normal_(w, nonlinearity="linear")``, which is the same formula); named as
    in Keras (``lecun_normal``), whose version is truncated at 2 std — this one is not truncated."""
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in), generator)


def lecun_uniform_(tensor: Tensor, generator=None) -> Tensor:
    """LeCun uniform: U(-sqrt(3 / fan_in), sqrt(3 / fan_in)), Keras's ``lecun_uniform`` (not in PyTorch)."""
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0 / fan_in)
    return uniform_(tensor, -a, a, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix (QR of a Gaussian matrix, signs fixed so the result is uniformly
    distributed), times ``gain``; dimensions after the first are flattened."""
    if tensor.dim() < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported by orthogonal_, got shape "
                         f"{tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = rng_of(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    d = xp.sign(xp.diag(r))
    d[d == 0] = 1
    q = q * d
    if rows < cols:
        q = q.T
    return _write(tensor, (gain * q).reshape(tuple(tensor.shape)))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Fill a 2-D tensor with N(0, std**2) values and set a fraction ``sparsity`` of each column to zero."""
    if tensor.dim() != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported by sparse_, got shape "
                         f"{tuple(tensor.shape)}")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    rng = rng_of(generator)
    arr = rng.normal(0.0, std, (rows, cols))
    for c in range(cols):
        arr[rng.permutation(rows)[:num_zeros], c] = 0
    return _write(tensor, arr)


def _make_deprecate(meth):
    """PyTorch's deprecated non-underscore name of an initializer: warns (FutureWarning, PyTorch's text) and
    calls the in-place form."""
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
                      FutureWarning, stacklevel=2)
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = f"{old_name}(...): deprecated, use ``nn.init.{new_name}``."
    deprecated_init.__name__ = old_name
    deprecated_init.__qualname__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
