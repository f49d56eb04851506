"""Activation layers: the module form of every function in ``nn.functional._activation`` (PyTorch's names,
arguments and ``repr``), plus ``Step`` (the perceptron's) and ``Swish`` with an optional learnable beta."""
from __future__ import annotations

from ...tensor import Tensor
from ...creation import full
from ... import ops as _ops
from ..module import Module
from ..parameter import Parameter
from ..functional import _activation as F

__all__ = ["Threshold", "Step", "Sigmoid", "Tanh", "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU",
           "GELU", "Softplus", "SiLU", "Swish", "Mish", "Hardtanh", "Hardsigmoid", "Hardswish", "Softsign",
           "LogSigmoid", "Softmax", "LogSoftmax", "Softmin", "Softmax2d", "Tanhshrink", "Softshrink",
           "Hardshrink", "GLU", "RReLU"]


def _inplace_str(inplace: bool, first: bool = False) -> str:
    if not inplace:
        return ""
    return "inplace=True" if first else ", inplace=True"


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``.  Shape: any -> same.

    >>> nn.Threshold(0.1, 20)(ember.tensor([0.0, 0.5])).tolist()
    [20.0, 0.5]
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace_str(self.inplace)}"


class Step(Module):
    """The perceptron's Heaviside step: 1 where ``x >= threshold`` else 0, zero gradient.  Not in PyTorch
    (``torch.heaviside`` is the function); kept for the perceptron lessons.

    >>> nn.Step()(ember.tensor([-0.5, 0.0, 3.0])).tolist()
    [0.0, 1.0, 1.0]
    """

    def __init__(self, threshold: float = 0.0) -> None:
        super().__init__()
        self.threshold = threshold

    def forward(self, input):
        return F.step(input, self.threshold)

    def extra_repr(self):
        return f"threshold={self.threshold}"


def _simple(name, fn, doc):
    def forward(self, input):
        return fn(input)
    return type(name, (Module,), {"forward": forward, "__doc__": doc, "__module__": __name__})


Sigmoid = _simple("Sigmoid", F.sigmoid, "1 / (1 + exp(-x)), elementwise.  Shape: any -> same.\n\n"
                  "    >>> nn.Sigmoid()(ember.zeros(2)).tolist()\n    [0.5, 0.5]\n")
Tanh = _simple("Tanh", F.tanh, "tanh(x), elementwise.  Shape: any -> same.\n\n"
               "    >>> nn.Tanh()(ember.zeros(1)).tolist()\n    [0.0]\n")
Softsign = _simple("Softsign", F.softsign, "x / (1 + |x|).  Shape: any -> same.\n\n"
                   "    >>> nn.Softsign()(ember.tensor([1.0])).tolist()\n    [0.5]\n")
LogSigmoid = _simple("LogSigmoid", F.logsigmoid, "log(sigmoid(x)), computed stably.  Shape: any -> same.\n\n"
                     "    >>> nn.LogSigmoid()(ember.tensor([-1000.0])).tolist()\n    [-1000.0]\n")
Tanhshrink = _simple("Tanhshrink", F.tanhshrink, "x - tanh(x).  Shape: any -> same.\n\n"
                     "    >>> nn.Tanhshrink()(ember.zeros(1)).tolist()\n    [0.0]\n")


class _Inplace(Module):
    _fn = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace, first=True)


class ReLU(_Inplace):
    """max(x, 0).  ``inplace=True`` overwrites the input.  Shape: any -> same.

    >>> nn.ReLU()(ember.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    _fn = staticmethod(F.relu)


class SELU(_Inplace):
    """scale * elu(x, alpha) with the self-normalizing constants; pair with ``init.lecun_normal_`` and
    ``AlphaDropout``.  Shape: any -> same."""
    _fn = staticmethod(F.selu)


class SiLU(_Inplace):
    """x * sigmoid(x).  Shape: any -> same."""
    _fn = staticmethod(F.silu)


class Mish(_Inplace):
    """x * tanh(softplus(x)).  Shape: any -> same."""
    _fn = staticmethod(F.mish)


class Hardsigmoid(_Inplace):
    """relu6(x + 3) / 6.  Shape: any -> same."""
    _fn = staticmethod(F.hardsigmoid)

    def extra_repr(self):
        return ""


class Hardswish(_Inplace):
    """x * relu6(x + 3) / 6.  Shape: any -> same."""
    _fn = staticmethod(F.hardswish)

    def extra_repr(self):
        return ""


class Hardtanh(Module):
    """clamp(x, min_val, max_val).  Shape: any -> same.

    >>> nn.Hardtanh()(ember.tensor([-3.0, 0.5])).tolist()
    [-1.0, 0.5]
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_str(self.inplace)}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6).  Shape: any -> same."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace, first=True)


