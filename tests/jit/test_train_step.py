"""Compiled training steps (ember.jit.compile_training_step): the same losses, gradients and parameters after N
steps as the eager loop, retrace on new shapes, eager fallback with one warning."""
import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F


def _mlp():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))


def _lenet():
    ember.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 4, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 10), nn.ReLU(), nn.Linear(10, 4))


def _data(shape, n=3, k=4, seed=0):
    r = np.random.default_rng(seed)
    xs = [ember.tensor(r.standard_normal(shape).astype(np.float32)) for _ in range(n)]
    ys = [ember.tensor(r.integers(0, k, shape[0])) for _ in range(n)]
    return xs, ys


def _compare(make_model, make_opt, shape, steps=5, loss_fn=F.cross_entropy, data=None):
    a, b = make_model(), make_model()
    oa, ob = make_opt(a), make_opt(b)
    step = ember.jit.compile_training_step(b, loss_fn, ob)
    xs, ys = data or _data(shape)
    for i in range(steps):
        x, y = xs[i % len(xs)], ys[i % len(ys)]
        oa.zero_grad()
        la = loss_fn(a(x), y)
        la.backward()
        oa.step()
        lb = step(x, y)
        assert lb.grad_fn is None and lb.shape == ()
        np.testing.assert_allclose(lb.item(), la.item(), rtol=1e-6, atol=1e-6)
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-6, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-6, atol=1e-6, err_msg=name)
    return step, oa, ob


def _sgd(m):
    return ember.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)


def test_mlp_sgd_momentum_equals_eager():
    step, _, _ = _compare(_mlp, _sgd, (8, 12))
    assert step.stats == {"traces": 1, "compiled_calls": 4, "eager_calls": 0}
    assert "compiled" in step.explain()


def test_lenet_sgd_equals_eager():
    step, _, _ = _compare(_lenet, _sgd, (5, 1, 12, 12))
    assert step.stats["compiled_calls"] == 4


def test_lenet5_mnist_size_equals_eager():
    """The real LeNet-5 on 28x28: the first conv's forward runs in blocks of output rows (its columns exceed
    the block size), odd-sized and padded convolutions, a pool after each ReLU."""
    def lenet5():
        ember.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                             nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    step, _, _ = _compare(lenet5, _sgd, (16, 1, 28, 28), steps=4, data=_data((16, 1, 28, 28), n=2, k=10))
    assert step.stats["compiled_calls"] == 3


def test_conv_blocks_without_relu_or_pool_and_strided_conv():
    def model():
        ember.manual_seed(0)
        return nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.Tanh(), nn.Conv2d(4, 4, 3),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 3))
    step, _, _ = _compare(model, _sgd, (3, 2, 11, 11), data=_data((3, 2, 11, 11), k=3))
    assert step.stats["compiled_calls"] == 4


@pytest.mark.parametrize("opt", [
    lambda m: ember.optim.Adam(m.parameters(), lr=1e-2),
    lambda m: ember.optim.AdamW(m.parameters(), lr=1e-2, weight_decay=0.1),
    lambda m: ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.5, nesterov=True, weight_decay=1e-3),
    lambda m: ember.optim.SGD(m.parameters(), lr=0.1),
    lambda m: ember.optim.RMSprop(m.parameters(), lr=1e-2),
])
def test_optimizers_equal_eager(opt):
    def wide():             # a 400x400 weight: updated in L2-sized blocks
        ember.manual_seed(0)
        return nn.Sequential(nn.Linear(12, 400), nn.ReLU(), nn.Linear(400, 400), nn.ReLU(), nn.Linear(400, 4))
    _, oa, ob = _compare(wide, opt, (8, 12))
    for p, q in zip(oa.state.values(), ob.state.values()):
        for k, v in p.items():
            w = q[k]
            np.testing.assert_allclose(getattr(w, "numpy", lambda: w)(), getattr(v, "numpy", lambda: v)(),
                                       rtol=1e-6, atol=1e-7)


def test_mse_loss_and_broadcast_bias():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            ember.manual_seed(1)
            self.lin = nn.Linear(6, 3)
            self.scale = nn.Parameter(ember.ones(1, 3))

        def forward(self, x):
            return (self.lin(x) * self.scale).tanh() + self.scale

    r = np.random.default_rng(2)
    data = ([ember.tensor(r.standard_normal((5, 6)).astype(np.float32))],
            [ember.tensor(r.standard_normal((5, 3)).astype(np.float32))])
    _compare(M, lambda m: ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9), None, loss_fn=F.mse_loss,
             data=data)


