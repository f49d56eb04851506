"""ember: a deep learning framework on NumPy with PyTorch's API, small enough to read end to end.

    import ember as torch          # most PyTorch scripts run with this one change
    import ember.nn as nn
"""
from __future__ import annotations

__version__ = "0.1.0"

import warnings as _warnings


def _quiet_ieee_warnings() -> None:
    """IEEE results such as log(0) = -inf or 0/0 = nan are silent in PyTorch; NumPy warns.  Silence exactly
    those NumPy floating-point warnings when an ember module computes them (a warnings filter costs nothing per
    op, unlike wrapping every op in ``np.errstate``); the user's own NumPy code keeps its warnings."""
    _warnings.filterwarnings("ignore", message=r"(divide by zero|invalid value|overflow|underflow) encountered",
                             category=RuntimeWarning, module=r"ember(\.|$)")


_quiet_ieee_warnings()

from .backend import (set_default_dtype, Generator, default_generator, manual_seed, seed,  # noqa: F401
                      initial_seed, get_rng_state, set_rng_state)
# torch.dtype and its objects (ember/_dtype.py): they print as PyTorch's and stand for NumPy dtypes
from ._dtype import (dtype, bool_ as bool, uint8, int8, int16, int32, int64, float16, float32,  # noqa: F401
                     float64, get_default_dtype, promote_types, result_type)
from .backend.dtypes import to_dtype as _to_dtype  # noqa: F401
from .backend.dtypes import can_cast  # noqa: F401
from .tensor import (Tensor, Size, device, FloatTensor, DoubleTensor, LongTensor, IntTensor, BoolTensor,  # noqa: F401
                     ByteTensor)
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode  # noqa: F401
from . import autograd  # noqa: F401
from .creation import (tensor, as_tensor, from_numpy, zeros, ones, empty, full, zeros_like, ones_like,  # noqa: F401
                       empty_like, full_like, rand, randn, rand_like, randn_like, randint, randint_like, randperm,
                       arange, linspace, logspace, eye, normal, bernoulli, multinomial, poisson)
from .creation import range_ as range  # noqa: F401
from .dlpack import from_dlpack  # noqa: F401
from .ops import *  # noqa: F401,F403
from .ops import sum, max, min, abs, round, pow, all, any  # noqa: F401
# torch.linalg: importing the submodule binds ember.linalg to it (the * import above bound ops.linalg there)
linalg = __import__("importlib").import_module(".linalg", __name__)
# torch.special is the public namespace ember/special.py, loaded on first use (__getattr__ below); the * import
# above bound the internal ember.ops.special here
globals().pop("special", None)

double = float64
float = float32
half = float16
long = int64
int = int32
short = int16
cfloat = None
# layouts (torch.strided, torch.sparse_coo, ...); ember/sparse's package stays light, its ops load on first
# use
from .sparse._layout import (layout, strided, sparse_coo, sparse_csr, sparse_csc, sparse_bsr,  # noqa: F401
                             sparse_bsc)
contiguous_format = "contiguous_format"
preserve_format = "preserve_format"
channels_last = "channels_last"
channels_last_3d = "channels_last_3d"


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    return input.dtype.kind == "f"


def numel(input) -> int:
    return input.numel()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """How tensors print (``torch.set_printoptions``; see ``ember._tensor_format.set_printoptions``)."""
    from ._tensor_format import set_printoptions as _set
    _set(precision, threshold, edgeitems, linewidth, profile, sci_mode)


def get_num_threads() -> int:
    import os
    return os.cpu_count() or 1


