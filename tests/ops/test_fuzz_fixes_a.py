"""Regression tests for differences from PyTorch found by the differential fuzzer (tests/fuzz) in the binary,
unary, autograd and creation families.  Each test states PyTorch 2.13's behaviour as plain numbers."""
import math

import numpy as np
import pytest

import ember


def test_div_divisor_grad_is_finite_for_subnormal_divisor():
    # PyTorch: d(a/b)/db = -g * ((a / b) / b); b * b underflows to 0 at b = 1e-40, which gave 0/0 = nan
    a = ember.tensor([0.0, 1e-30])
    b = ember.tensor([1e-40, 1e-40], requires_grad=True)
    (a / b).backward(ember.tensor([0.7, 1.0]))
    g = b.grad.numpy()
    assert g[0] == 0.0 and math.copysign(1, g[0]) == -1
    assert np.isneginf(g[1])


def test_float16_scalar_divisor_and_factor_read_in_float32():
    # PyTorch's float16 mul/div kernels read a scalar second operand in float32, not rounded to float16
    x = ember.tensor([0.0, 1e-4], dtype=ember.float16)
    assert ember.true_divide(x, ember.tensor(1.1754944e-38)).tolist()[0] == 0.0      # was 0/0 = nan
    assert (x / 1.0000001e-7).tolist()[1] == 1000.0                                     # was 839
    assert ember.div(x, 1.0000001e-7, rounding_mode="floor").tolist()[1] == 1000.0
    assert ember.floor_divide(x, 1.0000001e-7).tolist()[1] == 1000.0
    assert (x * 100000).tolist()[1] == 10.0                                             # was inf
    assert (100000 * x).tolist()[1] == 10.0
    assert (x * ember.tensor(100000)).dtype == ember.float16


def test_reverse_true_divide_is_reciprocal_times_number():
    # PyTorch: o / x is x.reciprocal() * o, so 0 / 1e-310 is 0 * inf = nan
    r = False / ember.tensor([1e-310], dtype=ember.float64)
    assert np.isnan(r.numpy()[0])
    assert (2 / ember.tensor([4, 0])).tolist() == [0.5, math.inf]


@pytest.mark.parametrize("fn", [lambda x: x ** 70000, lambda x: ember.pow(x, -1e30),
                                lambda x: ember.clamp(x, 1e6), lambda x: ember.clamp(x, max=-70000),
                                lambda x: ember.full_like(x, 1e6), lambda x: ember.full((2,), 1e6, dtype=ember.float16)])
def test_float16_scalar_arguments_must_fit(fn):
    with pytest.raises(RuntimeError, match="without overflow"):
        fn(ember.tensor([1.0, 2.0], dtype=ember.float16))


def test_float16_scalar_arguments_that_fit_or_are_infinite():
    x = ember.tensor([1.0, 0.0], dtype=ember.float16)
    assert (x ** float("inf")).tolist() == [1.0, 0.0]
    assert ember.full_like(x[:1], 1e6).tolist() == [math.inf]      # PyTorch's one-element fill skips the check
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.full((), 1e39, dtype=ember.float32)


@pytest.mark.parametrize("value,dtype", [(-1.25, "uint8"), (300, "uint8"), (-256, "uint8"), (200, "int8"),
                                         (float("nan"), "int32"), ([[1, 300]], "uint8"), (3e9, "int32")])
def test_tensor_literal_out_of_range_raises(value, dtype):
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.tensor(value, dtype=getattr(ember, dtype))


def test_tensor_literal_in_range_wraps_negative_ints_like_torch():
    assert ember.tensor(-1, dtype=ember.uint8).item() == 255
    assert ember.tensor(-255, dtype=ember.uint8).item() == 1
    assert ember.tensor([-0.5], dtype=ember.int8).tolist() == [0]
    assert ember.tensor(1.5, dtype=ember.uint8).item() == 1


@pytest.mark.parametrize("make", [lambda x: ember.zeros_like(x), lambda x: ember.ones_like(x, dtype=ember.int64),
                                  lambda x: ember.empty_like(x), lambda x: ember.full_like(x, True)])
def test_like_constructors_preserve_the_input_layout(make):
    x = ember.tensor([[True, False, True], [False, True, True]]).t()
    assert make(x).stride() == (1, 3)
    assert make(ember.zeros(4, 6).t()[::2]).stride() == (1, 3)
    assert ember.zeros_like(x, memory_format=ember.contiguous_format).stride() == (2, 1)


