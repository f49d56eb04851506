"""Activation functions (``F.relu``, ``F.gelu``, ...): PyTorch's names, signatures and defaults.

Most are one fused op each (``ember/ops/activation.py``): forward on arrays, a hand-written derivative for
backward.  ``inplace=True`` writes the result into the input's memory, as in PyTorch.  The softmax family
(``F.softmax``/``log_softmax``/``softmin``) comes from ``ember.ops``.
"""
from __future__ import annotations

import warnings

from ...tensor import Tensor
from ...autograd._torch_names import named as _named
from ...creation import rand_like as _rand_like, zeros_like as _zeros_like
from ... import ops as _ops
from ...ops import activation as _A

__all__ = ["threshold", "threshold_", "step", "heaviside", "sigmoid", "tanh", "relu", "relu_", "relu6",
           "leaky_relu", "leaky_relu_", "prelu", "elu", "elu_", "selu", "selu_", "celu", "celu_", "gelu",
           "softplus", "silu", "swish", "mish", "hardtanh", "hardtanh_", "hardsigmoid", "hardswish", "softsign",
           "logsigmoid", "tanhshrink", "softshrink", "hardshrink", "glu"]


def _run(fn, input, inplace, **p):
    if not isinstance(input, Tensor):
        raise TypeError(f"{getattr(fn, '__name__', 'activation')} expected an ember Tensor, got "
                        f"{type(input).__name__}")
    if inplace:
        # the fused op saves its input for backward, so it must see a copy of the memory it overwrites
        return input._inplace(lambda t: fn(_ops.clone(t) if t.requires_grad else t, **p))
    return fn(input, **p)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``input`` where ``input > threshold``, else ``value``.

    >>> F.threshold(ember.tensor([-1., 0.5, 2.]), 1.0, 0.0).tolist()
    [0.0, 0.0, 2.0]
    """
    return _run(_A.threshold, input, inplace, threshold=float(threshold), value=float(value))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``."""
    return globals()["threshold"](input, threshold, value, inplace=True)


def step(input: Tensor, threshold: float = 0.0) -> Tensor:
    """The perceptron's Heaviside step: 1 where ``input >= threshold``, else 0, with a zero gradient (the
    reason the perceptron needs its own learning rule).  Not in PyTorch (which has ``torch.heaviside``).

    >>> F.step(ember.tensor([-1., 0., 2.])).tolist()
    [0.0, 1.0, 1.0]
    """
    return _A.step(input, threshold=float(threshold))


def heaviside(input: Tensor, values) -> Tensor:
    """``torch.heaviside``: 0 where input < 0, 1 where input > 0, ``values`` where input == 0.  Its gradient
    is zero everywhere (PyTorch raises instead); ``values`` is a number or one-element tensor."""
    v = float(values.item() if isinstance(values, Tensor) else values)
    return _A.heaviside(input, value=v)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), stable for large |x|."""
    return _ops.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _ops.tanh(input)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0).

    >>> F.relu(ember.tensor([-1., 2.])).tolist()
    [0.0, 2.0]
    """
    if inplace:
        return input._inplace(_ops.relu)
    return _ops.relu(input)


def relu_(input: Tensor) -> Tensor:
    """In-place ``relu``."""
    return relu(input, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) (``hardtanh(x, 0, 6)``)."""
    return hardtanh(input, 0.0, 6.0, inplace)


@_named(lambda input, negative_slope=0.01, inplace=False: "LeakyReluBackward1" if inplace else None)
def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else ``negative_slope * x``."""
    return _run(_A.leaky_relu, input, inplace, slope=float(negative_slope))


@_named("LeakyReluBackward1")
def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, True)


@_named("PreluKernelBackward0")
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Leaky ReLU with a learned slope: x where x > 0, else ``weight * x``.  ``weight`` has one element or one
    per channel (dim 1 of the input; dim 0 for a 1-D input).

    >>> F.prelu(ember.tensor([[-1., 2.]]), ember.tensor([0.25])).tolist()
    [[-0.25, 2.0]]
    """
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("prelu expected ember Tensors for input and weight")
    n = weight.numel()
    w = weight.reshape(()) if n == 1 else weight
    if n != 1:
        if weight.dim() != 1:
            raise RuntimeError(f"prelu expected a 1-D weight, got shape {tuple(weight.shape)}")
        ch = 0 if input.dim() == 1 else 1
        if input.dim() == 0 or input.shape[ch] != n:
            raise RuntimeError(f"prelu: weight has {n} elements (one per channel), so the input must have {n} "
                               f"channels in dim {ch}; got input of shape {tuple(input.shape)}")
        w = weight.reshape((n,) + (1,) * (input.dim() - ch - 1))
    if w.dtype != input.dtype:
        w = w.to(input.dtype)
    pos = input > 0
    # the slope's gradient is sum(grad * x) over x <= 0 only (PyTorch's where, not a multiply by a mask: an
    # inf input on the positive side must not give 0 * inf = NaN)
    return _ops.where(pos, input, _ops.where(pos, _zeros_like(input), input) * w)


@_named(lambda input, alpha=1.0, inplace=False: "EluBackward1" if inplace else None)
def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else ``alpha * (exp(x) - 1)``."""
    return _run(_A.elu, input, inplace, alpha=float(alpha))


