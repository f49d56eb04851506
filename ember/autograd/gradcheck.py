"""Finite-difference checks of analytical gradients (``gradcheck``) and of second derivatives
(``gradgradcheck``), in float64 with central differences, as ``torch.autograd.gradcheck``.  On failure the
report names the input, the worst element, both values and the tolerance."""
from __future__ import annotations

import numpy as _np


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _numerical_jacobian(fn, inputs, idx, eps):
    x = inputs[idx]
    orig = x._data
    x._data = _np.array(orig, copy=True, order="C")     # perturb a private copy; the input is left untouched
    try:
        return _jacobian_columns(fn, inputs, x, eps)
    finally:
        x._data = orig


def _jacobian_columns(fn, inputs, x, eps):
    flat = x._data.reshape(-1)
    outs = None
    cols = []
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + eps
        plus = _outputs(fn(*inputs))
        flat[i] = orig - eps
        minus = _outputs(fn(*inputs))
        flat[i] = orig
        cols.append(_np.concatenate([((p - m) / (2 * eps)).reshape(-1) for p, m in zip(plus, minus)])
                    if plus else _np.zeros(0))
        outs = plus
    return _np.stack(cols, axis=1) if cols else _np.zeros((0, 0))


def _outputs(out):
    from ..tensor import Tensor
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o._data.astype(_np.float64) for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              **_ignored) -> bool:
    """Compare ``fn``'s analytical Jacobian (one backward per output element) with central finite differences,
    for every input that requires grad.  Inputs should be float64."""
    fn = func
    from ..tensor import Tensor
    from .functional import grad as agrad
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != _np.float64:
            import warnings
            warnings.warn(f"gradcheck: input {i} is {x.dtype}, not float64; the check may fail on precision")
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    out = fn(*inputs)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,))
            if isinstance(o, Tensor) and o.dtype.kind == "f"]
    sizes = [o.numel() for o in outs]
    n_out = sum(sizes)
    for i in diff_idx:
        x = inputs[i]
        if x.numel() == 0:
            continue
        numerical = _numerical_jacobian(fn, inputs, i, eps)
        analytical = _np.zeros((n_out, x.numel()))
        row = 0
        for o, sz in zip(outs, sizes):
            if not o.requires_grad:
                row += sz
                continue
            for k in range(sz):
                go = _np.zeros(sz, o._data.dtype)
                go[k] = 1
                (g,) = agrad(o, x, grad_outputs=Tensor._make(go.reshape(o.shape)), retain_graph=True,
                             allow_unused=True)
                if g is not None:
                    analytical[row + k] = g._data.reshape(-1)
            row += sz
        err = _np.abs(analytical - numerical)
        tol = atol + rtol * _np.abs(numerical)
        bad = err > tol
        if bad.any():
            r, c = _np.unravel_index(_np.argmax(err - tol), err.shape)
            msg = (f"gradcheck failed for input {i} (shape {tuple(x.shape)}): worst element is d output[{r}] / "
                   f"d input[{_np.unravel_index(c, tuple(x.shape)) if x.ndim else ()}]: analytical "
                   f"{analytical[r, c]:.8g} vs numerical {numerical[r, c]:.8g} (|diff| {err[r, c]:.3g} > tol "
                   f"{tol[r, c]:.3g}); {int(bad.sum())} of {bad.size} Jacobian entries disagree")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, **_ignored) -> bool:
    """gradcheck applied to the function x -> grad(fn(x), x, v, create_graph=True) for a fixed random v:
    checks that the backward itself is correctly differentiable."""
    fn = func
    from ..tensor import Tensor
    from .functional import grad as agrad
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    out = fn(*inputs)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if isinstance(o, Tensor) and o.requires_grad]
    rng = _np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = [Tensor._make(rng.standard_normal(o.shape)) for o in outs]
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]

    def first_grads(*xs):
        o = fn(*xs)
        os_ = [t for t in (o if isinstance(o, (tuple, list)) else (o,)) if isinstance(t, Tensor) and t.requires_grad]
        d = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        gs = agrad(os_, d, grad_outputs, create_graph=True, allow_unused=True, materialize_grads=True)
        return tuple(gs)
    return gradcheck(first_grads, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