def test_empty_like_passes_requires_grad_through():
    assert ember.empty_like(ember.zeros(2), requires_grad=True).requires_grad


def test_frexp_gradient_divides_by_float32_power_of_two():
    # PyTorch: grad / exponent.exp2(), exp2 of the int32 exponent in float32
    x = ember.tensor([1e-40, 3.0], requires_grad=True)
    ember.frexp(x).mantissa.backward(ember.tensor([0.06, 0.06]))
    assert np.isclose(x.grad.numpy()[0], 3.2667106e38, rtol=1e-6) and x.grad.numpy()[1] == np.float32(0.015)
    y = ember.tensor([1e-300, 3.0], dtype=ember.float64, requires_grad=True)    # 2**-996 is 0 in float32
    ember.frexp(y).mantissa.sum().backward()
    assert np.isposinf(y.grad.numpy()[0]) and y.grad.numpy()[1] == 0.25


@pytest.mark.parametrize("fn", [ember.remainder, ember.fmod, ember.floor_divide,
                                lambda a, b: ember.div(a, b, rounding_mode="trunc")])
def test_integer_division_results_follow_the_inputs_layout(fn):
    a = ember.tensor(np.ascontiguousarray(np.array([[[1, 0]], [[0, 1]]]).transpose())).permute(2, 1, 0)
    assert fn(a, ember.tensor([[[1, 2]]], dtype=ember.uint8)).stride() == (1, 2, 2)


@pytest.mark.parametrize("name", ["asinh_", "acosh_", "atanh_", "arccosh_"])
def test_inplace_inverse_hyperbolic_has_no_derivative(name):
    x = ember.tensor([1.5, 0.5], requires_grad=True)
    y = getattr(x.clone(), name)()
    with pytest.raises(NotImplementedError, match="inplace version of a"):
        y.sum().backward()
    z = ember.tensor([2.0])
    getattr(z, name)()                                   # without a graph it is a plain in-place write
    assert not np.isclose(z.item(), 2.0)


def test_pow_false_exponent_gradient_is_zero_times_reciprocal():
    # PyTorch's x ** False backward is g * False * x ** -1 (no exponent == 0 shortcut for a bool): nan at 0
    x = ember.tensor([-1.0, 0.0, 2.0, 1e-40], requires_grad=True)
    ember.pow(x, False).sum().backward()
    g = x.grad.numpy()
    assert g[0] == 0 and np.isnan(g[1]) and g[2] == 0 and np.isnan(g[3])
    y = ember.tensor([0.0], requires_grad=True)
    ember.pow(y, 0).sum().backward()
    assert y.grad.tolist() == [0.0]


@pytest.mark.parametrize("fn", [ember.erfc, ember.lgamma, ember.signbit, ember.isposinf, ember.isreal,
                                lambda x: ember.copysign(x, ember.ones(3, 4)), lambda x: ember.xlogy(x, 2.0),
                                lambda x: ember.logaddexp(x, x), lambda x: ember.nextafter(x, ember.zeros(())),
                                lambda x: ember.heaviside(x, ember.tensor(0.5))])
def test_special_elementwise_results_follow_a_permuted_input(fn):
    x = ember.tensor(np.arange(12, dtype=np.float32).reshape(4, 3)).t()
    assert fn(x).stride() == (1, 3)


@pytest.mark.parametrize("fn", [ember.gcd, ember.lcm, ember.bitwise_left_shift, ember.bitwise_right_shift])
def test_integer_special_results_follow_a_permuted_input(fn):
    x = ember.tensor(np.arange(12).reshape(4, 3)).t()
    assert fn(x, ember.ones(3, 4, dtype=ember.int64)).stride() == (1, 3)


def test_tensor_literal_checks_each_python_number_by_its_own_type():
    # PyTorch: in [2.0, -2, True] the int -2 wraps into uint8 (254); only floats must lie in range
    assert ember.tensor([2.0, -2, True], dtype=ember.uint8).tolist() == [2, 254, 1]
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.tensor([2.0, -2.5], dtype=ember.uint8)