def set_num_threads(int) -> None:     # noqa: A002 - PyTorch's parameter name
    """ember's threads are BLAS's; set OMP_NUM_THREADS before start-up to change them.  Kept for API
    compatibility; uses threadpoolctl when it is installed."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(int)
    except ImportError:
        pass


def _lazy(name):
    import importlib
    return importlib.import_module(f"ember.{name}")


def __getattr__(name):
    # heavy subpackages load on first use: `import ember` stays fast
    if name in ("nn", "optim", "data", "utils", "train", "metrics", "io", "models", "cli", "backend", "special",
                "distributions", "profiler", "hub"):
        return _lazy(name)
    if name in ("save", "load"):
        return getattr(_lazy("io"), name)
    if name in ("finfo", "iinfo"):         # torch.finfo / torch.iinfo (ember/_finfo.py)
        return getattr(_lazy("_finfo"), name)
    if name in ("sparse_coo_tensor", "spmm"):     # sparse COO tensors (ember/sparse)
        return getattr(_lazy("sparse"), name)
    raise AttributeError(f"module 'ember' has no attribute '{name}'")

# PyTorch's platform namespaces (ember.cuda.is_available() is False; flags are kept), see docs/compat.md
from . import cuda, backends, accelerator, onnx  # noqa: E402,F401


from ._tensor_device import set_default_device, get_default_device  # noqa: E402,F401
from . import amp, mps, xpu, distributed, jit, version  # noqa: E402,F401
from .amp import autocast  # noqa: E402,F401

_DETERMINISTIC = [False]
_MATMUL_PRECISION = ["highest"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted: ember's kernels are deterministic already (NumPy on the CPU)."""
    _DETERMINISTIC[0] = True if mode else False     # (`bool` is ember.bool, the dtype, in this module)


def are_deterministic_algorithms_enabled() -> bool:
    return _DETERMINISTIC[0]


def set_float32_matmul_precision(precision: str) -> None:
    """Accepted and recorded ("highest", "high", "medium"); ember's float32 matmul is NumPy's, always full
    precision."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"set_float32_matmul_precision: expected 'highest', 'high' or 'medium', got "
                           f"{precision!r}")
    _MATMUL_PRECISION[0] = precision


def get_float32_matmul_precision() -> str:
    return _MATMUL_PRECISION[0]


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor", mode=None, options=None,
            disable: bool = False):
    """``torch.compile``: ember runs eagerly, so the model or function comes back unchanged (as a decorator
    too); results equal the uncompiled ones."""
    if model is None:
        return lambda m: m
    return model


def set_default_tensor_type(t) -> None:
    """Deprecated PyTorch API (its warning, once): ``set_default_tensor_type(torch.DoubleTensor)`` sets the
    default dtype."""
    from ._deprecation import warn
    from .tensor import _LegacyType
    warn("set_default_tensor_type")
    if isinstance(t, str):
        from .tensor import _TYPE_FROM_NAME
        t = _TYPE_FROM_NAME[t]
        set_default_dtype(t)
        return
    set_default_dtype(t._dtype if isinstance(t, type) and issubclass(t, _LegacyType) else t)
from . import serialization  # noqa: E402,F401 - torch.serialization (safe_globals for whole-module loads)
from ._compile import compile  # noqa: E402,F811 - torch.compile on traced graphs (replaces the identity above)
from . import testing, random  # noqa: E402,F401 - torch.testing.assert_close, torch.random.fork_rng
from . import func  # noqa: E402,F401 - torch.func (functional_call, grad, vmap, ...)
# out= on the public functions whose torch signature has it (issue 12, class 5; see ember/_out.py)
from ._out import install as _install_out, OUT_FUNCTIONS as _OUT_FUNCTIONS, OUT_LINALG as _OUT_LINALG  # noqa: E402
_install_out(globals(), _OUT_FUNCTIONS)
_install_out(linalg.__dict__, _OUT_LINALG)
# the rest of torch.*: nn.functional ops under their ATen names, in-place and *_copy forms, small utilities
from . import _toplevel as _tl, _toplevel_misc as _tlm  # noqa: E402
for _n in _tl.__all__:
    globals().setdefault(_n, getattr(_tl, _n, None) or getattr(_tlm, _n))
del _n
from .ops._methods import attach_toplevel as _attach_toplevel  # noqa: E402
_attach_toplevel(globals())    # Tensor methods whose function is at the top level (x.multinomial(1), ...)