class LeakyReLU(Module):
    """x where x > 0, else ``negative_slope * x``.  Shape: any -> same.

    >>> nn.LeakyReLU(0.1)(ember.tensor([-1.0])).tolist()
    [-0.1]
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_str(self.inplace)}"


class PReLU(Module):
    """Leaky ReLU with a learned slope ``weight`` (``num_parameters`` of them: 1, or one per channel of dim 1),
    initialized to ``init`` (0.25).  Shape: (N, C, *) -> same.

    >>> nn.PReLU(3)(ember.randn(2, 3, 5)).shape
    ember.Size([2, 3, 5])
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        if int(num_parameters) < 1:
            raise ValueError(f"PReLU expected num_parameters >= 1, got {num_parameters}")
        self.num_parameters = int(num_parameters)
        self.init = init
        self.weight = Parameter(full((self.num_parameters,), float(init), dtype=dtype, device=device))

    def reset_parameters(self) -> None:
        self.weight._data[...] = self.init
        self.weight._version[0] += 1

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x where x > 0, else alpha * (exp(x) - 1).  Shape: any -> same."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class CELU(ELU):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).  Shape: any -> same."""

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)


class GELU(Module):
    """x * Phi(x); ``approximate="tanh"`` for the tanh form.  Shape: any -> same.

    >>> nn.GELU(approximate="tanh")(ember.zeros(1)).tolist()
    [0.0]
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, linear above ``threshold``.  Shape: any -> same."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Swish(Module):
    """x * sigmoid(beta * x) (Ramachandran et al. 2017).  PyTorch has only ``SiLU`` (beta fixed at 1); here
    ``learnable=True`` makes ``beta`` a one-element Parameter trained with the rest of the model.

    >>> act = nn.Swish(beta=1.0, learnable=True); [n for n, _ in act.named_parameters()]
    ['beta']
    """

    def __init__(self, beta: float = 1.0, learnable: bool = False) -> None:
        super().__init__()
        self.learnable = learnable
        if learnable:
            self.beta = Parameter(full((1,), float(beta)))
        else:
            self.beta = float(beta)

    def forward(self, input):
        beta = self.beta
        if isinstance(beta, Tensor) and beta.dtype != input.dtype:
            beta = beta.to(input.dtype)
        return F.swish(input, beta)

    def extra_repr(self):
        b = self.beta.item() if isinstance(self.beta, Tensor) else self.beta
        return f"beta={b}, learnable={self.learnable}"


class _Shrink(Module):
    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def extra_repr(self):
        return str(self.lambd)


class Softshrink(_Shrink):
    """x - lambd where x > lambd, x + lambd where x < -lambd, else 0.  Shape: any -> same."""

    def forward(self, input):
        return F.softshrink(input, self.lambd)


class Hardshrink(_Shrink):
    """x where |x| > lambd, else 0.  Shape: any -> same."""

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class GLU(Module):
    """Gated linear unit: halves a, b of ``dim``; a * sigmoid(b).  Shape: (*, 2n, *) -> (*, n, *)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class _SoftmaxBase(Module):
    _fn = None

    def __init__(self, dim=None) -> None:
        super().__init__()
        self.dim = dim

    def __setstate__(self, state):
        super().__setstate__(state)
        if "dim" not in self.__dict__:
            self.dim = None

    def forward(self, input):
        return type(self)._fn(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """exp(x) / sum(exp(x)) along ``dim`` (stable).  Shape: any -> same.

    >>> nn.Softmax(dim=-1)(ember.zeros(1, 2)).tolist()
    [[0.5, 0.5]]
    """
    _fn = staticmethod(_ops.softmax)


class LogSoftmax(_SoftmaxBase):
    """log(softmax(x)) along ``dim``, one stable op.  Shape: any -> same."""
    _fn = staticmethod(_ops.log_softmax)


class Softmin(_SoftmaxBase):
    """softmax(-x) along ``dim``.  Shape: any -> same."""
    _fn = staticmethod(_ops.softmin)


class Softmax2d(Module):
    """Softmax over the channels at every spatial position: input (N, C, H, W) or (C, H, W)."""

    def forward(self, input):
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input of shape (N, C, H, W) or (C, H, W), got "
                             f"{tuple(input.shape)}")
        return _ops.softmax(input, -3)


class RReLU(Module):
    """Randomized leaky ReLU, as ``torch.nn.RReLU``: in training, each negative element is multiplied by a
    slope drawn uniformly from [lower, upper]; in eval, by the fixed (lower + upper) / 2.  Shape: any -> same.

    >>> nn.RReLU().eval()(ember.tensor([-2.0, 3.0])).tolist()
    [-0.4583333432674408, 3.0]
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{_inplace_str(self.inplace)}"
