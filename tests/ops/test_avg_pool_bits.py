"""Average pooling adds its windows in PyTorch's order (one strided view per kernel offset, row by row), so
its float results are PyTorch's bit for bit, forward and backward, over strides, padding, ceil mode, the
divisor options and layouts."""
import itertools

import numpy as np
import pytest

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")


CONFIGS = [dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=i)
           for k, s, p, c, i in itertools.product((2, 3, (2, 3)), (None, 1, 2), (0, 1), (False, True), (True, False))
           if not (isinstance(k, int) and p * 2 > k)]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(f"{k[:4]}{v}" for k, v in c.items()))
def test_float32_bits_equal_pytorch(cfg):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 11, 13)).astype(np.float32) * 100
    a[0, 0, :4, :4] = -0.0                       # a window of -0.0 averages to +0.0
    x, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = F.avg_pool2d(x, **cfg), torch.nn.functional.avg_pool2d(t, **cfg)
    np.testing.assert_array_equal(y.detach().numpy().view(np.uint32), ty.detach().numpy().view(np.uint32))
    g = rng.standard_normal(ty.shape).astype(np.float32)
    y.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_divisor_override_channels_last_and_integers():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    for kw in (dict(kernel_size=2, divisor_override=3), dict(kernel_size=3, stride=2, padding=1)):
        y = F.avg_pool2d(ember.tensor(a).to(memory_format=ember.channels_last), **kw)
        ty = torch.nn.functional.avg_pool2d(torch.tensor(a).to(memory_format=torch.channels_last), **kw)
        np.testing.assert_array_equal(y.numpy(), ty.numpy())
        assert y.stride() == ty.stride()
    i = rng.integers(-50, 50, (2, 3, 8, 8))
    np.testing.assert_array_equal(F.avg_pool2d(ember.tensor(i), 2).numpy(),
                                  torch.nn.functional.avg_pool2d(torch.tensor(i), 2).numpy())
