"""``out=`` on the public functions, as PyTorch: ``torch.add(a, b, out=t)`` writes the result into ``t`` and returns
``t``.

The hot functions (add, sub, mul, div, matmul) take ``out`` in their own def.  Every other function whose torch
2.13 signature has ``out`` gets, in the ``ember`` / ``ember.linalg`` namespaces only, a thin def generated here
with the op's own parameters plus ``*, out=None`` that calls the op and, when ``out`` is given, hands the result
to :func:`write_out`.  The Tensor methods and ``ember.ops`` keep calling the ops directly, so the generated def
costs one Python call (~0.1 us) on ``ember.<name>(...)`` calls only.  tests/compat/test_signatures.py checks
this list against torch's signatures.
"""
from __future__ import annotations

import inspect
import warnings

# torch 2.13's public functions whose signatures (or whose dim overloads: sum, mean, ...) take out= (that ember
# has); _with_out leaves a def that has its own out= (add, sub, mul, div, matmul) as it is
OUT_FUNCTIONS = """
sum mean prod all any argmax argmin chain_matmul arange clamp_min clamp_max nansum norm randint softmax where take
diff log_softmax scatter range
abs absolute acos acosh add addbmm addcdiv addcmul addmm addmv addr all amax amin angle any arccos arccosh arcsin
arcsinh arctan arctan2 arctanh asin asinh atan atan2 atanh baddbmm bernoulli bitwise_and bitwise_left_shift
bitwise_not bitwise_or bitwise_right_shift bitwise_xor bmm bucketize cat ceil cholesky cholesky_inverse
cholesky_solve clamp clip column_stack concat copysign cos cosh cross cummax cummin cumprod cumsum deg2rad diag
digamma div divide dot dstack empty eq erf erfc erfinv exp exp2 expm1 eye fix float_power floor floor_divide fmax
fmin fmod frac full gather gcd ge ger greater greater_equal gt heaviside histc histogram hstack hypot i0 index_add
index_copy index_select inner inverse isneginf isposinf kron kthvalue lcm ldexp le lerp less less_equal lgamma
linspace log log10 log1p log2 logaddexp logaddexp2 logcumsumexp logical_and logical_not logical_or logical_xor
logit logspace logsumexp lt lu_solve lu_unpack masked_select matmul matrix_power max maximum min minimum mm mode
msort mul multinomial multiply mv mvlgamma nan_to_num nanmean nanquantile narrow_copy ne neg negative nextafter
nonzero normal not_equal ones outer polygamma pow qr quantile rad2deg rand randn randperm reciprocal remainder
renorm round row_stack rsqrt searchsorted sgn sigmoid sign signbit sin sinc sinh sort sqrt square stack std
std_mean sub subtract svd take_along_dim tan tanh topk tril triu true_divide trunc var var_mean vdot vstack xlogy
zeros
"""
OUT_LINALG = """
cholesky cholesky_ex cond cross det eigh eigvalsh inv inv_ex lu lu_factor_ex lu_solve matmul matrix_norm
matrix_power matrix_rank multi_dot norm pinv qr slogdet solve solve_ex solve_triangular svd svdvals tensorinv
tensorsolve vecdot vector_norm
"""


def write_out(out, result, op: str):
    """Write ``result`` (a Tensor or a tuple of them) into ``out`` (the same structure) as PyTorch does and return
    ``out``: the result is cast to ``out``'s dtype where ``can_cast`` allows; an ``out`` of another shape is
    resized (with PyTorch's warning unless it was empty); ``out=`` refuses results that need gradients."""
    from .tensor import Tensor
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{op}(): argument 'out' must be a tuple of {len(result)} Tensors, got "
                            f"{type(out).__name__}")
        for o, r in zip(out, result):
            write_out(o, r, op)
        return type(result)(*out) if hasattr(type(result), "_fields") else tuple(out)
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if not isinstance(result, Tensor):
        raise TypeError(f"{op}(): out= is not supported for a result of type {type(result).__name__}")
    from .autograd import is_grad_enabled
    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic differentiation, "
                           f"but one of the arguments requires grad.")
    from .backend.dtypes import can_cast
    if not can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"{op}(): result type {result.dtype} can't be cast to the desired output type "
                           f"{out.dtype}")
    if tuple(out.shape) != tuple(result.shape):
        if out._is_view():
            raise RuntimeError(f"{op}(): out= is a view of shape {tuple(out.shape)}; the result has shape "
                               f"{tuple(result.shape)} and a view cannot be resized")
        if out.numel() != 0:
            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape "
                          f"{list(result.shape)}. This behavior is deprecated, and in a future PyTorch release "
                          f"outputs will not be resized unless they have zero elements. You can explicitly reuse "
                          f"an out tensor t by resizing it, inplace, to zero elements with t.resize_(0).",
                          UserWarning, stacklevel=3)
        import numpy as np
        out._data = np.empty(tuple(result.shape), dtype=out._data.dtype)
        out._version[0] += 1
    out.copy_(result)
    return out


def _with_out(fn, name: str):
    """A def with ``fn``'s parameters and ``*, out=None`` that calls ``fn`` and writes into ``out``."""
    sig = inspect.signature(fn)
    params, call, ns, star = [], [], {"_fn": fn, "_write_out": write_out}, False
    for i, p in enumerate(sig.parameters.values()):
        dflt = ""
        if p.default is not p.empty:
            ns[f"_d{i}"] = p.default
            dflt = f"=_d{i}"
        if p.kind == p.POSITIONAL_ONLY or p.kind == p.POSITIONAL_OR_KEYWORD:
            params.append(p.name + dflt)
            call.append(p.name)
        elif p.kind == p.VAR_POSITIONAL:
            params.append("*" + p.name)
            call.append("*" + p.name)
            star = True
        elif p.kind == p.KEYWORD_ONLY:
            if not star:
                params.append("*")
                star = True
            params.append(p.name + dflt)
            call.append(f"{p.name}={p.name}")
        else:
            params.append("**" + p.name)
            call.append("**" + p.name)
    if "out" in sig.parameters:
        return fn
    kw = [] if star else ["*"]
    if params and params[-1].startswith("**"):
        params[-1:-1] = kw + ["out=None"]
    else:
        params += kw + ["out=None"]
    src = (f"def {name}({', '.join(params)}):\n"
           f"    r = _fn({', '.join(call)})\n"
           f"    return r if out is None else _write_out(out, r, {name!r})\n")
    exec(compile(src, f"<ember out= for {name}>", "exec"), ns)
    new = ns[name]
    new.__doc__, new.__qualname__ = fn.__doc__, name
    new.__annotations__ = dict(getattr(fn, "__annotations__", {}))
    return new


def install(namespace: dict, names: str) -> None:
    """Give each listed function of ``namespace`` (a module's globals) an ``out=`` parameter."""
    for name in names.split():
        fn = namespace.get(name)
        if inspect.isfunction(fn):
            new = namespace[name] = _with_out(fn, name)
            if new is not fn:
                new.__module__ = namespace["__name__"]    # pickle finds it where it lives (ember.exp)