def test_float16_lerp_addcmul_addcdiv_compute_in_float32():
    # PyTorch's float16 kernels compute in float32 and round once (a scalar weight is not rounded to float16)
    a = ember.tensor([-53.5625], dtype=ember.float16)
    b = ember.tensor([168.0], dtype=ember.float16)
    assert ember.lerp(a, b, 0.3).tolist() == [np.float16(12.91)]           # was 12.875 (rounding each step)
    x = ember.tensor([-13.2109375], dtype=ember.float16)
    c = ember.tensor([1.126953125], dtype=ember.float16)
    assert ember.addcmul(x, x, c, value=0.3).tolist() == [np.float16(-17.67)]      # was -17.69
    assert ember.addcmul(x, x, c, value=0.3).dtype == ember.float16


def test_float16_add_alpha_rounds_alpha_and_product_to_float16():
    a = ember.tensor([-53.5625], dtype=ember.float16)
    b = ember.tensor([168.0], dtype=ember.float16)
    assert ember.add(a, b, alpha=0.3).item() == -3.15625           # half(half(0.3) * 168) - 53.5625
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.add(a, b, alpha=1e5)


def test_round_decimals_float16_computes_in_float32():
    x = ember.tensor(np.array([12.34, -7.654, 0.05], dtype=np.float16))
    want = (np.rint(x.numpy().astype(np.float32) * np.float32(10)) / np.float32(10)).astype(np.float16)
    assert ember.round(x, decimals=1).numpy().tolist() == want.tolist()
    assert ember.round(ember.tensor([1234.5]), decimals=-2).tolist() == [1200.0]


def test_erf_float16_is_accurate_near_zero():
    x = ember.tensor(np.full(100, 0.02057, dtype=np.float16))
    assert np.allclose(ember.erf(x).numpy().astype(np.float64), math.erf(0.02057), rtol=2e-3)


def test_clamp_float_bound_range_check_after_integer_promotion_and_nan_short_circuit():
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.clamp(ember.tensor([1, 2]), None, 1e39)           # int tensor, float bound: float32 result
    r = ember.clamp(ember.tensor([1.0], dtype=ember.float16), float("nan"), 1e6)   # NaN bound: no check, NaN
    assert np.isnan(r.numpy()).all()


