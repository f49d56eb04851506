"""Tensor methods that are thin wrappers over ``ember.ops`` functions, attached in one place.

``x.sum(1)`` is ``ops.sum(x, 1)``; listing the names here (instead of writing 100 one-line methods in
tensor.py) keeps the Tensor class readable and the method set in step with the function set.
"""
from __future__ import annotations

from ..tensor import Tensor

# method name -> ops function name (same name unless given)
_SAME = """
add sub mul div neg pow exp exp2 log log2 log10 log1p expm1 sqrt rsqrt abs sign sgn sin cos tan asin acos atan
sinh cosh tanh sigmoid relu clamp clip clamp_min clamp_max minimum maximum floor ceil round trunc frac erf
reciprocal square floor_divide remainder fmod addcmul addcdiv lerp atan2 hypot fmax fmin float_power
eq ne lt le gt ge greater greater_equal less less_equal not_equal
logical_and logical_or logical_xor logical_not bitwise_and bitwise_or bitwise_xor bitwise_not
isnan isinf isfinite isclose allclose equal nan_to_num
sum mean nansum nanmean var std max min amax amin argmax argmin aminmax prod logsumexp cumsum cumprod norm
all any count_nonzero softmax log_softmax var_mean std_mean dist
reshape view view_as reshape_as flatten unflatten ravel permute transpose swapaxes swapdims t movedim moveaxis
squeeze unsqueeze expand expand_as broadcast_to repeat tile repeat_interleave split tensor_split chunk unbind
flip fliplr flipud roll rot90 narrow select split_with_sizes narrow_copy adjoint
gather scatter scatter_add index_select index_add masked_fill masked_select take_along_dim take nonzero
scatter_reduce index_copy index_fill masked_scatter
argwhere tril triu diagonal diag trace sort argsort topk index_put
matmul mm bmm mv dot inner outer ger addmm baddbmm kron
det inverse logdet slogdet pinverse matrix_power svd qr cholesky cholesky_solve cholesky_inverse addmv addr addbmm
kthvalue median nanmedian mode msort quantile nanquantile cummax cummin logcumsumexp unique unique_consecutive
diff cross histc histogram bincount diag_embed diagflat cov corrcoef matrix_exp hsplit vsplit dsplit vdot
acosh asinh atanh arccosh arcsinh arctanh arccos arcsin arctan arctan2 deg2rad rad2deg angle erfc erfinv lgamma
digamma mvlgamma i0 logit sinc xlogy logaddexp logaddexp2 copysign ldexp frexp nextafter gcd lcm renorm
"""
_RENAMED = {"absolute": "abs", "negative": "neg", "multiply": "mul", "subtract": "sub", "divide": "div",
            "true_divide": "div", "arctan2": "atan2", "fix": "trunc"}


def _own(name: str) -> bool:
    """Whether ``Tensor`` already defines ``name`` itself (in its class body or its method mixins)."""
    return any(name in vars(c) for c in Tensor.__mro__ if c is not object)