def test_new_input_shape_retraces():
    step, _, _ = _compare(_mlp, _sgd, None, steps=6,
                          data=([ember.randn(8, 12), ember.randn(3, 12)],
                                [ember.randint(0, 4, (8,)), ember.randint(0, 4, (3,))]))
    assert step.stats["traces"] == 2 and step.stats["compiled_calls"] == 4


def test_dropout_falls_back_to_eager_with_one_warning():
    def model():
        ember.manual_seed(0)
        return nn.Sequential(nn.Linear(12, 16), nn.Dropout(0.5), nn.Linear(16, 4))
    a, b = model(), model()
    oa, ob = _sgd(a), _sgd(b)
    step = ember.jit.compile_training_step(b, F.cross_entropy, ob)
    x, y = ember.randn(8, 12), ember.randint(0, 4, (8,))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for i in range(3):
            ember.manual_seed(10 + i)
            oa.zero_grad()
            F.cross_entropy(a(x), y).backward()
            oa.step()
            ember.manual_seed(10 + i)
            step(x, y)
    msgs = [str(m.message) for m in w if "compile_training_step" in str(m.message)]
    assert len(msgs) == 1 and "random" in msgs[0]
    assert step.stats["eager_calls"] == 3 and "eager" in step.explain()
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_lr_scheduler_and_state_dict_follow_the_compiled_step():
    a, b = _mlp(), _mlp()
    oa, ob = _sgd(a), _sgd(b)
    sa = ember.optim.lr_scheduler.StepLR(oa, step_size=2, gamma=0.5)
    sb = ember.optim.lr_scheduler.StepLR(ob, step_size=2, gamma=0.5)
    step = ember.jit.compile_training_step(b, F.cross_entropy, ob)
    x, y = ember.randn(8, 12), ember.randint(0, 4, (8,))
    for _ in range(5):
        oa.zero_grad()
        F.cross_entropy(a(x), y).backward()
        oa.step()
        sa.step()
        step(x, y)
        sb.step()
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-6, atol=1e-6)
    assert len(ob.state_dict()["state"]) == len(list(b.parameters()))


def test_frozen_parameter_gets_no_grad_and_is_not_updated():
    m = _mlp()
    m[0].weight.requires_grad_(False)
    before = m[0].weight.detach().numpy().copy()
    opt = ember.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.1)
    step = ember.jit.compile_training_step(m, F.cross_entropy, opt)
    x, y = ember.randn(8, 12), ember.randint(0, 4, (8,))
    for _ in range(3):
        step(x, y)
    assert m[0].weight.grad is None and m[0].bias.grad is not None
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), before)


def test_bad_arguments_raise():
    m = _mlp()
    with pytest.raises(TypeError, match="optimizer"):
        ember.jit.compile_training_step(m, F.cross_entropy, object())
    step = ember.jit.compile_training_step(m, F.cross_entropy, _sgd(m))
    with pytest.raises(TypeError, match="target"):
        step(ember.randn(2, 12))


# -- ember.compile of a whole training-step function (torch.compile style) -----------------------------------
def _train_fn(m, opt):
    def train_step(x, y):
        opt.zero_grad()
        out = m(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()
        return loss, out
    return train_step


def test_compiled_training_function_equals_eager():
    a, b = _lenet(), _lenet()
    oa, ob = _sgd(a), _sgd(b)
    eager, compiled = _train_fn(a, oa), ember.compile(_train_fn(b, ob))
    xs, ys = _data((5, 1, 12, 12))
    for i in range(5):
        la, outa = eager(xs[i % 3], ys[i % 3])
        lb, outb = compiled(xs[i % 3], ys[i % 3])
        np.testing.assert_allclose(lb.item(), la.item(), rtol=1e-6)
        np.testing.assert_allclose(outb.detach().numpy(), outa.detach().numpy(), rtol=1e-6, atol=1e-6)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-6, atol=1e-6)
    assert compiled.stats["compiled_calls"] == 4 and "training step" in compiled.explain()


