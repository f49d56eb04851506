"""Edge values, gradients at ties and kinks, and integer/bool dtypes, each checked against PyTorch 2.13
(issue 11, classes 4-6).  Every expected value comes from running the same call in torch."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF

# IEEE edge values are the point here: NumPy's and torch's warnings about them are noise
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")

NAN = float("nan")
INF = float("inf")


def _np(x):
    return x.detach().numpy() if isinstance(x, ember.Tensor) else x.detach().cpu().numpy()


def same(e, t, rtol=1e-6, atol=0.0):
    """ember result ``e`` equals torch result ``t``: dtype, shape, values (NaN == NaN, signed zeros ignored)."""
    assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", ""), f"dtype {e.dtype} != torch {t.dtype}"
    assert tuple(e.shape) == tuple(t.shape), f"shape {tuple(e.shape)} != torch {tuple(t.shape)}"
    a, b = _np(e), _np(t)
    if a.dtype.kind == "f":
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(a, b)


def both(vals, dtype):
    return ember.tensor(np.array(vals, dtype=dtype)), torch.tensor(np.array(vals, dtype=dtype))


def grads(fn, *vals, dtype=np.float64):
    """Gradients of sum(fn(...)) (upstream ones) for ember and torch: two lists of arrays."""
    out = []
    for m in (ember, torch):
        xs = [m.tensor(np.array(v, dtype=dtype), requires_grad=True) for v in vals]
        y = fn(m, *xs)
        y.backward(m.ones_like(y))
        out.append([None if x.grad is None else _np(x.grad) for x in xs])
    return out


def assert_grads(fn, *vals, dtype=np.float64):
    ge, gt = grads(fn, *vals, dtype=dtype)
    for i, (a, b) in enumerate(zip(ge, gt)):
        assert (a is None) == (b is None), f"input {i}: ember grad {a}, torch {b}"
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-7, equal_nan=True, err_msg=f"grad of input {i}")


def raises_like(fn_e, fn_t):
    """torch raises; ember raises an exception of the same class (or a subclass of it)."""
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(type(et.value)):
        fn_e()


# -- class 4: NaN and infinity ---------------------------------------------------------------------------------
def test_fmax_fmin_ignore_nan():
    a = [1.0, NAN, 3.0, NAN, -INF]
    b = [NAN, 2.0, 1.0, NAN, 0.0]
    (ea, ta), (eb, tb) = both(a, np.float32), both(b, np.float32)
    same(ember.fmax(ea, eb), torch.fmax(ta, tb))
    same(ember.fmin(ea, eb), torch.fmin(ta, tb))
    same(ea.fmax(eb), ta.fmax(tb))


def test_fmax_fmin_int_and_mixed_dtypes():
    (ea, ta), (eb, tb) = both([1, 5, -2], np.int32), both([NAN, 2.0, -3.0], np.float16)
    same(ember.fmax(ea, eb), torch.fmax(ta, tb))
    same(ember.fmin(eb, ea), torch.fmin(tb, ta))


@pytest.mark.parametrize("fn", ["fmax", "fmin"])
def test_fmax_fmin_grad_ties_and_nan(fn):
    # all of the gradient to the first input at a tie; none to a NaN operand
    assert_grads(lambda m, a, b: getattr(m, fn)(a, b), [1.0, 2.0, NAN, NAN, 3.0, 0.0], [1.0, NAN, 2.0, NAN, 1.0, 5.0])


@pytest.mark.parametrize("op", ["hypot", "std", "var"])
def test_no_overflow_near_1e30_float32(op):
    x = [1e30, -1e30, 3e30, 2e30]
    e, t = both(x, np.float32)
    if op == "hypot":
        same(ember.hypot(e, e), torch.hypot(t, t), rtol=1e-5)
        assert np.isfinite(_np(ember.hypot(e, e))).all()
    elif op == "std":
        same(ember.std(e), torch.std(t), rtol=1e-5)
        same(ember.std(e, 0, correction=0), torch.std(t, 0, correction=0), rtol=1e-5)
        assert np.isfinite(_np(ember.std(e)))
    else:
        # var itself is 4e60 (inf in float32, as torch), but small-valued var must stay exact
        same(ember.var(e), torch.var(t), rtol=1e-5)
        e2, t2 = both([1e18, 1e18 + 2 ** 40, 1e18], np.float32)
        same(ember.var(e2), torch.var(t2), rtol=1e-4)


def test_std_huge_float16():
    e, t = both([1000.0, -1000.0, 5000.0, 60000.0], np.float16)
    same(ember.std(e), torch.std(t), rtol=2e-3)


def test_hypot_grad():
    assert_grads(lambda m, a, b: m.hypot(a, b), [0.0, 3.0, -1.0], [0.0, 4.0, 1e-3])


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_grad_at_zero_divisor(mode):
    assert_grads(lambda m, a, b: m.div(a, b, rounding_mode=mode), [5.0, -5.0, 5.0, 0.0], [3.0, 3.0, 0.0, 0.0])


def test_pow_grads_at_base_zero():
    base = [0.0, 0.0, 0.0, 0.0, -1.0, 2.0, 0.0, -0.0]
    expo = [2.0, 0.0, -1.0, 0.5, 2.0, 0.0, NAN, 3.0]
    assert_grads(lambda m, a, b: m.pow(a, b), base, expo)


def test_pow_scalar_exponent_at_zero_and_special_values():
    e, t = both([0.0, -0.0, 4.0, -1.0, INF, NAN], np.float32)
    for p in (-0.5, 0.5, -1, -2, 2, 3, 0, 1.5, -1.5):
        same(ember.pow(e, p), torch.pow(t, p))
    assert_grads(lambda m, a: m.pow(a, -0.5), [0.0, 4.0])
    assert_grads(lambda m, a: m.pow(a, 0.5), [0.0, 4.0])
    assert_grads(lambda m, a: m.pow(a, 3), [0.0, -2.0])


def test_sign_of_nan_is_zero():
    e, t = both([NAN, -0.0, 0.0, -2.0, INF], np.float32)
    same(ember.sign(e), torch.sign(t))
    same(ember.sgn(e), torch.sgn(t))


# -- class 5: gradients at ties and kinks ------------------------------------------------------------------------
def test_clamp_tensor_bounds_grads():
    x = [0.0, 1.0, 2.0, 3.0, NAN, 1.0, 5.0, 0.5, 1.0]
    lo = [1.0, 1.0, 1.0, 1.0, 1.0, NAN, 3.0, 2.0, 1.0]
    hi = [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0]
    assert_grads(lambda m, a, b, c: m.clamp(a, b, c), x, lo, hi)
    assert_grads(lambda m, a, b: m.clamp(a, min=b), x, lo)
    assert_grads(lambda m, a, c: m.clamp(a, max=c), x, hi)
    (ex, tx), (el, tl), (eh, th) = both(x, np.float32), both(lo, np.float32), both(hi, np.float32)
    same(ember.clamp(ex, el, eh), torch.clamp(tx, tl, th))
    same(ember.clamp(ex, min=el), torch.clamp(tx, min=tl))


def test_clamp_tensor_bound_broadcast_and_dtype():
    assert_grads(lambda m, a, b: m.clamp(a, b), [[0.0, 1.0], [2.0, 1.5]], [1.0, 1.0])
    (ex, tx), (el, tl) = both([0, 5, 2], np.int64), both([1.5], np.float32)
    same(ember.clamp(ex, el), torch.clamp(tx, tl))
    (ex, tx), (el, tl) = both([0.0, 5.0], np.float32), both(1.0, np.float64)
    same(ember.clamp(ex, max=el), torch.clamp(tx, max=tl))


def test_clamp_scalar_bounds_grad_at_bounds_and_nan():
    assert_grads(lambda m, a: m.clamp(a, -1.0, 1.0), [-1.0, 1.0, 0.0, NAN, 2.0])
    assert_grads(lambda m, a: m.clamp(a, 2.0, 1.0), [0.0, 1.5, 3.0])


def test_clamp_int_tensor_with_float_bounds():
    e, t = both([-3, 0, 4], np.int64)
    same(ember.clamp(e, -1.5, 2.5), torch.clamp(t, -1.5, 2.5))
    same(ember.clamp(e, -1, 2), torch.clamp(t, -1, 2))


def test_fmod_is_differentiable():
    a, b = [5.0, -5.0, 5.0, 0.0, 5.0, 7.5], [3.0, 3.0, 0.0, 0.0, -3.0, 2.0]
    assert_grads(lambda m, x, y: m.fmod(x, y), a, b)
    assert_grads(lambda m, x: m.fmod(x, 2.0), a)
    e = ember.tensor([1.0, 2.0], requires_grad=True)
    assert ember.fmod(e, 1.5).requires_grad


def test_remainder_grads():
    assert_grads(lambda m, x, y: m.remainder(x, y), [5.0, -5.0, 5.0, 0.0, 5.0], [3.0, 3.0, 0.0, 0.0, -3.0])


def test_maximum_minimum_ties_split_and_nan_passes():
    a, b = [1.0, 2.0, NAN, NAN, 3.0], [1.0, NAN, 2.0, NAN, 1.0]
    assert_grads(lambda m, x, y: m.maximum(x, y), a, b)
    assert_grads(lambda m, x, y: m.minimum(x, y), a, b)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.amax(x), lambda m, x: m.amin(x), lambda m, x: m.max(x), lambda m, x: m.min(x),
    lambda m, x: m.amax(x, 1), lambda m, x: m.max(x, 1)[0], lambda m, x: m.min(x, 1)[0],
    lambda m, x: m.amin(x, (0, 1), keepdim=True),
])
@pytest.mark.parametrize("vals", [[[1.0, 3.0, 3.0, 2.0], [0.0, 0.0, 0.0, 0.0]],
                                  [[1.0, NAN, 3.0, NAN], [NAN, 1.0, 1.0, -1.0]]])
def test_max_min_reduction_grads_at_ties_and_nan(fn, vals):
    assert_grads(fn, vals)
    ge, gt = grads(fn, vals)
    assert ge[0].shape == gt[0].shape


def test_relu_abs_sign_kinks():
    for f in (lambda m, x: m.relu(x), lambda m, x: m.abs(x), lambda m, x: m.sign(x)):
        assert_grads(f, [0.0, -0.0, 1.0, -1.0, NAN])


@pytest.mark.parametrize("name", ["hardswish", "hardsigmoid", "hardtanh", "relu6"])
def test_hard_activations_at_corners(name):
    assert_grads(lambda m, x: getattr(EF if m is ember else TF, name)(x),
                 [-3.0, 3.0, -1.0, 1.0, 0.0, 6.0, -3.0001, 2.9999])


# -- class 6: dtypes ---------------------------------------------------------------------------------------------
def test_pow_bool():
    e, t = both([True, False], np.bool_)
    same(2 ** e, 2 ** t)
    same(ember.pow(e, 2), torch.pow(t, 2))
    same(e ** 2, t ** 2)
    same(ember.pow(e, True), torch.pow(t, True))
    same(ember.pow(e, 2.5), torch.pow(t, 2.5))
    raises_like(lambda: ember.pow(e, e), lambda: torch.pow(t, t))


def test_float_power_is_float64():
    for vals, dt in (([1, 2, 3], np.int64), ([0.5, 2.0], np.float32), ([True, False], np.bool_), ([2, 3], np.uint8)):
        e, t = both(vals, dt)
        same(ember.float_power(e, 2), torch.float_power(t, 2))
        same(ember.float_power(e, -1), torch.float_power(t, -1))
        same(ember.float_power(2, e), torch.float_power(2, t))
        same(ember.float_power(e, e), torch.float_power(t, t))
    assert_grads(lambda m, x, y: m.float_power(x, y), [1.5, 2.0], [2.0, 0.5], dtype=np.float32)


def test_atan2_of_ints_is_default_float():
    for dt in (np.int64, np.int8, np.uint8, np.bool_, np.int32):
        (ea, ta), (eb, tb) = both([1, 0, 1], dt), both([1, 1, 0], dt)
        same(ember.atan2(ea, eb), torch.atan2(ta, tb))
    (ea, ta), (eb, tb) = both([1, 2], np.int32), both([1.0, -1.0], np.float16)
    same(ember.atan2(ea, eb), torch.atan2(ta, tb), rtol=1e-3)


def test_integer_ops_by_zero_raise():
    e, t = both([1, 2, -3], np.int64)
    z, tz = both([0, 1, 2], np.int64)
    for fe, ft in ((lambda a, b: a // b, lambda a, b: a // b), (lambda a, b: a % b, lambda a, b: a % b),
                   (ember.fmod, torch.fmod), (ember.remainder, torch.remainder),
                   (ember.floor_divide, torch.floor_divide),
                   (lambda a, b: ember.div(a, b, rounding_mode="trunc"), lambda a, b: torch.div(a, b, rounding_mode="trunc")),
                   (lambda a, b: ember.div(a, b, rounding_mode="floor"), lambda a, b: torch.div(a, b, rounding_mode="floor"))):
        raises_like(lambda: fe(e, z), lambda: ft(t, tz))
        raises_like(lambda: fe(e, 0), lambda: ft(t, 0))
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fe(e, z)
        same(fe(e, ember.tensor([1, 2, -2])), ft(t, torch.tensor([1, 2, -2])))
    # float division by zero stays IEEE
    ef, tf = both([1.0, -1.0, 0.0], np.float32)
    same(ef // 0, tf // 0)
    same(ember.fmod(ef, 0.0), torch.fmod(tf, 0.0))


def test_int_pow_negative_tensor_exponent():
    e, t = both([-3, -2, -1, 0, 1, 2, 3], np.int64)
    for p in (-1, -2, -3):
        same(ember.pow(e, ember.tensor([p])), torch.pow(t, torch.tensor([p])))
    raises_like(lambda: ember.pow(e, -1), lambda: torch.pow(t, -1))
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        ember.pow(e, -2)
    same(ember.pow(2, ember.tensor([-1, 0, 3])), torch.pow(2, torch.tensor([-1, 0, 3])))


def test_uint8_wraps_around():
    e, t = both([0, 1, 200, 255], np.uint8)
    for f in (lambda a: a + -1, lambda a: a * -1, lambda a: -1 + a, lambda a: a + 300, lambda a: a - 1,
              lambda a: a * 2, lambda a: a < -1, lambda a: a == 256, lambda a: a & -1, lambda a: a // -1):
        same(f(e), f(t))
    ei, ti = both([0, 1, 100], np.int8)
    same(ei * 1000, ti * 1000)
    same(ei + 100, ti + 100)


def test_sign_of_bool_and_ints():
    for vals, dt in (([True, False], np.bool_), ([3, 0, 1], np.uint8), ([-2, 0, 5], np.int16)):
        e, t = both(vals, dt)
        same(ember.sign(e), torch.sign(t))
        same(ember.sgn(e), torch.sgn(t))


def test_nansum_of_ints_stays_int64():
    for dt in (np.int32, np.uint8, np.bool_, np.int64):
        e, t = both([[1, 2], [3, 1]], dt)
        same(ember.nansum(e), torch.nansum(t))
        same(ember.nansum(e, 0), torch.nansum(t, 0))
    e, t = both([[1.0, NAN], [NAN, NAN]], np.float32)
    same(ember.nansum(e, 1), torch.nansum(t, 1))
    assert_grads(lambda m, x: m.nansum(x), [1.0, NAN, 2.0])


def test_cumprod_square_prod_of_bool_and_small_ints():
    for vals, dt in (([True, False, True], np.bool_), ([2, 3, 200], np.uint8), ([2, 3, 4], np.int16)):
        e, t = both(vals, dt)
        same(ember.cumprod(e, 0), torch.cumprod(t, 0))
        same(ember.cumsum(e, 0), torch.cumsum(t, 0))
        same(ember.square(e), torch.square(t))
        same(ember.prod(e), torch.prod(t))
        same(ember.prod(e, 0), torch.prod(t, 0))


def test_hardtanh_of_ints():
    e, t = both([-3, -1, 0, 1, 2, 5], np.int64)
    same(EF.hardtanh(e), TF.hardtanh(t))
    same(EF.relu6(e), TF.relu6(t))
    same(EF.hardtanh(e.to(ember.int16), -2, 2), TF.hardtanh(t.to(torch.int16), -2, 2))
    raises_like(lambda: EF.hardtanh(e.to(ember.uint8)), lambda: TF.hardtanh(t.to(torch.uint8)))
    raises_like(lambda: EF.hardtanh(e.to(ember.bool)), lambda: TF.hardtanh(t.to(torch.bool)))
    same(EF.threshold(e, 1, 0), TF.threshold(t, 1, 0))


@pytest.mark.parametrize("name", ["elu", "gelu", "leaky_relu", "softplus", "silu", "mish", "hardsigmoid",
                                  "hardswish", "logsigmoid", "selu", "celu", "softshrink", "hardshrink"])
def test_float_only_activations_reject_ints_like_torch(name):
    e, t = both([-1, 0, 2], np.int64)
    raises_like(lambda: getattr(EF, name)(e), lambda: getattr(TF, name)(t))


def test_addcmul_addcdiv_int16():
    (ex, tx), (ea, ta), (eb, tb) = both([1, 2, 3], np.int16), both([4, 5, 6], np.int16), both([7, 8, 9], np.int16)
    same(ember.addcmul(ex, ea, eb), torch.addcmul(tx, ta, tb))
    same(ember.addcmul(ex, ea, eb, value=2), torch.addcmul(tx, ta, tb, value=2))
    same(ember.addcmul(ex, ea, eb, value=0.5), torch.addcmul(tx, ta, tb, value=0.5))
    same(ember.addcmul(ex.float(), ea, eb, value=0.5), torch.addcmul(tx.float(), ta, tb, value=0.5))
    same(ember.addcdiv(ex, ea.float(), eb), torch.addcdiv(tx, ta.float(), tb))
    raises_like(lambda: ember.addcdiv(ex.float(), ea, eb, value=2), lambda: torch.addcdiv(tx.float(), ta, tb, value=2))
    raises_like(lambda: ember.addcdiv(ex, ea, eb), lambda: torch.addcdiv(tx, ta, tb))


@pytest.mark.parametrize("args", [(0, 5.5), (0.5, 5), (0.5, 5.7, 1.5), (-2.5, 3.5, 0.7), (1, 10, 3), (0, 1, 0.3),
                                  (10, 0, -2.5), (5.9,)])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int16", "float32", "float64", None])
def test_arange_dtypes_and_fractional_args(args, dtype):
    kw = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    kwt = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    try:
        t = torch.arange(*args, **kwt)
    except Exception as exc:
        with pytest.raises(type(exc)):
            ember.arange(*args, **kw)
        return
    same(ember.arange(*args, **kw), t)


@pytest.mark.parametrize("args", [(0, 10, 5), (0.5, 7.9, 4), (-2.7, 2.7, 7), (1, 2, 1), (0, 1, 0), (3, -3, 4),
                                  (0, 255, 6), (-0.5, 0.5, 3)])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int8", "float32", "float64", None])
def test_linspace_dtypes(args, dtype):
    kw = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    kwt = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    try:
        t = torch.linspace(*args, **kwt)
    except Exception as exc:
        with pytest.raises(type(exc)):
            ember.linspace(*args, **kw)
        return
    same(ember.linspace(*args, **kw), t, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("args", [(0, 3, 4), (0.5, 2.5, 3), (-1, 1, 5), (0, 2, 3, 2.0), (0.5, 3.5, 4, 3)])
@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "float64", None])
def test_logspace_dtypes(args, dtype):
    kw = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    kwt = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    same(ember.logspace(*args, **kw), torch.logspace(*args, **kwt), rtol=1e-6)


@pytest.mark.parametrize("op", ["sum", "prod", "amax", "amin", "mean", "argmax", "argmin", "max", "min", "std",
                                "var", "logsumexp", "all", "any", "nansum", "norm"])
@pytest.mark.parametrize("shape,dim", [((0, 3), 1), ((3, 0), 0), ((0, 3), -1), ((2, 0, 3), 2), ((0, 3), 0),
                                       ((3, 0), 1), ((0,), 0)])
def test_reductions_over_empty_tensors(op, shape, dim):
    e = ember.zeros(shape)
    t = torch.zeros(shape)
    try:
        r = getattr(torch, op)(t, dim)
    except Exception as exc:
        with pytest.raises(type(exc)):
            getattr(ember, op)(e, dim)
        return
    r_e = getattr(ember, op)(e, dim)
    if isinstance(r, tuple):
        same(r_e[0], r[0])
        same(r_e[1], r[1])
    else:
        same(r_e, r)


def test_reduction_dtypes_of_small_ints():
    for dt in (np.uint8, np.int8, np.bool_, np.int16):
        e, t = both([[1, 0], [1, 1]], dt)
        for f in (lambda m, x: m.all(x), lambda m, x: m.any(x, 0), lambda m, x: m.prod(x), lambda m, x: m.sum(x, 1)):
            same(f(ember, e), f(torch, t))


def test_bool_inputs_unsupported_like_torch():
    e, t = both([True, False], np.bool_)
    for name in ("abs", "floor", "ceil", "trunc", "round", "neg", "relu", "frac", "argmax", "argmin"):
        raises_like(lambda: getattr(ember, name)(e), lambda: getattr(torch, name)(t))
    raises_like(lambda: e - e, lambda: t - t)
    raises_like(lambda: e - ember.tensor([1, 2]), lambda: t - torch.tensor([1, 2]))
    raises_like(lambda: ember.nanmean(e), lambda: torch.nanmean(t))


@pytest.mark.parametrize("descending", [False, True])
def test_sort_topk_order_nan_as_largest(descending):
    vals = [[3.0, NAN, -INF, 1.0, NAN, INF, -0.0, 0.0], [NAN, NAN, 2.0, 2.0, -1.0, INF, 5.0, NAN]]
    e, t = both(vals, np.float32)
    se, st = ember.sort(e, dim=1, descending=descending, stable=True), torch.sort(t, dim=1, descending=descending, stable=True)
    same(se[0], st[0])
    same(se[1], st[1])
    same(ember.argsort(e, dim=1, descending=descending, stable=True), torch.argsort(t, dim=1, descending=descending, stable=True))
    same(ember.sort(e, 0, descending=descending)[0], torch.sort(t, 0, descending=descending)[0])
    for k in (1, 3, 8):
        te, tt_ = ember.topk(e, k, 1, largest=descending), torch.topk(t, k, 1, largest=descending)
        same(te[0], tt_[0])


def test_norm_p0_counts_nan_and_inf_as_nonzero():
    vals = [[0.0, NAN, INF, -0.0, 2.0], [1.0, 0.0, 0.0, 0.0, -INF]]
    e, t = both(vals, np.float32)
    same(ember.norm(e, 0), torch.norm(t, 0))
    same(ember.norm(e, 0, dim=1), torch.norm(t, 0, dim=1))
    ge, gt = grads(lambda m, x: m.norm(x, 0, dim=1), [[0.0, 1.5, -2.0], [3.0, 0.0, 0.0]])
    assert gt[0] is None and (ge[0] is None or not ge[0].any())      # torch: no gradient at all


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_ints_like_torch(name):
    e, t = both([[1, 2], [3, 4]], np.int64)
    raises_like(lambda: getattr(ember, name)(e, 1), lambda: getattr(torch, name)(t, 1))
    same(getattr(ember, name)(e, 1, dtype=ember.float64), getattr(torch, name)(t, 1, dtype=torch.float64))
    e0, t0 = both(np.zeros((0, 3)), np.int32)
    same(getattr(ember, name)(e0, 1), getattr(torch, name)(t0, 1))


def test_float16_cumsum_cumprod_accumulate_in_float32():
    e, t = both([1e4, 100.0, 0.0, -0.0, 1.0, 60000.0, 60000.0, -60000.0], np.float16)
    same(ember.cumprod(e, 0), torch.cumprod(t, 0))
    same(ember.cumsum(e, 0), torch.cumsum(t, 0))
    e, t = both([0.1] * 3000, np.float16)
    same(ember.cumsum(e, 0), torch.cumsum(t, 0), rtol=1e-3)


def test_sub_with_python_bool_raises_like_torch():
    e, t = both([1, 2], np.uint8)
    raises_like(lambda: e - True, lambda: t - True)
    raises_like(lambda: False - e, lambda: False - t)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "int64", "float16", "bool"])
@pytest.mark.parametrize("fill", [1, -1, 300, 2.5, float("nan"), float("inf"), True])
def test_full_fill_value_conversion(dtype, fill):
    ed, td = getattr(ember, dtype), getattr(torch, dtype)
    try:
        t = torch.full((2,), fill, dtype=td)
    except Exception as exc:
        with pytest.raises(type(exc)):
            ember.full((2,), fill, dtype=ed)
        return
    same(ember.full((2,), fill, dtype=ed), t)
    same(ember.full_like(ember.zeros(3), fill, dtype=ed), torch.full_like(torch.zeros(3), fill, dtype=td))


def test_ranges_reject_bool_dtype():
    raises_like(lambda: ember.arange(3, dtype=ember.bool), lambda: torch.arange(3, dtype=torch.bool))
    raises_like(lambda: ember.linspace(0, 1, 3, dtype=ember.bool), lambda: torch.linspace(0, 1, 3, dtype=torch.bool))
    raises_like(lambda: ember.logspace(0, 1, 3, dtype=ember.bool), lambda: torch.logspace(0, 1, 3, dtype=torch.bool))


@pytest.mark.parametrize("pw", [None, [1.0, 2.0, 0.5, 3.0]])
def test_bce_with_logits_grads_at_edge_values(pw):
    x = [[0.0, 1e4, -1e4, 2.0], [INF, 0.0, 1.0, -1.0], [-INF, -INF, 0.0, 1.0], [50.0, -50.0, 100.0, 0.0]]
    y = [[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.5, 0.3], [1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]]

    def f(m, a, b):
        F = EF if m is ember else TF
        w = None if pw is None else m.tensor(np.array(pw))
        return F.binary_cross_entropy_with_logits(a, b, pos_weight=w, reduction="sum")
    assert_grads(f, x, y)


def test_bce_grads_near_zero_and_one():
    p = [[0.0, 1.0, 0.5, 1e-30], [1.0 - 1e-17, 0.3, 1e-13, 0.9]]
    y = [[0.0, 1.0, 1.0, 0.0], [1.0, 0.5, 0.0, 1.0]]
    assert_grads(lambda m, a, b: (EF if m is ember else TF).binary_cross_entropy(a, b, reduction="sum"), p, y)


def test_can_cast_and_inplace_result_casts_like_torch():
    names = ["bool", "uint8", "int8", "int16", "int64", "float16", "float32", "float64"]
    for a in names:
        for b in names:
            assert ember.can_cast(getattr(ember, a), getattr(ember, b)) == torch.can_cast(getattr(torch, a), getattr(torch, b))
    for a in names:
        for b in names:
            va, vb = np.array([1, 0, 1]).astype(a), np.array([2, 1, 1]).astype(b)
            ea, ta = ember.tensor(va), torch.tensor(va)
            try:
                ta.add_(torch.tensor(vb)) if a != "bool" else ta.mul_(torch.tensor(vb))
            except Exception as exc:
                with pytest.raises(type(exc)):
                    ea.add_(ember.tensor(vb)) if a != "bool" else ea.mul_(ember.tensor(vb))
                continue
            ea.add_(ember.tensor(vb)) if a != "bool" else ea.mul_(ember.tensor(vb))
            same(ea, ta)


def test_float16_reductions_accumulate_in_float32():
    a = (np.random.default_rng(0).random(20000) * 0.1).astype(np.float16)
    e, t = ember.tensor(a), torch.tensor(a)
    for f in (lambda m, x: m.sum(x), lambda m, x: m.norm(x), lambda m, x: m.nanmean(x), lambda m, x: m.mean(x),
              lambda m, x: m.nansum(x), lambda m, x: m.std(x)):
        same(f(ember, e), f(torch, t), rtol=1e-3)


def test_lerp_like_torch():
    assert_grads(lambda m, s, e, w: m.lerp(s, e, w), [1.0, 2.0, 1e8, -INF], [3.0, 5.0, 1.0, 0.0], [0.2, 0.9, 1.0, 0.5])
    assert_grads(lambda m, s, e: m.lerp(s, e, 0.3), [1.0, 2.0, 1e8], [3.0, 5.0, 1.0])
    (es, ts), (ee, te) = both([1e8, 2.0], np.float32), both([1.0, 3.0], np.float32)
    same(ember.lerp(es, ee, 0.9999999), torch.lerp(ts, te, 0.9999999))
    raises_like(lambda: ember.lerp(es, ee.double(), 0.5), lambda: torch.lerp(ts, te.double(), 0.5))
    raises_like(lambda: ember.lerp(es.int(), ee.int(), 0.5), lambda: torch.lerp(ts.int(), te.int(), 0.5))


def test_isclose_needs_one_dtype_and_addcmul_promotes_first():
    raises_like(lambda: ember.isclose(ember.ones(2), ember.ones(2, dtype=ember.float64)),
                lambda: torch.isclose(torch.ones(2), torch.ones(2, dtype=torch.float64)))
    (ex, tx), (ea, ta) = both([1, 2], np.uint8), both([100, -100], np.int8)
    same(ember.addcmul(ex, ea, ea), torch.addcmul(tx, ta, ta))


def test_clamp_bool_rules():
    e, t = both([True, False], np.bool_)
    same(ember.clamp(e, 0), torch.clamp(t, 0))
    same(ember.clamp(e, e), torch.clamp(t, t))
    raises_like(lambda: ember.clamp(e, True), lambda: torch.clamp(t, True))
    raises_like(lambda: ember.clamp(e, e, e), lambda: torch.clamp(t, t, t))


def test_round_decimals():
    e, t = both([0.125, 2.675, -1.005, 1e30, 123.456, 0.5, 1.5, 2.5, -0.5, NAN, INF], np.float32)
    for d in (0, 1, 2, -1, -2):
        same(ember.round(e, decimals=d), torch.round(t, decimals=d))
    ei, ti = both([1, 25, -35], np.int64)
    same(ember.round(ei), torch.round(ti))
    raises_like(lambda: ember.round(ei, decimals=-1), lambda: torch.round(ti, decimals=-1))


def test_float16_norm_and_fmod_computed_in_float32_and_logsumexp_needs_dim():
    e, t = both([[300.0, -200.0, 100.0], [1e-3, 2e-3, 0.0]], np.float16)
    same(ember.norm(e), torch.norm(t), rtol=1e-3)
    same(ember.norm(e, dim=1), torch.norm(t, dim=1), rtol=1e-3)
    (ea, ta), (eb, tb) = both([60000.0, 3.0], np.float16), both([1e-3, 2.0], np.float16)
    same(ember.fmod(ea, eb), torch.fmod(ta, tb), rtol=1e-3)
    # small tensors (PyTorch's scalar path) give the exact remainder even where a / b overflows
    (ea, ta), (eb, tb) = both([1e30, 1.0, 5.0], np.float32), both([1e-30, 1e-40, 3e-39], np.float32)
    same(ember.fmod(ea, eb), torch.fmod(ta, tb))
    raises_like(lambda: ember.logsumexp(e), lambda: torch.logsumexp(t))


@pytest.mark.parametrize("vals", [[0.0, INF, 2.0], [INF, 0.0, 1.0], [NAN, 1.0, 0.0], [2.0, INF, 3.0], [0.0, 0.0, INF],
                                  [1.0, 0.0, 2.0, 0.0, 3.0], [INF], [-INF, 2.0, 0.0], [3.0, 0.0, 2.0, 0.0, INF, 1.0]])
def test_cumprod_grads_with_zeros_and_infinities(vals):
    assert_grads(lambda m, x: m.cumprod(x, 0) * m.tensor(np.linspace(0.5, 1.5, len(vals))), vals)


def test_atan2_grad_at_origin_and_infinities():
    assert_grads(lambda m, a, b: m.atan2(a, b), [INF, 1.0, INF, 0.0, 1e20, NAN, -INF, 3.0, 0.0],
                 [1.0, INF, INF, 0.0, 1e20, 1.0, 2.0, NAN, -0.0], dtype=np.float32)


def test_threshold_passes_nan():
    assert_grads(lambda m, x: (EF if m is ember else TF).threshold(x, 0.5, -1.0), [NAN, 0.5, 0.6, -INF, INF, 0.0])


def test_add_sub_alpha_checks_and_integer_dtype_of_grad_tensors():
    (ea, ta), (eb, tb) = both([1, 2], np.int64), both([1, 1], np.int64)
    raises_like(lambda: ember.add(ea, eb, alpha=0.5), lambda: torch.add(ta, tb, alpha=0.5))
    raises_like(lambda: ember.sub(ea, 1, alpha=0.5), lambda: torch.sub(ta, 1, alpha=0.5))
    raises_like(lambda: ember.add(ea, eb, alpha=True), lambda: torch.add(ta, tb, alpha=True))
    same(ember.add(ea.float(), eb, alpha=0.5), torch.add(ta.float(), tb, alpha=0.5))
    same(ember.add(ea, eb, alpha=3), torch.add(ta, tb, alpha=3))
    eb_, tb_ = both([True, False], np.bool_)
    same(ember.add(eb_, eb_, alpha=2), torch.add(tb_, tb_, alpha=2))
    for f in (lambda m, x: m.sum(x, dtype=m.int64), lambda m, x: m.cumsum(x, 0, dtype=m.int64),
              lambda m, x: m.prod(x, dtype=m.int64), lambda m, x: m.cumprod(x, 0, dtype=m.int32)):
        raises_like(lambda: f(ember, ember.ones(2, requires_grad=True)), lambda: f(torch, torch.ones(2, requires_grad=True)))
        with ember.no_grad():
            same(f(ember, ember.ones(2, requires_grad=True)), f(torch, torch.ones(2)))
    same(ember.sum(ember.ones(2, requires_grad=True), dtype=ember.float64),
         torch.sum(torch.ones(2, requires_grad=True), dtype=torch.float64))


def test_descending_sort_of_integer_minimum():
    e, t = both([[0, -32768, 5, 32767, -32768, 0]], np.int16)
    se, st = ember.sort(e, dim=1, descending=True, stable=True), torch.sort(t, dim=1, descending=True, stable=True)
    same(se[0], st[0])
    same(se[1], st[1])
    same(ember.topk(e, 3, 1)[0], torch.topk(t, 3, 1)[0])


def test_empty_integer_division_by_zero_and_alpha_promotion():
    for f in (lambda m: m.div(m.zeros(0, dtype=m.bool), 0, rounding_mode="floor"), lambda m: m.zeros(0, dtype=m.int64) % 0,
              lambda m: m.add(m.tensor(0, dtype=m.int8), m.tensor(1, dtype=m.uint8), alpha=-1),
              lambda m: m.add(m.tensor(-0.0, dtype=m.float16), m.tensor([[-4], [5]], dtype=m.int32), alpha=0.5)):
        same(f(ember), f(torch))
    raises_like(lambda: ember.arange(-0.3, dtype=ember.int64), lambda: torch.arange(-0.3, dtype=torch.int64))


def test_threshold_and_hardtanh_of_ints_convert_scalars_like_torch():
    e, t = both([-9223372036854775808, 9223372036854775807, 0, 3, 4], np.int64)
    same(EF.threshold(e, 3.0, 0.0), TF.threshold(t, 3.0, 0.0))
    same(EF.hardtanh(e, -1.0, 1.0), TF.hardtanh(t, -1.0, 1.0))
    eu, tu = both([0, 5, 7, 200], np.uint8)
    same(EF.relu6(eu), TF.relu6(tu))
    raises_like(lambda: EF.threshold(eu, 0.5, -1.0), lambda: TF.threshold(tu, 0.5, -1.0))


def test_pow_bool_exponent_backward_raises_like_torch():
    def run(m):
        x = m.tensor([0.0, 2.0], requires_grad=True)
        (x ** m.tensor([False, True])).sum().backward()
    raises_like(lambda: run(ember), lambda: run(torch))
    e, t = both([0.5, 2.0], np.float32)
    same(e ** ember.tensor([False, True]), t ** torch.tensor([False, True]))


def test_atan2_backward_with_integer_operand_as_torch():
    for A, B in [(np.array(255, np.uint8), np.array([-2.0, 2.067, -3.03])),
                 (np.array([3, 2147483647, -2147483647, 0], np.int32), np.array([2.89, -1.13, -2.45, 1e30], np.float32))]:
        assert_grads(lambda m, b: m.atan2(m.tensor(A), b), B, dtype=B.dtype)

    def run(m):
        b = m.tensor([1.0, 2.0], requires_grad=True)
        m.atan2(m.tensor([True, False]), b).sum().backward()
    raises_like(lambda: run(ember), lambda: run(torch))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
# (large inputs take _bound's rows, the second with a tail, and the thread-split path at 2+ threads)
@pytest.mark.parametrize("n", [8, 1 << 19, (1 << 19) + 13])
def test_relu_keeps_signed_zero_and_nan_bits_as_torch(dtype, n):
    """``relu(-0.0)`` is -0.0 in PyTorch (``x < 0 ? 0 : x``) and a NaN keeps its sign bit: the result's bits,
    forward with and without a graph, through nn.ReLU, the compiled model and a relu RNN cell."""
    vals = np.resize(np.array([-0.0, 0.0, np.nan, -np.nan, -1.0, 2.0, np.inf, -np.inf], dtype), n)
    want = torch.relu(torch.tensor(vals)).numpy()
    it = np.int32 if dtype == np.float32 else np.int64

    def bits(t):
        return np.asarray(t.detach().numpy() if isinstance(t, ember.Tensor) else t).view(it)
    with ember.no_grad():
        got = [ember.relu(ember.tensor(vals)), ember.nn.ReLU()(ember.tensor(vals))]
    got.append(ember.relu(ember.tensor(vals, requires_grad=True)))
    x = ember.tensor(vals.copy())
    got.append(x.relu_())
    got.append(ember.compile(ember.nn.Sequential(ember.nn.ReLU()))(ember.tensor(vals)))
    for g in got:
        np.testing.assert_array_equal(bits(g), want.view(it))
    if n == 8:
        h = ember.zeros(8, 1, dtype=getattr(ember, np.dtype(dtype).name))
        cell_e = ember.nn.RNNCell(1, 1, nonlinearity="relu", bias=False).to(h.dtype)
        cell_t = torch.nn.RNNCell(1, 1, nonlinearity="relu", bias=False).to(getattr(torch, np.dtype(dtype).name))
        with ember.no_grad(), torch.no_grad():
            cell_e.weight_ih.fill_(1.0), cell_e.weight_hh.fill_(1.0)
            cell_t.weight_ih.fill_(1.0), cell_t.weight_hh.fill_(1.0)
            xe = ember.tensor(vals[:, None])
            ce = cell_e(xe, h)
            ct = cell_t(torch.tensor(vals[:, None]), torch.zeros(8, 1, dtype=getattr(torch, np.dtype(dtype).name)))
        np.testing.assert_array_equal(np.signbit(ce.numpy()), np.signbit(ct.numpy()))


@pytest.mark.parametrize("name, fn", [
    ("clamp_min", lambda m, x: m.clamp_min(x, 0.0)), ("clamp lo", lambda m, x: m.clamp(x, min=0.0)),
    ("clamp hi", lambda m, x: m.clamp(x, max=-0.0)), ("clamp both", lambda m, x: m.clamp(x, 0.0, 1.0)),
    ("clamp_max", lambda m, x: m.clamp_max(x, 0.0)),
    ("elu", lambda m, x: (EF if m is ember else TF).elu(x)), ("selu", lambda m, x: (EF if m is ember else TF).selu(x)),
    ("celu", lambda m, x: (EF if m is ember else TF).celu(x, 2.0))])
@pytest.mark.parametrize("n", [5, (1 << 15) + 3])      # (the second through _bound's rows and its tail)
def test_signed_zero_at_ties_as_torch(name, fn, n):
    """A tie with the bound keeps the input (clamp keeps -0.0 against a bound of +0.0 and the reverse), and the
    ELU family's exp-1 branch is expm1 of the input itself (-0.0 -> -0.0), as PyTorch's kernels give."""
    vals = np.resize(np.array([-0.0, 0.0, -1.0, 2.0, np.nan], np.float32), n)
    e = fn(ember, ember.tensor(vals)).numpy()
    t = fn(torch, torch.tensor(vals)).numpy()
    np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
    ok = ~np.isnan(t)
    np.testing.assert_array_equal(np.signbit(e[ok]), np.signbit(t[ok]))
    np.testing.assert_allclose(e[ok], t[ok], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_remainder_zero_keeps_the_dividends_sign_as_torch(dtype):
    """``torch.remainder`` is fmod plus the divisor where fmod is non-zero and of the other sign, so a zero
    result keeps the dividend's sign (``remainder(-4., 2.)`` is -0.0); NumPy's ``remainder`` (Python's ``%``)
    gives it the divisor's.  Tensor, scalar and reflected operands, zeros, infinities and NaN."""
    vals = np.array([-4.0, 4.0, -0.0, 0.0, 2.0, -2.0, 3.0, -3.0, 1.5, -1.5, np.inf, -np.inf, np.nan, 7.25, -0.3],
                    dtype)
    a, b = np.repeat(vals, vals.size), np.tile(vals, vals.size)

    def same(e, t):
        e, t = e.numpy(), t.numpy()
        np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
        ok = ~np.isnan(t)
        np.testing.assert_array_equal(e[ok], t[ok])
        np.testing.assert_array_equal(np.signbit(e[ok]), np.signbit(t[ok]))
    with np.errstate(all="ignore"):
        same(ember.remainder(ember.tensor(a), ember.tensor(b)), torch.remainder(torch.tensor(a), torch.tensor(b)))
        same(ember.tensor(a) % 2.0, torch.tensor(a) % 2.0)
        same(ember.tensor(a) % -1.5, torch.tensor(a) % -1.5)
        same(ember.remainder(ember.tensor(a), -0.3), torch.remainder(torch.tensor(a), -0.3))


@pytest.mark.parametrize("grad", [False, True])
def test_pooling_keeps_signed_zeros_as_torch(grad):
    """Max pooling keeps the first maximum of a window, value included (a window of 0.0 then -0.0 gives 0.0:
    PyTorch's loop moves only on a greater value); average pooling's sums start at +0.0 (a window of -0.0
    averages to 0.0).  Windows tiled, overlapping and padded, with NaN and -inf; with and without a graph."""
    rng = np.random.default_rng(0)
    for trial in range(60):
        shape = (2, 3, int(rng.integers(2, 7)), int(rng.integers(2, 7)))
        x = rng.choice(np.array([0.0, -0.0, 1.0, -1.0, np.nan, -np.inf], np.float32), size=shape)
        k, s = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        p = int(rng.integers(0, k // 2 + 1))
        for name, kw in (("max_pool2d", {}), ("avg_pool2d", {"count_include_pad": bool(trial % 2)})):
            e = getattr(EF, name)(ember.tensor(x, requires_grad=grad), k, s, p, **kw).detach().numpy()
            t = getattr(TF, name)(torch.tensor(x, requires_grad=grad), k, s, p, **kw).detach().numpy()
            np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
            ok = ~np.isnan(t)
            np.testing.assert_array_equal(e[ok], t[ok])
            np.testing.assert_array_equal(np.signbit(e[ok]), np.signbit(t[ok]), err_msg=f"{name} k{k} s{s} p{p}")


@pytest.mark.parametrize("args", [(2,), (3, 1, 1), (2, 2, 1)])
def test_avg_pool_of_integers_as_torch(args):
    """Average pooling of an int64 input stays int64 with PyTorch's values (the +0.0 start of the float sums
    must not reach the integer path)."""
    x = np.arange(-30, 45).reshape(1, 3, 5, 5)
    e = EF.avg_pool2d(ember.tensor(x), *args)
    t = TF.avg_pool2d(torch.tensor(x), *args)
    assert str(e.dtype) == "ember.int64"
    np.testing.assert_array_equal(e.numpy(), t.numpy())