def _make(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    method.__wrapped__ = fn          # inspect.signature shows fn's parameters (tests/compat/test_signatures.py)
    return method


def _inplace_of(name):
    def method(self, *args, **kwargs):
        from .. import ops
        return self._inplace(getattr(ops, name), *args, **kwargs)
    method.__name__ = name + "_"
    return method


def _inplace_without_derivative(name, target):
    """``x.acosh_()`` and the like: PyTorch has no derivative for the in-place forms of asinh/acosh/atanh, so a
    backward through one raises NotImplementedError (the forward works)."""
    from ..autograd.function import Function

    class _NoDerivative(Function):
        @staticmethod
        def forward(ctx, a):
            from .. import ops
            return getattr(ops, target)(Tensor._make(a))._data

        @staticmethod
        def backward(ctx, g):
            raise NotImplementedError(f"the derivative for 'inplace version of {target}' is not implemented.")

    def op(x):
        return _NoDerivative.apply(x)
    op.__name__ = target

    def method(self):
        return self._inplace(op)
    method.__name__ = name + "_"
    return method


# PyTorch Tensor methods whose function is at ember's top level (``x.multinomial(1)``, ``x << 2``'s op...)
_TOPLEVEL = """
bitwise_left_shift bitwise_right_shift heaviside isposinf isneginf isreal signbit positive lu lu_solve
bernoulli multinomial conj conj_physical resolve_conj resolve_neg is_complex is_conj is_neg is_nonzero
is_same_size is_signed hardshrink prelu put select_scatter slice_scatter diagonal_scatter as_strided_scatter
get_device igamma igammac orgqr is_inference geqrf ormqr
"""


def attach_toplevel(namespace) -> None:
    """Bind the ``_TOPLEVEL`` methods; called at the end of ``ember/__init__`` with its namespace."""
    for name in _TOPLEVEL.split():
        if not _own(name):
            setattr(Tensor, name, _make(namespace[name]))


_NO = object()     # a keyword argument not given


def attach() -> None:
    from .. import ops
    Tensor.polygamma = lambda self, n: ops.polygamma(n, self)     # torch's x.polygamma(n) = polygamma(n, x)

    def where(self, condition, other):
        """``x.where(condition, y)`` is ``torch.where(condition, x, y)``."""
        return ops.where(condition, self, other)
    Tensor.where = where

    def split(self, split_size, dim=0):
        """``x.split(split_size, dim=0)`` (PyTorch's method calls it ``split_size``; the function
        ``torch.split`` calls it ``split_size_or_sections``)."""
        return ops.split(self, split_size, dim)
    Tensor.split = Tensor.unsafe_split = split
    for name in _SAME.split():
        if _own(name):
            continue
        setattr(Tensor, name, _make(getattr(ops, name)))
    for name, target in _RENAMED.items():
        setattr(Tensor, name, _make(getattr(ops, target)))

    def flip(self, *args, dims=None):
        """Reverse the order along ``dims`` (``x.flip(0, 1)``, ``x.flip([0, 1])`` or ``dims=``; a copy)."""
        if dims is not None:
            return ops.flip(self, dims)
        return ops.flip(self, args[0] if len(args) == 1 else args)
    Tensor.flip = flip

    # PyTorch's methods take a size or dims as varargs or as one sequence (``x.tile(2, 2)``, ``x.tile((2, 2))``,
    # a 0-d integer tensor as an int); the functions take the sequence only (``torch.tile(x, 2)`` is an error)
    def _varargs(op, name, args, kw):
        if name in kw:
            if args:
                raise TypeError(f"{op}() got multiple values for argument '{name}'")
            return kw[name]
        if not args:
            raise TypeError(f'{op}() missing 1 required positional arguments: "{name}"')
        return args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)

    def tile(self, *args, dims=_NO):
        """``x.tile(*dims)``: repeat along each dim (``x.tile(2)``, ``x.tile(2, 2)``, ``x.tile((2, 2))``)."""
        return ops.tile(self, _varargs("tile", "dims", args, {} if dims is _NO else {"dims": dims}))
    Tensor.tile = tile

    def broadcast_to(self, *args, size=_NO):
        """``x.broadcast_to(*size)`` (``x.broadcast_to(4, 3)``, ``x.broadcast_to((4, 3))`` or ``size=``)."""
        return ops.broadcast_to(self, _varargs("broadcast_to", "size", args, {} if size is _NO else {"size": size}))
    Tensor.broadcast_to = broadcast_to

    def count_nonzero(self, *args, dim=None):
        """``x.count_nonzero(dim=None)``; several dims as varargs or one sequence (``x.count_nonzero(0, 1)``)."""
        if args and dim is not None:
            raise TypeError("count_nonzero() got multiple values for argument 'dim'")
        return ops.count_nonzero(self, (args[0] if len(args) == 1 else args) if args else dim)
    Tensor.count_nonzero = count_nonzero

    def sum_to_size(self, *args, size=_NO):
        """``x.sum_to_size(*size)``: sum down to ``size`` (expandable to this tensor's shape)."""
        from .shape import _sum_to_size
        return _sum_to_size(self, _varargs("sum_to_size", "size", args, {} if size is _NO else {"size": size}))
    Tensor.sum_to_size = sum_to_size

    def swapaxes_(self, axis0, axis1):
        """In-place ``swapaxes`` (``transpose_`` with NumPy's parameter names, as PyTorch)."""
        return self.transpose_(axis0, axis1)
    Tensor.swapaxes_ = swapaxes_
    Tensor.unsafe_chunk = Tensor.chunk
    Tensor.real = property(lambda self: self, doc="The real part: the tensor itself (ember is real-valued).")

    def imag(self):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes (ember is real-valued)")
    Tensor.imag = property(imag)
    # in-place variants not written by hand in tensor.py
    for name in ("sin cos tan erf sign ceil trunc reciprocal square log1p expm1 rsqrt remainder fmod floor_divide "
                 "clamp_min clamp_max hypot atan2 scatter scatter_add index_add index_put tril triu "
                 "maximum minimum").split():
        if not _own(name + "_"):
            setattr(Tensor, name + "_", _inplace_of(name))
        getattr(Tensor, name + "_").__wrapped__ = getattr(ops, name)
    # PyTorch's other in-place unary methods, for every op ember has
    for name in ("erfc exp2 erfinv lgamma digamma logit sinc deg2rad rad2deg i0 asinh acosh atanh nan_to_num sgn "
                 "logical_not bitwise_not fix floor ceil trunc frac erf abs log2 log10 asin acos atan sinh cosh "
                 "relu sign round neg sigmoid tanh xlogy copysign logaddexp heaviside ldexp gcd lcm "
                 "bitwise_left_shift bitwise_right_shift nextafter logical_and logical_or logical_xor "
                 "bitwise_and bitwise_or bitwise_xor lerp addcmul addcdiv fmax fmin float_power true_divide "
                 "multiply subtract divide negative absolute arctan2 arcsin arccos arctan arcsinh arccosh arctanh "
                 "index_fill index_copy masked_scatter scatter_reduce eq ne lt le gt ge greater greater_equal "
                 "less less_equal not_equal cumsum cumprod addmm baddbmm addbmm addmv addr mvlgamma renorm "
                 "hardtanh").split():
        target = _RENAMED.get(name, name)
        if not _own(name + "_") and hasattr(ops, target):
            setattr(Tensor, name + "_", _inplace_of(target))
            getattr(Tensor, name + "_").__wrapped__ = getattr(ops, target)
    for name, target in (("asinh", "asinh"), ("acosh", "acosh"), ("atanh", "atanh"), ("arcsinh", "asinh"),
                         ("arccosh", "acosh"), ("arctanh", "atanh")):
        setattr(Tensor, name + "_", _inplace_without_derivative(name, target))
    if hasattr(ops, "polygamma") and not _own("polygamma_"):
        Tensor.polygamma_ = lambda self, n: self._inplace(lambda x: ops.polygamma(n, x))
