"""Elementwise, special and activation ops on "cuda" that the fuzz specs do not reach (issue 18): each op runs
on the CPU and on the device, and the results (values, dtype, shape, device) and gradients must agree (bit
for bit on the NumPy-backed stand-in, within the dtype's tolerance on a real GPU)."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.ops import activation as A

from .device_oracle import _values_differ

_RNG = np.random.default_rng(18)
X = _RNG.standard_normal((3, 5)).astype(np.float32)
BIG = _RNG.standard_normal((9, 11)).astype(np.float32)        # > 64 elements: erf's array-at-once fit
POS = (np.abs(X) + 0.25).astype(np.float32)
X64 = X.astype(np.float64)
INTS = np.array([[7, -3, 0, 12], [5, 1, -8, 3]], np.int64)
SHIFTS = np.array([[1, 0, 3, 70], [2, -1, 5, 1]], np.int64)


def _leaves(arrays, device, grad):
    return [ember.tensor(a.copy(), device=device, requires_grad=grad and a.dtype.kind == "f")
            if isinstance(a, np.ndarray) else a for a in arrays]


def _outs(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def _same(fn, *arrays, grad=False, exact=True):
    """Run ``fn`` on CPU and "cuda" tensors made from ``arrays`` and check the outputs (and, with ``grad``, the
    gradients of the float inputs after backward of the sum of the float outputs) agree."""
    lc, ld = _leaves(arrays, "cpu", grad), _leaves(arrays, "cuda", grad)
    rc, rd = _outs(fn(*lc)), _outs(fn(*ld))
    assert len(rc) == len(rd)
    for c, d in zip(rc, rd):
        if not isinstance(c, ember.Tensor):
            assert c == d or (c != c and d != d), (c, d)
            continue
        assert d.device.type == "cuda", f"result on {d.device}"
        assert (tuple(d.shape), d.dtype) == (tuple(c.shape), c.dtype)
        diff = _values_differ(d.detach().cpu().numpy(), c.detach().cpu().numpy(), exact)
        assert diff is None, diff
    if not grad:
        return
    for leaves, outs in ((lc, rc), (ld, rd)):
        loss = sum(o.sum() for o in outs if isinstance(o, ember.Tensor) and o.requires_grad)
        loss.backward()
    for c, d in zip(lc, ld):
        if isinstance(c, ember.Tensor) and c.requires_grad:
            assert (c.grad is None) == (d.grad is None)
            if c.grad is None:
                continue
            assert d.grad.device.type == "cuda"
            diff = _values_differ(d.grad.cpu().numpy(), c.grad.cpu().numpy(), exact)
            assert diff is None, f"grad: {diff}"


UNARY_GRAD = {
    "erf_big": lambda x: ember.erf(x), "gelu_big": lambda x: F.gelu(x), "sigmoid_f64": lambda x: ember.sigmoid(x),
    "digamma": ember.digamma, "polygamma1": lambda x: ember.polygamma(1, x),
    "polygamma2": lambda x: ember.polygamma(2, x), "mvlgamma": lambda x: ember.mvlgamma(x + 3, 2),
    "i0": ember.i0, "logit_eps": lambda x: ember.logit(ember.sigmoid(x), eps=0.2), "frac": ember.frac,
    "rsub": lambda x: ember.rsub(x, 2.0, alpha=3), "frexp": lambda x: ember.frexp(x),
    "pow_neg_half": lambda x: ember.pow(x.abs() + 1, -0.5), "scalar_pow": lambda x: 2.5 ** x,
    "rtruediv": lambda x: 1.0 / x, "erfinv": lambda x: ember.erfinv(x.tanh()), "lgamma": ember.lgamma,
    "erfc": ember.erfc, "swish": lambda x: A.swish(x, beta=1.5), "step": lambda x: A.step(x, threshold=0.1),
    "heaviside_act": lambda x: A.heaviside(x, value=0.5), "selu": F.selu, "softplus": lambda x: F.softplus(x, 2.0, 1.0),
    "hardsigmoid": F.hardsigmoid, "clamp_min_only": lambda x: ember.clamp(x, min=ember.zeros(5, device=x.device)),
    "nan_to_num": lambda x: ember.nan_to_num(ember.log(x), nan=1.0, posinf=2.0, neginf=-2.0),
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "round_neg_decimals": lambda x: ember.round(x * 100, decimals=-1),
}


@pytest.mark.parametrize("name", sorted(UNARY_GRAD))
def test_unary_with_grad(name, cuda, exact):
    arr = {"erf_big": BIG, "gelu_big": BIG, "sigmoid_f64": X64, "digamma": POS, "polygamma1": X,
           "polygamma2": POS, "lgamma": POS}.get(name, X)
    _same(UNARY_GRAD[name], arr, grad=True, exact=exact)


BINARY = {
    "logaddexp2": ember.logaddexp2, "ldexp": lambda a, b: ember.ldexp(a, b.round()),
    "nextafter": ember.nextafter, "atan2": ember.atan2, "hypot": ember.hypot,
    "copysign_scalar": lambda a, b: ember.copysign(a, -1.0), "xlogy_scalar": lambda a, b: ember.xlogy(a, 2.0),
    "maximum_scalar_tensor": lambda a, b: ember.maximum(a, ember.tensor(0.5, device=a.device)),
    "where_scalars": lambda a, b: ember.where(a > b, 1.0, 0.0), "where_tensor_number": lambda a, b: ember.where(a > 0, a, 2.0),
    "lerp_tensor_weight": lambda a, b: ember.lerp(a, b, ember.sigmoid(b)),
    "lerp_half": lambda a, b: ember.lerp(a.half(), b.half(), 0.7),
    "addcmul_half": lambda a, b: ember.addcmul(a.half(), a.half(), b.half(), value=0.5),
    "mul_half_scalar": lambda a, b: a.half() * 1e5, "add_alpha_half": lambda a, b: ember.add(a.half(), b.half(), alpha=2),
    "div_floor": lambda a, b: ember.div(a, b, rounding_mode="floor"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name, cuda, exact):
    _same(BINARY[name], X, POS, grad=name not in ("where_scalars", "ldexp", "nextafter"), exact=exact)


INT_OPS = {
    "floor_divide": lambda a, b: ember.floor_divide(a, b.abs() + 1), "remainder": lambda a, b: a % (b.abs() + 1),
    "fmod": lambda a, b: ember.fmod(a, b.abs() + 1), "div_trunc": lambda a, b: ember.div(a, b.abs() + 1, rounding_mode="trunc"),
    "int_pow": lambda a, b: ember.pow(a, b.abs() % 3), "int_pow_neg": lambda a, b: ember.pow(a, ember.tensor([[-1, -2, 1, 0]], device=a.device)),
    "scalar_int_pow": lambda a, b: 2 ** (b.abs() % 5), "gcd": ember.gcd, "lcm": ember.lcm,
    "lshift": lambda a, b: a << b, "rshift": lambda a, b: a >> b, "lshift_scalar": lambda a, b: a << 2,
    "rshift_uint8": lambda a, b: ember.bitwise_right_shift(a.to(ember.uint8), b.to(ember.uint8)),
    "invert": lambda a, b: ~a, "and_scalar": lambda a, b: a & 6, "xor": lambda a, b: a ^ b,
    "signbit": lambda a, b: ember.signbit(a), "isposinf_int": lambda a, b: ember.isposinf(a),
    "isreal": lambda a, b: ember.isreal(a), "clamp_int": lambda a, b: ember.clamp(a, -2, 5),
    "threshold_int": lambda a, b: F.threshold(a, 1, -7), "hardtanh_int": lambda a, b: F.hardtanh(a, -2, 3),
    "softsign_int": lambda a, b: F.softsign(a), "abs": lambda a, b: ember.abs(a), "sign": lambda a, b: ember.sign(a),
    "bool_pow_false": lambda a, b: ember.pow(a > 0, False), "bool_sign": lambda a, b: ember.sign(a > 0),
    "heaviside": lambda a, b: ember.heaviside(a, b),
    # a number first: made on the tensor's device
    "gcd_number_first": lambda a, b: ember.gcd(6, b), "lshift_number_first": lambda a, b: ember.bitwise_left_shift(3, b.abs() % 8),
    "heaviside_number_first": lambda a, b: ember.heaviside(2, b),
}


@pytest.mark.parametrize("name", sorted(INT_OPS))
def test_integer_ops(name, cuda, exact):
    _same(INT_OPS[name], INTS, SHIFTS, exact=exact)


def test_predicates_and_reductions_to_python(cuda):
    a = ember.tensor(X, device="cuda")
    b = ember.tensor(X + 1e-9, device="cuda")
    assert ember.allclose(a, b) is True
    assert ember.equal(a, a.clone()) is True and ember.equal(a, b * 2) is False
    assert ember.isclose(a, b).device.type == "cuda"
    assert 0.0 not in a and float(X[0, 0]) in a


def test_integer_division_by_zero_raises_on_device(cuda):
    a = ember.tensor(INTS, device="cuda")
    with pytest.raises(ZeroDivisionError, match="floor_divide"):
        ember.floor_divide(a, ember.zeros_like(a))
    with pytest.raises(ZeroDivisionError, match="remainder"):
        a % 0


def test_fill_and_copy_on_device(cuda, exact):
    def fn(x):
        y = x * 1.0
        y.fill_(2.5)
        z = x * 1.0
        z.copy_(x.exp())
        return y + z
    _same(fn, X, grad=True, exact=exact)


def test_heaviside_requires_grad_on_device(cuda):
    x = ember.tensor(X, device="cuda", requires_grad=True)
    out = ember.heaviside(x, ember.tensor(0.5, device="cuda"))
    assert out.requires_grad and out.device.type == "cuda"


# -- every unary, activation and binary op over dtypes, layouts and operand kinds, with gradients ---------------
_BASE = _RNG.standard_normal((4, 17)) * 3
_SWEEP = {"f32": _BASE.astype(np.float32), "f16": _BASE.astype(np.float16), "f64": _BASE,
          "i64": _BASE.astype(np.int64), "u8": np.abs(_BASE).astype(np.uint8), "bool": _BASE > 0,
          "f32_transposed": _BASE.astype(np.float32).T}
_UNARY = ("abs neg exp exp2 expm1 log log2 log10 log1p sqrt rsqrt sin cos tan asin acos atan sinh cosh tanh sigmoid relu "
          "erf floor ceil trunc round frac sign sgn square reciprocal isnan isinf isfinite logical_not bitwise_not "
          "nan_to_num fix positive signbit erfc erfinv deg2rad rad2deg lgamma digamma sinc logit asinh acosh atanh i0 "
          "angle isneginf isposinf isreal frexp").split()
_ACTS = ("relu relu6 elu selu celu leaky_relu gelu silu mish softplus softsign tanhshrink softshrink hardshrink hardtanh "
         "hardswish hardsigmoid logsigmoid sigmoid tanh").split()
_BINARY = ("add sub mul div floor_divide remainder fmod pow float_power atan2 hypot maximum minimum fmax fmin eq ne lt le "
           "gt ge logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor copysign xlogy logaddexp "
           "logaddexp2 nextafter heaviside ldexp isclose bitwise_left_shift bitwise_right_shift gcd lcm").split()


def _either(fn, *xs):
    """CPU and cuda runs of ``fn`` (outputs then input gradients after backward with ones), or the exception
    each raised."""
    def go(dev):
        try:
            with np.errstate(all="ignore"):
                ts = [ember.tensor(x, device=dev, requires_grad=x.dtype.kind == "f") if isinstance(x, np.ndarray)
                      else x for x in xs]
                r = _outs(fn(*ts))
                outs = [o for o in r if isinstance(o, ember.Tensor) and o.requires_grad]
                if outs:
                    ember.autograd.backward(outs, [ember.ones_like(o) for o in outs])
                return r + [t.grad for t in ts if isinstance(t, ember.Tensor) and t.grad is not None], None
        except Exception as e:  # noqa: BLE001 - compared between the devices
            return None, e
    return go("cpu"), go("cuda")


def _agree(fn, *xs, exact=True):
    (c, ce), (d, de) = _either(fn, *xs)
    if ce is not None or de is not None:
        assert type(ce) is type(de), f"cpu raised {ce!r}, cuda raised {de!r}"
        return
    assert len(c) == len(d)
    for a, b in zip(c, d):
        if not isinstance(a, ember.Tensor):
            continue
        assert b.device.type == "cuda"
        assert (a.dtype, tuple(a.shape)) == (b.dtype, tuple(b.shape))
        if a.numel() > 1:
            assert a.stride() == b.stride()
        diff = _values_differ(b.detach().cpu().numpy(), a.detach().numpy(), exact)
        assert diff is None, diff


@pytest.mark.parametrize("name", _UNARY + [f"F.{n}" for n in _ACTS])
def test_sweep_unary(name, cuda, exact):
    fn = getattr(F, name[2:]) if name.startswith("F.") else getattr(ember, name)
    for arr in _SWEEP.values():
        _agree(fn, arr, exact=exact)


@pytest.mark.parametrize("name", _BINARY)
def test_sweep_binary(name, cuda, exact):
    fn = getattr(ember, name)
    for arr in _SWEEP.values():
        for other in (arr[::-1].copy(), 2, 1.5, arr[:1], np.asarray(2.0, arr.dtype)):
            _agree(fn, arr, other, exact=exact)
            if name != "ldexp":
                _agree(fn, other, arr, exact=exact)


def test_zero_dim_device_tensor_promotes_as_a_scalar(cuda, exact):
    """A 0-d float32 cuda tensor next to a float16 one keeps float16 (PyTorch's 0-d priority), as on the CPU."""
    _same(lambda a, b: (a.half() - b.sum(), ember.maximum(b.sum(), a.half()), a.half() * b[0, 0]), X, POS, grad=True,
          exact=exact)