@_named("EluBackward1")
def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalizing constants (alpha 1.6733, scale 1.0507)."""
    return _run(_A.selu, input, inplace)


def selu_(input: Tensor) -> Tensor:
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides the input)")
    return _run(_A.celu, input, inplace, alpha=float(alpha))


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) (Phi the normal CDF), or its tanh approximation with ``approximate="tanh"``."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _A.gelu(input, approximate=approximate)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, computed stably; linear where ``beta * x > threshold``."""
    return _A.softplus(input, beta=float(beta), threshold=float(threshold))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return _run(_A.swish, input, inplace, beta=1.0)


def swish(input: Tensor, beta=1.0) -> Tensor:
    """x * sigmoid(beta * x).  PyTorch has only ``silu`` (beta = 1); ``beta`` may be a learnable tensor
    (see ``nn.Swish(learnable=True)``), following Ramachandran et al. 2017."""
    if isinstance(beta, Tensor):
        return input * _ops.sigmoid(input * beta)
    return _A.swish(input, beta=float(beta))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    return _run(_A.mish, input, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val); gradient 1 strictly inside, 0 outside."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _run(_A.hardtanh, input, inplace, lo=float(min_val), hi=float(max_val))


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, True)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    return _run(_A.hardsigmoid, input, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    return _run(_A.hardswish, input, inplace)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return _A.softsign(input)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), stable: never computes exp of a positive number."""
    return _A.logsigmoid(input)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return _A.tanhshrink(input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd where x > lambd, x + lambd where x < -lambd, else 0."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambda must be greater or equal to 0, got {lambd}")
    return _A.softshrink(input, lambd=float(lambd))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0."""
    return _A.hardshrink(input, lambd=float(lambd))


@_named("GluBackward0")
def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: split ``input`` in halves a, b along ``dim``; a * sigmoid(b).

    >>> F.glu(ember.randn(4, 6)).shape
    ember.Size([4, 3])
    """
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {dim} is size {n}")
    a, b = _ops.chunk(input, 2, dim)
    return a * _ops.sigmoid(b)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU (``torch.nn.functional.rrelu``): negative inputs times a slope drawn uniformly
    from [lower, upper] per element when ``training``, times (lower + upper) / 2 otherwise.

    >>> F.rrelu(ember.tensor([-2.0, 3.0])).tolist()
    [-0.4583333432674408, 3.0]
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"rrelu expected an ember Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"rrelu: expected a floating point input, got {input.dtype}")
    if not training:
        out = leaky_relu(input, (lower + upper) / 2.0, inplace)
        return out if inplace else out.contiguous()         # PyTorch's rrelu result is contiguous
    slope = _rand_like(input.detach()) * (upper - lower) + lower
    # the input's own sign decides (x >= 0 keeps x), as PyTorch's kernel
    if inplace:
        return input._inplace(lambda t: _ops.where(t >= 0, t, t * slope))
    return _ops.where(input >= 0, input, input * slope).contiguous()


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, True)


__all__ += ["rrelu", "rrelu_"]


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """Samples from the Gumbel-softmax distribution, as ``torch.nn.functional.gumbel_softmax``:
    ``softmax((logits + g) / tau)`` with Gumbel(0, 1) noise ``g``; ``hard=True`` returns the one-hot of the
    arg-max in the forward and the soft sample's gradient (straight-through).

    >>> F.gumbel_softmax(ember.zeros(2, 3), hard=True).sum(-1).tolist()
    [1.0, 1.0]
    """
    if not isinstance(logits, Tensor):
        raise TypeError(f"gumbel_softmax expected an ember Tensor, got {type(logits).__name__}")
    gumbels = -_ops.log(_zeros_like(logits.detach()).exponential_())
    y_soft = _ops.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = _ops.argmax(y_soft.detach(), dim, keepdim=True)
    y_hard = _zeros_like(logits.detach()).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


__all__ += ["gumbel_softmax"]


def _implicit_dim(name, input, dim):
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      f"dim=X as an argument.", stacklevel=3)
        dim = 0 if input.dim() in (0, 1, 3) else 1
    return dim


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (``torch.nn.functional.softmax``; without ``dim`` PyTorch's legacy
    implicit choice, with its deprecation warning).  The op is ``ember.softmax``.

    >>> F.softmax(ember.zeros(2, 2), dim=1).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """
    return _ops.softmax(input, _implicit_dim("softmax", input, dim), dtype)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log(softmax(x)) along ``dim``, stable (``torch.nn.functional.log_softmax``).

    >>> F.log_softmax(ember.zeros(1, 2), dim=1).exp().tolist()
    [[0.5, 0.5]]
    """
    return _ops.log_softmax(input, _implicit_dim("log_softmax", input, dim), dtype)


def softmin(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim`` (``torch.nn.functional.softmin``).

    >>> F.softmin(ember.zeros(1, 2), dim=1).tolist()
    [[0.5, 0.5]]
    """
    return _ops.softmin(input, _implicit_dim("softmin", input, dim), dtype)


__all__ += ["softmax", "log_softmax", "softmin"]
