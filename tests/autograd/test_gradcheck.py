"""gradcheck itself (it must catch a wrong backward and report the worst element) and gradgradcheck over the op
library: every op's backward must itself be correctly differentiable (create_graph=True)."""
import numpy as np
import pytest

import ember
from ember.autograd import GradcheckError


def test_gradcheck_passes_and_catches_wrong_backward():
    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: (t.sin() * t).sum(), [x])

    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * t

        @staticmethod
        def backward(ctx, g):
            return g * 3.0

    with pytest.raises(GradcheckError, match=r"input 0.*worst element.*analytical.*numerical"):
        ember.autograd.gradcheck(lambda t: Wrong.apply(t), [x])
    assert ember.autograd.gradcheck(lambda t: Wrong.apply(t), [x], raise_exception=False) is False


def test_gradcheck_multiple_inputs_and_outputs():
    a = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    b = ember.randn(3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, y: (x * y, (x @ y).exp()), [a, b])
    c = ember.randn(3, dtype=ember.float64)       # not requiring grad: skipped
    assert ember.autograd.gradcheck(lambda x, y: x * y, [a, c])


def test_gradcheck_noncontiguous_input_restores_data():
    base = ember.randn(3, 4, dtype=ember.float64)
    x = base.t().detach().requires_grad_()
    before = x.detach().numpy().copy()
    assert ember.autograd.gradcheck(lambda t: (t ** 2).sum(0), [x])
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert np.shares_memory(x.detach().numpy(), base.numpy())     # still the same view
    e = ember.zeros(0, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: t.sum(0), [e])


def test_gradcheck_warns_float32():
    x = ember.randn(2, requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        ember.autograd.gradcheck(lambda t: t * 2, [x], raise_exception=False)


GRADGRAD = {
    "mul_div": lambda a, b: a * b / (b * b + 1),
    "pow": lambda a, b: (a.abs() + 0.5) ** b,
    "exp_log": lambda a, b: a.exp() + (b * b + 1).log(),
    "sqrt_rsqrt": lambda a, b: (a * a + 1).sqrt() * (b * b + 1).rsqrt(),
    "trig": lambda a, b: a.sin() * b.cos() + a.tanh() * b.sigmoid(),
    "erf_atan2": lambda a, b: ember.erf(a) + ember.atan2(a, b + 3.0),
    "max_min": lambda a, b: ember.maximum(a, b) * ember.minimum(a, b),
    "where_clamp": lambda a, b: ember.where(a > 0, a * b, b) + a.clamp(-0.5, 0.5) * b,
    "reductions": lambda a, b: a.sum(0) * b.mean(0) + a.var(1).sum() + a.std() * b.norm(),
    "prod_lse": lambda a, b: a.prod(1) + ember.logsumexp(b, 1) * a.amax(1),
    "softmax": lambda a, b: a.softmax(1) * b.log_softmax(0),
    "cumsum_cumprod": lambda a, b: a.cumsum(1) * b.cumprod(0),
    "max_dim": lambda a, b: a.max(1).values * b.min(0).values.sum(),
    "matmul": lambda a, b: a @ b.t(),
    "einsum": lambda a, b: ember.einsum("ij,kj->ik", a, b),
    "shape": lambda a, b: (a.t().reshape(6) * b.flatten()).reshape(3, 2).repeat(2, 1).flip(0),
    "cat_stack": lambda a, b: ember.cat([a, b], 1) * ember.stack([a, b]).sum(0).repeat(1, 2),
    "index": lambda a, b: a[:, [0, 0, 2]] * b[1] + a[a > 0].sum(),
    "gather_scatter": lambda a, b: a.gather(1, ember.tensor([[0, 0], [2, 1]])) * b.scatter_add(
        1, ember.tensor([[0, 0, 1], [2, 1, 1]]), a)[:, :2],
    "pad_roll": lambda a, b: ember.ops.pad(a, (1, 1), mode="reflect") * ember.ops.pad(b.roll(1, 1), (2, 0), value=1.0),
    "index_select": lambda a, b: a.index_select(1, ember.tensor([2, 2, 0])) * b.masked_fill(b > 0, 0.5).sum(),
    "unbind_split": lambda a, b: a.unbind(1)[0] * b.split(1, 1)[2].squeeze(1),
}


@pytest.mark.parametrize("name", sorted(GRADGRAD))
def test_gradgradcheck_ops(name):
    rng = np.random.default_rng(0)
    a = ember.tensor(rng.uniform(-1.5, 1.5, (2, 3)), requires_grad=True)
    b = ember.tensor(rng.uniform(0.3, 1.5, (2, 3)) * rng.choice([-1, 1], (2, 3)), requires_grad=True)
    f = GRADGRAD[name]
    assert ember.autograd.gradcheck(f, [a, b])
    assert ember.autograd.gradgradcheck(f, [a, b])


def test_gradgradcheck_catches_non_differentiable_backward():
    class DetachedSq(ember.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * 2 * t.detach()      # first derivative right, second wrong

    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(DetachedSq.apply, [x])
    with pytest.raises(GradcheckError):
        ember.autograd.gradgradcheck(DetachedSq.apply, [x])