def test_compiled_training_function_accumulates_and_zeroes_like_eager():
    def fn(m, opt):
        def step(x, y):             # no zero_grad before: gradients accumulate; zero_grad after the step
            F.mse_loss(m(x), y).backward()
            opt.step()
            opt.zero_grad()
        return step

    def grads_only(m):
        def step(x, y):             # no optimizer: .grad accumulates over calls
            F.mse_loss(m(x), y).backward()
        return step
    x, y = ember.randn(8, 12), ember.randn(8, 4)
    a, b = _mlp(), _mlp()
    oa, ob = _sgd(a), _sgd(b)
    c = ember.compile(fn(b, ob))
    for _ in range(3):
        fn(a, oa)(x, y)
        c(x, y)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-6, atol=1e-6)
        assert q.grad is None and p.grad is None
    a, b = _mlp(), _mlp()
    c = ember.compile(grads_only(b))
    for _ in range(3):
        grads_only(a)(x, y)
        c(x, y)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_compiled_training_function_with_dropout_warns_once_and_runs_eagerly():
    def model():
        ember.manual_seed(0)
        return nn.Sequential(nn.Linear(12, 16), nn.Dropout(0.5), nn.Linear(16, 4))
    a, b = model(), model()
    oa, ob = _sgd(a), _sgd(b)
    c = ember.compile(_train_fn(b, ob))
    x, y = ember.randn(8, 12), ember.randint(0, 4, (8,))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for i in range(3):
            ember.manual_seed(i)
            _train_fn(a, oa)(x, y)
            ember.manual_seed(i)
            c(x, y)
    assert len([m for m in w if "ember.compile" in str(m.message)]) == 1
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-6, atol=1e-6)
    with pytest.raises(ember.jit.TracingError):
        m = _mlp()
        o = _sgd(m)

        def twice(x, y):
            F.cross_entropy(m(x), y).backward()
            F.cross_entropy(m(x), y).backward()
        ember.compile(twice, fullgraph=True)(x, y)


def test_compiled_function_reads_parameters_it_closes_over_at_each_call():
    """Regression: a function's parameters were frozen into the graph as constants at trace time."""
    lin = nn.Linear(3, 2)
    c = ember.compile(lambda x: lin(x))
    x = ember.randn(4, 3)
    with ember.no_grad():
        c(x)
        lin.weight.mul_(2.0)
        np.testing.assert_array_equal(c(x).numpy(), lin(x).numpy())


def test_training_function_returning_loss_item_steps_once_per_call():
    """.item() after backward() cannot be traced; the step must still run exactly once per call (eagerly)."""
    a, b = _mlp(), _mlp()
    oa, ob = _sgd(a), _sgd(b)

    def fn(m, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            opt.step()
            return loss.item()
        return step
    c = ember.compile(fn(b, ob))
    x, y = ember.randn(8, 12), ember.randint(0, 4, (8,))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for _ in range(3):
            assert c(x, y) == fn(a, oa)(x, y)
    assert any("item" in str(m.message) for m in w)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())


def _bn_model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 4))


def _tied_model():
    ember.manual_seed(0)

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.out = nn.Linear(6, 6), nn.Linear(6, 4)

        def forward(self, x):           # the same weight used twice: its gradients add up
            return self.out(self.lin(self.lin(x).relu()))
    return Tied()


@pytest.mark.parametrize("make,shape", [(_bn_model, (5, 1, 8, 8)), (_tied_model, (5, 6))])
def test_batch_norm_buffers_and_shared_weights_equal_eager(make, shape):
    a, b = make(), make()
    oa, ob = _sgd(a), _sgd(b)
    step = ember.jit.compile_training_step(b, F.cross_entropy, ob)
    xs, ys = _data(shape)
    for i in range(4):
        oa.zero_grad()
        F.cross_entropy(a(xs[i % 3]), ys[i % 3]).backward()
        oa.step()
        step(xs[i % 3], ys[i % 3])
    assert step.stats["compiled_calls"] == 3
    sa, sb = a.state_dict(), b.state_dict()
    for k in sa:                        # running statistics and num_batches_tracked too
        np.testing.assert_allclose(sb[k].numpy(), sa[k].numpy(), rtol=1e-6, atol=1e-6, err_msg=k)


def test_compiled_training_function_updates_batch_norm_running_stats():
    """Regression: buffers a traced function closes over were frozen copies, so batch norm's running
    statistics were updated in the copy, not in the module."""
    a, b = _bn_model(), _bn_model()
    oa, ob = _sgd(a), _sgd(b)
    c = ember.compile(_train_fn(b, ob))
    xs, ys = _data((5, 1, 8, 8))
    for i in range(4):
        _train_fn(a, oa)(xs[i % 3], ys[i % 3])
        c(xs[i % 3], ys[i % 3])
    assert c.stats["compiled_calls"] == 3
    for k in ("1.running_mean", "1.running_var", "0.weight", "4.weight"):
        np.testing.assert_allclose(b.state_dict()[k].numpy(), a.state_dict()[k].numpy(), rtol=1e-6, atol=1e-6)


