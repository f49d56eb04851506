"""The conv column buffers are reused between steps (ember.ops.conv._COLS) without ever being handed out
while a live graph still needs them."""
import gc

import numpy as np

import ember
import ember.nn.functional as F
from ember.ops import conv as C


def _weight_grad(x, w):
    w = w.detach().requires_grad_()
    F.conv2d(x, w, padding=1).square().sum().backward()
    return w.grad.numpy().copy()


def test_buffers_are_reused_after_backward_and_not_while_a_graph_lives():
    ember.manual_seed(0)
    C._COLS.clear()
    xs = [ember.randn(4, 3, 9, 9) for _ in range(3)]
    w0 = ember.randn(5, 3, 3, 3)
    want = [_weight_grad(x, w0) for x in xs]           # each graph freed before the next forward
    assert sum(len(v) for v in C._COLS._idle.values()) == 1      # one buffer, reused every time

    # interleaved: graphs A and B alive together; A's backward frees its buffer, C reuses it; B is intact
    ws = [w0.detach().requires_grad_() for _ in range(3)]
    outs = [F.conv2d(xs[i], ws[i], padding=1).square().sum() for i in range(2)]
    outs[0].backward()
    outs.append(F.conv2d(xs[2], ws[2], padding=1).square().sum())
    outs[2].backward()
    outs[1].backward()
    for i in range(3):
        np.testing.assert_allclose(ws[i].grad.numpy(), want[i], rtol=1e-5, atol=1e-5)


def test_retain_graph_keeps_the_columns_and_no_grad_returns_them_at_once():
    ember.manual_seed(1)
    C._COLS.clear()
    x, w = ember.randn(2, 2, 6, 6), ember.randn(3, 2, 3, 3, requires_grad=True)
    loss = F.conv2d(x, w).sum()
    loss.backward(retain_graph=True)
    g1 = w.grad.numpy().copy()
    with ember.no_grad():
        for _ in range(3):
            F.conv2d(ember.randn(2, 2, 6, 6), w)        # same shapes: would reuse a buffer if one were idle
    w.grad = None
    loss.backward()                                     # the retained columns must be the original ones
    np.testing.assert_array_equal(w.grad.numpy(), g1)
    del loss
    gc.collect()
    assert C._COLS._idle_bytes > 0


def test_idle_memory_is_capped():
    pool = C._BufferPool(max_idle_bytes=1000)
    a = pool.empty((100,), np.float32)                  # 400 bytes
    b = pool.empty((300,), np.float32)                  # 1200 bytes: over the cap, not kept
    del a, b
    gc.collect()
    assert pool._idle_bytes == 400 and list(pool._idle) == [((100,), "<f4")]
    c = pool.empty((100,), np.float32)
    assert pool._idle_bytes == 0 and c.shape == (100,)


def test_weight_gradient_of_few_input_channels_on_a_large_batch_matches_torch():
    """Few input channels and many output pixels take the panel-summed weight-gradient GEMM: it must equal
    torch's (float64, so that the different summation order shows nowhere above 1e-10)."""
    import pytest
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for shape, wshape, pad in [((16, 1, 28, 28), (6, 1, 5, 5), 2), ((12, 3, 20, 20), (8, 3, 3, 3), 0)]:
        x, w = rng.standard_normal(shape), rng.standard_normal(wshape)
        g = rng.standard_normal((shape[0], wshape[0], shape[2] + 2 * pad - wshape[2] + 1,
                                 shape[3] + 2 * pad - wshape[3] + 1))
        assert wshape[1] * 9 <= 64 < g.shape[0] * g.shape[2] * g.shape[3] // 2     # the panel path is taken
        ew = ember.tensor(w, requires_grad=True)
        F.conv2d(ember.tensor(x), ew, padding=pad).backward(ember.tensor(g))
        tw = torch.tensor(w, requires_grad=True)
        torch.nn.functional.conv2d(torch.tensor(x), tw, padding=pad).backward(torch.tensor(g))
        np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-10)