def test_inplace_logical_not_in_a_graph_keeps_the_history():
    # PyTorch has no autograd formula for logical_not_: the tensor keeps its old grad_fn (clone's, identity)
    x = ember.tensor([1.0, 0.0], requires_grad=True)
    y = x.clone()
    y.logical_not_()
    assert y.tolist() == [0.0, 1.0] and y.requires_grad
    (y * ember.tensor([2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [2.0, 3.0]


def test_addcmul_addcdiv_follow_pytorchs_evaluation_order():
    # (value * t1) * t2: no overflow of t1 * t2 when value scales it down
    a = ember.tensor([-2.0, 3e38])
    b = ember.tensor([3e38, -2.0])
    assert ember.addcmul(a, a, b, value=0.5).tolist() == pytest.approx([-3e38, 0.0])
    # (value * t1) / t2: 0.5 * -1e-45 underflows to -0.0, and -0.0 / 0 is nan
    r = ember.addcdiv(ember.tensor([-1e-45]), ember.tensor([-1e-45]), ember.tensor([0.0]), value=0.5)
    assert np.isnan(r.numpy()[0])
    # d/dt2 = -g * ((value * t1) / (t2 * t2)): nan where t2 * t2 underflows at t1 = 0
    t2 = ember.tensor([1e-40], requires_grad=True)
    ember.addcdiv(ember.tensor([0.0]), ember.tensor([0.0]), t2, value=0.5).sum().backward()
    assert np.isnan(t2.grad.numpy()[0])


def test_float16_pow_one_half_is_pow_not_sqrt():
    x = ember.tensor([float("-inf"), -0.0, 4.0], dtype=ember.float16)
    r = (x ** 0.5).numpy()
    assert r[0] == np.inf and r[1] == 0 and not np.signbit(r[1]) and r[2] == 2.0


def test_float_power_bool_exponent_is_a_float():
    x = ember.tensor([0.0, 2.0], requires_grad=True)
    ember.float_power(x, False).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_xlogy_other_gradient_is_grad_times_self_over_other():
    # PyTorch: grad * self / other, left to right: 0.916 / -1e-40 would overflow first
    y = ember.tensor([-1e-40], requires_grad=True)
    ember.xlogy(ember.tensor(0.91645974), y).backward(ember.tensor([0.0003]))
    assert np.isfinite(y.grad.numpy()[0])


def test_pow_of_minus_inf_follows_c_pow():
    # PyTorch (C pow): (-inf) ** 0.5 = inf, (-inf) ** -0.5 = 0; NumPy's power gives nan
    a = ember.tensor([float("-inf")] * 4, dtype=ember.float64)
    b = ember.tensor([0.5, -0.5, 3.0, 2.0], dtype=ember.float64)
    assert ember.pow(a, b).tolist() == [math.inf, 0.0, -math.inf, math.inf]
    assert ember.float_power(ember.tensor(float("-inf"), dtype=ember.float16),
                             ember.tensor(0.5, dtype=ember.float16)).item() == math.inf


def test_hypot_gradient_is_grad_times_x_over_result():
    b = ember.tensor([-1e-40], requires_grad=True)
    ember.hypot(ember.tensor([0.0]), b).backward(ember.tensor([0.29149956]))
    assert b.grad.numpy()[0] == np.float32(np.float32(0.29149956) * np.float32(-1e-40)) / np.float32(1e-40)


def test_sign_of_a_permuted_bool_tensor_keeps_its_layout():
    x = ember.tensor([[False, True], [False, False]]).t()
    assert ember.sign(x).stride() == (1, 2)


def test_pow_of_minus_inf_to_nan_stays_nan():
    r = ember.pow(ember.tensor([float("-inf")]), ember.tensor([float("nan")]))
    assert np.isnan(r.numpy()[0])


def test_logical_ops_read_operands_in_the_promoted_dtype():
    # PyTorch: a float64 0-d 1e-308 next to a float16 tensor is cast to float16 (0) first: False
    r = ember.logical_or(ember.tensor([0.0], dtype=ember.float16), ember.tensor(1.1125369292536007e-308,
                                                                              dtype=ember.float64))
    assert r.tolist() == [False]


def test_i0_of_an_expanded_input_is_contiguous():
    x = ember.tensor([[0.0, 0.0]]).expand(2, 2)
    assert ember.i0(x).stride() == (2, 1)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_erf_of_an_expanded_input_is_contiguous(dtype):
    x = ember.zeros(1, 2, dtype=getattr(ember, dtype)).expand(2, 2)
    assert ember.erf(x).stride() == (2, 1)


def test_xlogy_grad_at_zero_with_a_number_for_other():
    """PyTorch's xlogy.Scalar_Other backward also zeroes d/dx at x == 0 where the number is NaN (the Tensor form
    gives NaN there)."""
    import math
    torch = pytest.importorskip("torch")
    for y in (math.nan, -1.0, 0.0, 2.0, math.inf, -math.inf):
        for xv in (0.0, 1.0):
            for wrap in (lambda m, v: v, lambda m, v: m.tensor(v)):
                got = []
                for m in (ember, torch):
                    x = m.tensor(xv, requires_grad=True)
                    m.xlogy(x, wrap(m, y)).backward()
                    got.append(x.grad.item())
                assert got[0] == got[1] or (math.isnan(got[0]) and math.isnan(got[1])), (y, xv, got)


def test_round_decimals_of_an_expanded_float16_input_is_c_contiguous():
    for dt in ("float16", "float32", "float64"):
        x = ember.zeros(1, 2, dtype=getattr(ember, dt)).expand(2, 2)
        assert ember.round(x, decimals=1).stride() == (2, 1), dt


def test_sign_of_an_expanded_bool_input_is_c_contiguous():
    # PyTorch lays the copy out in the input's stride order; NumPy's copy(order="K") put the stride-0 dim innermost
    x = ember.tensor([[True, False, True]]).expand(2, 3)
    for fn in (ember.sign, ember.sgn):
        r = fn(x)
        assert r.stride() == (3, 1) and r.is_contiguous()
        assert r.tolist() == [[True, False, True]] * 2
    assert ember.sign(ember.tensor([[True], [False]]).expand(2, 2, 1).permute(1, 0, 2)).stride() == (2, 1, 1)


def test_copysign_of_bool_operands_follows_their_float_copies_layout():
    # PyTorch casts the integer operands to float first (an expanded one becomes C-ordered), then lays the result
    # out from those copies: C-contiguous here, where the stride order of the operands as given is not
    a = ember.tensor([[[False]], [[True]]]).expand(2, 2, 1)
    b = ember.tensor([[[False, True]]]).permute(2, 1, 0)
    r = ember.copysign(a, b)
    assert r.stride() == (2, 1, 1) and r.is_contiguous()
    assert r.tolist() == [[[0.0], [0.0]], [[1.0], [1.0]]]
    r = ember.copysign(ember.zeros(2, 1, 1).expand(2, 2, 1), b.double())     # float32 cast to float64
    assert r.stride() == (2, 1, 1) and r.dtype == ember.float64


def test_prod_grad_divides_the_product_first():
    # PyTorch: g * (prod / x); (g * prod) / x rounded g * 2.1e-39 in the subnormal range (1e-5 relative off)
    x = ember.tensor([1e-20, 3e-19, 0.7], requires_grad=True)
    ember.prod(x).backward(ember.tensor(0.37))
    assert x.grad.tolist() == [7.77000023809925e-20, 2.5900000389767384e-21, 1.1099993421579027e-39]
    x = ember.tensor([[1e-20, 3e-19, 0.7]], requires_grad=True)
    ember.prod(x, 1).backward(ember.tensor([0.37]))
    assert x.grad.tolist() == [[7.77000023809925e-20, 2.5900000389767384e-21, 1.1099993421579027e-39]]


def test_std_of_equal_values_is_exactly_zero_with_zero_gradient():
    # PyTorch's Welford kernel (std/var over a dim, std_mean/var_mean) gives exactly 0 for equal values, so std's
    # gradient is 0 there; a float64 mean of 3 copies of 5.84166973918841 is off by an ulp (std 8.9e-16, grad 0.23)
    for fn, kw in ((ember.std, {"dim": -1}), (lambda t, **k: ember.std_mean(t, **k)[0], {}),
                   (lambda t, **k: ember.std_mean(t, **k)[0], {"dim": 0})):
        x = ember.full((3,), 5.84166973918841, dtype=ember.float64, requires_grad=True)
        y = fn(x, correction=0, **kw)
        assert y.item() == 0.0
        y.backward(ember.tensor(0.7, dtype=ember.float64))
        assert x.grad.tolist() == [0.0, 0.0, 0.0]
    x = ember.full((2, 3), 1.7536693256235973, dtype=ember.float64)
    assert ember.var(x, dim=1).tolist() == [0.0, 0.0]
    assert ember.var(ember.tensor([1.0, float("inf"), float("inf")]), dim=0).isnan().item()    # inf - inf
    assert ember.std(ember.tensor([2.0]), dim=0).isnan().item()                               # 0 / 0


def test_copysign_grad_of_an_input_that_underflows_in_the_result_dtype_is_nan():
    # PyTorch: ratio = result / self in the result dtype (float16: self rounds to 0, 0 / 0 = nan), masked where
    # self == 0 tested on the float64 input as given (not 0 here): the gradient is nan; an exact 0 gives 0
    for v, want in ((9.441351264634572e-212, None), (0.0, 0.0), (1.5, 1.0)):
        a = ember.tensor(v, dtype=ember.float64, requires_grad=True)
        y = ember.copysign(a, ember.tensor([0.0], dtype=ember.float16))
        assert y.dtype == ember.float16
        y.backward(ember.ones(1, dtype=ember.float16))
        g = a.grad.item()
        assert (math.isnan(g) if want is None else g == want), (v, g)
    a = ember.tensor([1e-40, 0.0, -2.0], requires_grad=True)           # a 0-d float64 other: a float32 result
    ember.copysign(a, ember.tensor(-1.0, dtype=ember.float64)).backward(ember.ones(3))
    assert a.grad.tolist() == [-1.0, 0.0, 1.0]


def test_float32_cumsum_cumprod_accumulate_in_float64():
    # PyTorch's CPU scans accumulate float32 in float64 and round each running value once
    assert ember.cumprod(ember.tensor([1e20, 1e20, 1e-20]), 0).tolist() == [1.0000000200408773e+20, math.inf,
                                                                             1.0000000200408773e+20]
    assert ember.cumsum(ember.tensor([3e38, 3e38, -3e38]), 0).tolist()[1:] == [math.inf, 3.0000000054977558e+38]
    # 4e-8 is below half an ulp of 1.0: a float32 running sum stays 1.0, the float64 one reaches 1 + 1.6e-7
    assert ember.cumsum(ember.tensor([1.0, 4e-8, 4e-8, 4e-8, 4e-8]), 0).tolist()[-1] == 1.0000001192092896
    # prod's gradient with a zero uses these scans: the product of the others, 1e20 * 1e20 * 1e-4, is inf; the
    # zero's neighbour gets 1e20 * 1e20 * 0 = 0 (a float32 running product would make it inf * 0 = nan)
    x = ember.tensor([1e20, 1e20, 0.0, 1e-4], requires_grad=True)
    ember.prod(x).backward()
    assert x.grad.tolist() == [0.0, 0.0, math.inf, 0.0]


def test_logical_ops_layout_follows_the_promoted_copy_of_an_expanded_operand():
    # PyTorch converts the bool operand to uint8 with .to() (preserve_format: the expanded, non-dense tensor
    # becomes a contiguous (1, 2, 1) copy), and the result's layout follows that copy and the permuted uint8
    a = ember.zeros(1, 1, 1, dtype=ember.bool).expand(1, 2, 1)
    b = ember.zeros(2, 1, 1, dtype=ember.uint8).permute(2, 1, 0)
    for op in (ember.logical_or, ember.logical_and, ember.logical_xor):
        out = op(a, b)
        assert out.shape == (1, 2, 2) and out.stride() == (4, 2, 1) and out.is_contiguous()
    assert ember.logical_or(a, b.bool()).stride() == (1, 1, 2)            # same dtype: no copy, as PyTorch
    assert ember.logical_or(ember.tensor([1.0, 0.0], dtype=ember.float16),
                            ember.tensor([1e-308, 0.0], dtype=ember.float64)).tolist() == [True, False]


def test_atan2_grad_squares_a_promoted_float16_operand_in_float16():
    # PyTorch saves the uncast operands: a float16 1e-4 squares to 0 in float16 (below its smallest subnormal),
    # so at self = 0 the denominator is 0 and the gradient 0; at self = 1e-4 it is other / self**2 = 10001.66
    for x0, want in ((0.0, 0.0), (1e-4, 10001.66015625)):
        x = ember.tensor([x0], requires_grad=True)
        y = ember.atan2(x, ember.tensor([[1e-4], [0.0]], dtype=ember.float16))
        assert y.dtype == ember.float32
        y.backward(ember.tensor([[1.0], [0.0]]))
        assert x.grad.dtype == ember.float32 and x.grad.tolist() == [want], (x0, x.grad)
    y = ember.tensor(0.0, requires_grad=True)            # a float16 subnormal 6e-8 squares to 0: gradient -0.0
    ember.atan2(ember.tensor(6e-8, dtype=ember.float16), y).backward()
    assert y.grad.item() == 0.0 and math.copysign(1, y.grad.item()) == -1
    x = ember.tensor([0.5], requires_grad=True)                          # a float64 0-d other: float32 grad
    ember.atan2(x, ember.tensor(1.0, dtype=ember.float64)).backward(ember.ones(1))
    assert x.grad.dtype == ember.float32 and x.grad.tolist() == [0.800000011920929]


def test_float16_div_mul_by_a_one_element_tensor_backward_in_float16():
    # PyTorch: the result is float16 (a 0-d float32 does not promote); the divisor's gradient
    # -g * ((a / b) / b) is computed in float16, where 6e4 / 0.5 = 1.2e5 overflows to inf, so terms of both
    # signs sum to nan; the forward reads b in float32 (half(1e-4) * 100000 is 10, not inf)
    a = ember.tensor(np.full((3, 1, 1, 1), 6e4, np.float16))
    b = ember.tensor(0.5, requires_grad=True)
    y = a / b
    assert y.dtype == ember.float16 and y.grad_fn.name() == "DivBackward0"
    y.backward(ember.tensor(np.array([1.0, -1.0, 0.5], np.float16).reshape(3, 1, 1, 1)))
    assert b.grad.dtype == ember.float32 and math.isnan(b.grad.item())
    a = ember.tensor([300.0, 2.0], dtype=ember.float16, requires_grad=True)
    b = ember.tensor(1e-4, requires_grad=True)                   # d(a * b)/db = g * a in float16: 300 * 300
    y = a * b
    assert y.grad_fn.name() == "MulBackward0" and y.tolist() == [0.029998779296875, 0.00020003318786621094]
    y.backward(ember.tensor([300.0, 1.0], dtype=ember.float16))
    assert b.grad.item() == math.inf and a.grad.dtype == ember.float16
    assert a.grad.tolist() == [0.029998779296875, 0.00010001659393310547]