def test_user_autograd_function_falls_back_to_eager_with_one_warning():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            ember.manual_seed(0)
            self.lin = nn.Linear(12, 4)

        def forward(self, x):
            return Square.apply(self.lin(x))
    a, b = M(), M()
    oa, ob = _sgd(a), _sgd(b)
    step = ember.jit.compile_training_step(b, F.cross_entropy, ob)
    x, y = ember.randn(8, 12), ember.randint(0, 4, (8,))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for _ in range(3):
            oa.zero_grad()
            F.cross_entropy(a(x), y).backward()
            oa.step()
            step(x, y)
    msgs = [str(m.message) for m in w if "compile_training_step" in str(m.message)]
    assert len(msgs) == 1 and "Square" in msgs[0]
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_input_requiring_grad_runs_eagerly():
    m = _mlp()
    opt = _sgd(m)
    step = ember.jit.compile_training_step(m, F.cross_entropy, opt)
    m2 = _mlp()
    c = ember.compile(_train_fn(m2, _sgd(m2)))
    x, y = ember.randn(8, 12, requires_grad=True), ember.randint(0, 4, (8,))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        for _ in range(2):
            x.grad = None
            step(x, y)
            assert x.grad is not None          # as eager: backward reaches the input
            c(x, y)
    assert step.stats["eager_calls"] == 2 and "requires grad" in step.explain()
    assert c.stats["eager_calls"] == 1 and "requires grad" in c.explain()


@pytest.mark.parametrize("threads", [2, 3])
def test_conv_blocks_split_among_threads_equal_eager(monkeypatch, threads):
    """At 2+ BLAS threads a fused conv block runs as parts of its batch (eager convolution's rule); the
    compiled step still equals the eager loop (which splits its convolutions the same way)."""
    from ember.ops import _conv_parallel as CP, _parallel as P, conv as C
    calls = []
    real = P.in_parallel
    monkeypatch.setattr(P, "in_parallel", lambda fns, t: calls.append(len(fns)) or real(fns, t))
    monkeypatch.setattr(CP, "blas_threads", lambda: threads)
    monkeypatch.setattr(P, "blas_threads", lambda: threads)
    monkeypatch.setattr(C, "_SPLIT_MACS", 1)
    monkeypatch.setattr(C, "_SPLIT_PIXELS", 1)

    from ember.jit import _conv_block as CB
    parts = []
    real_fwd = CB.ConvBlock._forward
    monkeypatch.setattr(CB.ConvBlock, "_forward", lambda self, x, *a: parts.append(x.shape[0]) or real_fwd(self, x, *a))

    def model():
        ember.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 4, 3),
                             nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.Flatten(), nn.Linear(16, 4))
    step, _, _ = _compare(model, _sgd, (13, 1, 12, 12), data=_data((13, 1, 12, 12)))
    assert step.stats["compiled_calls"] == 4
    t = min(threads, 13 // CP.MIN_IMAGES)
    assert calls and max(calls) == t
    assert parts and sum(parts[:t]) == 13 and max(parts) < 13           # the blocks ran as parts of the batch


@pytest.mark.parametrize("make_opt", [_sgd, lambda m: ember.optim.Adam(m.parameters(), lr=1e-2)],
                         ids=["sgd_momentum", "adam"])
def test_fused_update_split_among_threads_equals_eager_bits(monkeypatch, make_opt):
    # at 2+ BLAS threads a compiled step's update runs the eager updates split among threads: the same bits
    # as the eager loop at one thread
    from ember.optim import _split_update as SU
    from tests.ops._sections import counting_sections
    use = counting_sections(monkeypatch, [(SU, "MIN_SPLIT", 4), (SU, "SPLIT_FROM", 8)])
    xs, ys = _data((8, 12))
    a, b = _mlp(), _mlp()
    oa, ob = make_opt(a), make_opt(b)
    use(1)
    for i in range(4):
        oa.zero_grad()
        F.cross_entropy(a(xs[i % 3]), ys[i % 3]).backward()
        oa.step()
    use(2)
    split = []
    real = SU.split_step
    monkeypatch.setattr(SU, "split_step", lambda *a: split.append(real(*a)) or split[-1])
    step = ember.jit.compile_training_step(b, F.cross_entropy, ob)
    for i in range(4):
        step(xs[i % 3], ys[i % 3])
    assert step.stats["compiled_calls"] >= 3 and split.count(True) >= 3, "the split update did not run"
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert np.array_equal(q.detach().numpy(), p.detach().numpy()), name
    for p, q in zip(oa.state.values(), ob.state.values()):
        for k, v in p.items():
            assert np.array_equal(getattr(q[k], "numpy", lambda: q[k])(), getattr(v, "numpy", lambda: v)()), k
