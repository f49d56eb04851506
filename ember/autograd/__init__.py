"""Reverse-mode automatic differentiation: the op contract (``function``), the engine (``engine``), grad
modes, ``grad``/``backward`` (``functional``) and finite-difference checks (``gradcheck``)."""
from .grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode
from .function import UserFunction as Function, once_differentiable, Function as OpFunction
from .functional import grad, backward, jacobian, hessian, vjp, jvp
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from . import forward_ad

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode", "Function",
           "once_differentiable", "grad", "backward", "gradcheck", "gradgradcheck", "GradcheckError", "jacobian",
           "hessian", "vjp", "jvp", "forward_ad"]


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        from ..tensor import Tensor
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """PyTorch's deprecated ``autograd.Variable``: ``Variable(t, requires_grad=True)`` returns the tensor
    itself (with ``requires_grad`` set), and every Tensor is an instance of ``Variable``."""

    def __new__(cls, data, requires_grad: bool = False, volatile: bool = False):
        from ..tensor import Tensor
        t = data if isinstance(data, Tensor) else Tensor(data)
        if requires_grad:
            t.requires_grad_(True)
        return t
