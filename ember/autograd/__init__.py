"""Reverse-mode automatic differentiation: the op contract (``function``), the engine (``engine``), grad
modes, ``grad``/``backward`` (``functional``) and finite-difference checks (``gradcheck``)."""
from .grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode
from .function import UserFunction as Function, once_differentiable, Function as OpFunction
from .functional import grad, backward, jacobian, hessian, vjp, jvp
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from . import forward_ad

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode", "Function",
           "once_differentiable", "grad", "backward", "gradcheck", "gradgradcheck", "GradcheckError", "jacobian",
           "hessian", "vjp", "jvp", "forward_ad", "set_multithreading_enabled", "is_multithreading_enabled"]


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


_anomaly = [False, True]        # (enabled, check_nan): what torch.is_anomaly_enabled() and friends report


class detect_anomaly:
    """``torch.autograd.detect_anomaly``: accepted as a context manager/decorator, and reported by
    ``torch.is_anomaly_enabled()`` while it is in effect.  ember does not record forward tracebacks; a NaN
    produced in backward is not reported specially."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self.prev = None

    def __enter__(self):
        self.prev = tuple(_anomaly)
        _anomaly[:] = [True, bool(self.check_nan)]
        return self

    def __exit__(self, *exc):
        if self.prev is not None:
            _anomaly[:] = list(self.prev)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly(detect_anomaly):
    """``torch.autograd.set_detect_anomaly(mode)``: sets the mode at once (a plain call turns it on for good),
    and as a context manager restores the previous mode on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        super().__init__(check_nan)
        self.mode = bool(mode)
        self.prev = tuple(_anomaly)
        _anomaly[:] = [self.mode, bool(check_nan)]

    def __enter__(self):
        return self


_multithreading = [True]     # torch.autograd.is_multithreading_enabled(); ember's backward is single-threaded


def is_multithreading_enabled() -> bool:
    """``torch.autograd.is_multithreading_enabled()``: the mode ``set_multithreading_enabled`` last set
    (ember's engine always runs backward on the calling thread, so the mode changes nothing else)."""
    return _multithreading[0]


class set_multithreading_enabled(detect_anomaly):
    """``torch.autograd.set_multithreading_enabled(mode)``: sets the mode at once; as a context manager or
    decorator it restores the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self.prev = _multithreading[0]
        _multithreading[0] = bool(mode)
        self.mode = mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc):
        _multithreading[0] = self.prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.mode):
                return fn(*args, **kwargs)
        return wrapper

    def clone(self) -> "set_multithreading_enabled":
        return self.__class__(self.mode)


from . import graph  # noqa: E402,F401 - torch.autograd.graph (Node, get_gradient_edge, save_on_cpu)


from . import variable as _variable_module  # noqa: E402,F401 - registers the submodule before the shadowing below


def variable(*args, **kwargs):
    """PyTorch's removed ``torch.autograd.variable(...)``: raises, as PyTorch does (the name shadows the
    ``autograd.variable`` submodule there too; ``variable.Variable`` still reaches ``Variable``)."""
    raise RuntimeError("torch.autograd.variable(...) is deprecated, use torch.tensor(...) instead")


variable.Variable = Variable


def __getattr__(name):
    if name == "profiler":      # torch.autograd.profiler, loaded on first use (ember/autograd/profiler.py)
        import importlib
        return importlib.import_module(".profiler", __name__)
    raise AttributeError(f"module 'ember.autograd' has no attribute '{name}'")
