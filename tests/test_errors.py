"""Bad input: every error a user can cause is an ember exception (ValueError/TypeError/IndexError/RuntimeError)
whose message names the op and the shapes/dtypes involved -- never a bare NumPy traceback."""
import traceback

import pytest

import ember

X = lambda: ember.randn(3, 4)  # noqa: E731

CASES = [
    # (id, fn, exception, regex)
    ("add_broadcast", lambda: X() + ember.randn(5), RuntimeError, r"add.*\(3, 4\).*\(5,\).*broadcast"),
    ("mul_broadcast", lambda: ember.randn(2, 3) * ember.randn(3, 2), RuntimeError, r"mul.*\(2, 3\).*\(3, 2\)"),
    ("where_broadcast", lambda: ember.where(ember.ones(5, dtype=ember.bool), X(), X()), RuntimeError, r"where.*\(5,\)"),
    ("where_float_cond", lambda: ember.where(X(), X(), X()), RuntimeError, r"where.*bool.*float32"),
    ("inplace_broadcast", lambda: X().add_(ember.randn(2, 3, 4)), RuntimeError, r"add_.*\(2, 3, 4\).*\(3, 4\)"),
    ("matmul", lambda: X() @ X(), RuntimeError, r"matmul.*\(3, 4\).*\(3, 4\)"),
    ("matmul_batch", lambda: ember.randn(2, 3, 4) @ ember.randn(3, 4, 5), RuntimeError, r"matmul.*\(2, 3, 4\).*\(3, 4, 5\)"),
    ("bmm", lambda: ember.bmm(ember.randn(2, 3, 4), ember.randn(2, 5, 4)), RuntimeError, r"\(2, 3, 4\).*\(2, 5, 4\)"),
    ("sum_dim", lambda: X().sum(2), IndexError, r"sum.*range.*\[-2, 1\].*2"),
    ("mean_dim", lambda: X().mean(-3), IndexError, r"mean.*range.*-3"),
    ("max_dim", lambda: X().max(5), IndexError, r"max.*range.*5"),
    ("softmax_dim", lambda: X().softmax(3), IndexError, r"softmax.*range"),
    ("cumsum_dim", lambda: X().cumsum(5), IndexError, r"cumsum.*range"),
    ("index_int", lambda: X()[3], IndexError, r"3.*\(3, 4\)"),
    ("index_int2", lambda: X()[0, -5], IndexError, r"-5.*\(3, 4\)"),
    ("index_list", lambda: X()[[0, 5]], IndexError, r"\(3, 4\).*5"),
    ("index_tensor", lambda: X()[ember.tensor([5])], IndexError, r"\(3, 4\).*5"),
    ("index_mask", lambda: X()[ember.tensor([True, False])], IndexError, r"\(3, 4\).*boolean"),
    ("index_float", lambda: X()[1.5], IndexError, r"float"),
    ("index_float_tensor", lambda: X()[ember.tensor([0.0])], IndexError, r"float32"),
    ("setitem_oob", lambda: X().__setitem__(7, 1.0), IndexError, r"7.*\(3, 4\)"),
    ("setitem_shape", lambda: X().__setitem__(slice(None), ember.ones(2)), RuntimeError, r"setitem.*\(2,\).*\(3, 4\)"),
    ("setitem_str", lambda: X().__setitem__(0, "a"), (RuntimeError, TypeError), r"setitem"),
    ("reshape", lambda: X().reshape(5, 3), RuntimeError, r"reshape.*\[5, 3\].*12"),
    ("view", lambda: X().t().view(12), RuntimeError, r"view.*stride"),
    ("cat", lambda: ember.cat([X(), ember.randn(3, 5)]), RuntimeError, r"cat.*\(\*, 4\).*\(3, 5\)"),
    ("stack", lambda: ember.stack([X(), ember.randn(3)]), RuntimeError, r"stack.*\(3, 4\).*\(3,\)"),
    ("expand", lambda: X().expand(3, 5), RuntimeError, r"expand.*5.*4"),
    ("int_requires_grad", lambda: ember.tensor([1, 2]).requires_grad_(), RuntimeError, r"floating.*int64"),
    ("int_requires_grad_ctor", lambda: ember.zeros(2, dtype=ember.int64, requires_grad=True), RuntimeError, r"int64"),
    ("backward_nonscalar", lambda: (ember.randn(3, requires_grad=True) * 2).backward(), RuntimeError, r"scalar.*\(3,\)"),
    ("backward_no_grad", lambda: X().sum().backward(), RuntimeError, r"does not require grad"),
    ("tensor_ragged", lambda: ember.tensor([[1], [2, 3]]), ValueError, r"tensor.*ragged"),
    ("tensor_str", lambda: ember.tensor(["a"]), TypeError, r"tensor"),
    ("add_str", lambda: X() + "a", TypeError, r"add.*str"),
    ("add_none", lambda: X() + None, TypeError, r"add.*None"),
    ("gather_oob", lambda: X().gather(0, ember.tensor([[7, 0, 0, 0]])), RuntimeError, r"gather.*7.*size 3"),
    ("scatter_src", lambda: X().scatter(0, ember.tensor([[0, 1, 2, 0]]), ember.randn(1, 2)), RuntimeError,
     r"scatter.*\(1, 4\).*\(1, 2\)"),
    ("index_select_float", lambda: X().index_select(0, ember.tensor([0.0])), IndexError, r"index_select.*float32"),
    ("index_select_oob", lambda: X().index_select(1, ember.tensor([4])), IndexError, r"index_select.*size 4"),
    ("index_add_oob", lambda: X().index_add(0, ember.tensor([3]), ember.ones(1, 4)), RuntimeError, r"index_add.*3"),
    ("masked_fill", lambda: X().masked_fill(ember.ones(4, 3, dtype=ember.bool), 0.0), RuntimeError,
     r"masked_fill.*\(4, 3\).*\(3, 4\)"),
    ("masked_fill_bad_mask", lambda: ember.zeros(3).masked_fill(ember.ones(2, 4, dtype=ember.bool), 1.0),
     RuntimeError, r"masked_fill.*\(2, 4\).*\(3,\)"),
    ("narrow", lambda: X().narrow(0, 2, 2), IndexError, r"narrow.*size \(3\)"),
    ("permute", lambda: X().permute(0, 0), RuntimeError, r"permute"),
    ("einsum_out", lambda: ember.einsum("ij,jk->ikz", X(), X().t()), RuntimeError, r"einsum.*z"),
    ("einsum_dims", lambda: ember.einsum("ijk->i", X()), RuntimeError, r"einsum.*ijk.*\(3, 4\)"),
    ("pow_int_neg", lambda: ember.tensor([2]) ** -1, RuntimeError, r"pow.*negative"),
    ("bitwise_float", lambda: X() & X(), TypeError, r"bitwise_and.*float32"),
    ("bool_sub", lambda: ember.tensor([True]) - ember.tensor([False]), TypeError, r"sub.*bool"),
    ("neg_bool", lambda: -ember.tensor([True]), TypeError, r"neg.*bool"),
    ("item", lambda: X().item(), RuntimeError, r"12 elements"),
    ("bool_ambiguous", lambda: bool(X()), RuntimeError, r"ambiguous.*\(3, 4\)"),
    ("norm_p", lambda: X().norm(p="bad"), ValueError, r"norm.*bad"),
    ("zeros_size", lambda: ember.zeros("a"), TypeError, r"size"),
    ("zeros_negative", lambda: ember.zeros(-1), RuntimeError, r"negative"),
    ("full_value", lambda: ember.full((2,), "x"), TypeError, r"full.*str"),
    ("randint", lambda: ember.randint(5, 2, (2,)), RuntimeError, r"randint.*5.*2"),
    ("multinomial", lambda: ember.multinomial(ember.zeros(3), 1), RuntimeError, r"multinomial"),
    ("tril_1d", lambda: ember.tril(ember.randn(3)), RuntimeError, r"tril.*\(3,\)"),
    ("trace_1d", lambda: ember.trace(ember.randn(3)), RuntimeError, r"trace.*\(3,\)"),
    ("diag_3d", lambda: ember.diag(ember.randn(2, 2, 2)), RuntimeError, r"diag.*\(2, 2, 2\)"),
    ("to_device", lambda: X().to("cuda"), RuntimeError, r"cuda.*cpu"),
    ("clamp_none", lambda: X().clamp(), RuntimeError, r"clamp"),
    ("div_mode", lambda: ember.div(X(), X(), rounding_mode="bad"), ValueError, r"rounding_mode"),
    ("unflatten", lambda: X().unflatten(1, (3, 3)), RuntimeError, r"unflatten.*\(3, 3\).*4"),
    ("pad_dims", lambda: ember.ops.pad(X(), (1, 1, 1, 1, 1, 1)), RuntimeError, r"pad.*\(3, 4\)"),
    ("one_hot", lambda: ember.ops.one_hot(ember.tensor([3]), 2), RuntimeError, r"one_hot"),
    ("grad_freed", lambda: _twice(), RuntimeError, r"second time.*retain_graph"),
    ("leaf_inplace", lambda: ember.ones(2, requires_grad=True).mul_(2), RuntimeError, r"leaf.*mul_"),
    ("mean_int", lambda: ember.tensor([1, 2]).mean(), RuntimeError, r"mean.*int64"),
    ("numpy_requires_grad", lambda: ember.ones(2, requires_grad=True).numpy(), RuntimeError, r"detach"),
]


def _twice():
    x = ember.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


@pytest.mark.parametrize("name,fn,exc,match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_ember_error(name, fn, exc, match):
    with pytest.raises(exc, match=match) as info:
        fn()
    # raised (or re-raised) by ember, not leaking from inside NumPy
    frames = traceback.extract_tb(info.value.__traceback__)
    assert "numpy" not in frames[-1].filename, f"{name}: error raised from {frames[-1].filename}"


def test_no_silent_wrong_results():
    # integer overflow of shapes, wrong dims etc. must raise rather than broadcast silently
    with pytest.raises(RuntimeError):
        ember.randn(3) + ember.randn(4)
    with pytest.raises(RuntimeError):
        ember.randn(2, 3).add_(ember.randn(3, 3))
    with pytest.raises(RuntimeError):
        ember.randn(2, 3).copy_(ember.randn(3, 3))
    x = ember.zeros(2, 3)
    with pytest.raises(RuntimeError):
        x.copy_(ember.ones(2))


@pytest.mark.parametrize("fn,exc,match", [
    (lambda: ember.allclose(ember.ones(3), ember.ones(2)), RuntimeError, r"allclose.*\(3,\).*\(2,\)"),
    (lambda: ember.isclose(ember.ones(3), ember.ones(2)), RuntimeError, r"isclose"),
    (lambda: ember.masked_select(ember.ones(3), ember.ones(2, dtype=ember.bool)), RuntimeError, r"masked_select"),
    (lambda: ember.broadcast_tensors(ember.ones(3), ember.ones(2)), RuntimeError, r"broadcast_tensors.*\(3,\)"),
    (lambda: ember.dot(ember.ones(3), None), TypeError, r"Tensor.*NoneType"),
    (lambda: ember.tensor([True]) ** -1, RuntimeError, r"pow.*negative"),
    (lambda: ember.ones(2).repeat(-1), RuntimeError, r"repeat.*negative"),
    (lambda: ember.einsum(ember.ones(2)), TypeError, r"einsum.*equation"),
    (lambda: ember.clamp(ember.ones(2), "a"), TypeError, r"clamp.*str"),
])
def test_more_bad_inputs(fn, exc, match):
    with pytest.raises(exc, match=match) as info:
        fn()
    assert "numpy" not in traceback.extract_tb(info.value.__traceback__)[-1].filename


def test_softmax_of_empty():
    for f in (ember.softmax, ember.log_softmax):
        assert f(ember.zeros(0), 0).shape == (0,) and f(ember.zeros(2, 0), 1).shape == (2, 0)


def test_ieee_results_are_silent_like_pytorch_but_user_numpy_still_warns():
    """log(0) = -inf, 0/0 = nan, exp(1000) = inf: PyTorch computes them silently, so ember does too; the
    user's own NumPy code keeps NumPy's warnings."""
    import warnings
    import numpy as np
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember._quiet_ieee_warnings()                # what `import ember` installed, back in front of "error"
        y = ember.log(x) + x / 0.0 + ember.exp(x * 1000.0) + ember.sqrt(x - 1.0)
        y.sum().backward()
        with pytest.raises(RuntimeWarning, match="divide by zero"):
            np.log(np.zeros(1))
        assert np.isneginf(ember.log(x).detach().numpy()[0])
    assert np.isnan(y.detach().numpy()[0]) and np.isposinf(y.detach().numpy()[1])


def test_overflowing_reductions_are_silent_like_pytorch():
    """sum, mean and prod that overflow to inf (NumPy's ndarray methods warned from NumPy's own module, past
    ember's filter); the user's own ndarray.sum still warns."""
    import warnings
    import numpy as np
    big = np.full((4, 300), 3e38, np.float32)
    x = ember.tensor(big, requires_grad=True)
    half = ember.full((4, 300), 6e4, dtype=ember.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember._quiet_ieee_warnings()
        outs = [x.sum(), x.mean(), x.prod(), x.sum(1), x.mean(0), x.prod(1), x.sum(0, keepdim=True),
                half.sum(), ember.tensor(big[:, :2]).mean(1)]
        (x.sum() + x.mean()).backward()
        with pytest.raises(RuntimeWarning, match="overflow"):
            big.sum()
    assert all(np.isposinf(o.detach().numpy()).all() for o in outs)
