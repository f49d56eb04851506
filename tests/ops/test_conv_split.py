"""Convolutions that the blocked kernels do not take, split into parts of the batch when BLAS has several
threads (``conv._split_forward`` / ``_parts_backward``): each part runs the one-thread algorithm (general
columns, pixel-major columns, col2im or the grid input gradient).  Same values and gradients as PyTorch and as
one thread, for any split."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember.ops import _conv_parallel as P
from ember.ops import conv as C


@pytest.fixture
def sections(monkeypatch):
    """BLAS reported with ``n`` threads and every convolution big enough to split; returns the list of the
    parallel sections' sizes."""
    calls = []
    real = P.in_parallel

    def counting(fns, t):
        calls.append(len(fns))
        return real(fns, t)

    def use(n):
        monkeypatch.setattr(P, "blas_threads", lambda: n)
        monkeypatch.setattr(C, "_SPLIT_MACS", 1)
        monkeypatch.setattr(C, "_SPLIT_PIXELS", 1)
        monkeypatch.setattr(P, "in_parallel", counting)
        calls.clear()
        return calls
    return use


CASES = [
    # general columns (few channels), small images: the grid input gradient (stride 1)
    dict(n=9, c=6, h=14, w=14, o=16, k=5, stride=1, padding=0, dilation=1, groups=1),
    dict(n=8, c=3, h=9, w=11, o=4, k=3, stride=1, padding=2, dilation=1, groups=1),
    # general columns, col2im: strided, dilated, grouped
    dict(n=11, c=4, h=13, w=12, o=6, k=3, stride=2, padding=1, dilation=1, groups=1),
    dict(n=8, c=4, h=10, w=10, o=6, k=3, stride=1, padding=1, dilation=2, groups=2),
    # pixel-major columns (16+ channels): stride 1 (grid input gradient) and stride 2
    dict(n=8, c=16, h=6, w=6, o=8, k=3, stride=1, padding=1, dilation=1, groups=1),
    dict(n=10, c=16, h=9, w=7, o=5, k=3, stride=2, padding=1, dilation=1, groups=1),
]


def _run(m, f, x, w, b, case, g=None):
    xt, wt, bt = (m.tensor(a, requires_grad=True) for a in (x, w, b))
    y = f.conv2d(xt, wt, bt, stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                 groups=case["groups"])
    if g is None:
        g = np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(x.dtype)
    y.backward(m.tensor(g))
    return [t.detach().numpy() for t in (y, xt.grad, wt.grad, bt.grad)], g


@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "c{c}_{h}x{w}_k{k}_s{stride}_p{padding}_d{dilation}_g{groups}"
                         .format(**c))
def test_split_conv_matches_pytorch_and_one_thread(sections, n_threads, dtype, case):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"])).astype(dtype)
    w = rng.standard_normal((case["o"], case["c"] // case["groups"], case["k"], case["k"])).astype(dtype)
    b = rng.standard_normal(case["o"]).astype(dtype)
    one, g = _run(ember, F, x, w, b, case)                  # make test's BLAS: one thread, no split
    calls = sections(n_threads)
    split, _ = _run(ember, F, x, w, b, case, g)
    parts = min(n_threads, case["n"] // P.MIN_IMAGES)
    assert calls == [parts, parts], calls                   # the forward and the backward
    ref, _ = _run(torch, torch.nn.functional, x, w, b, case, g)
    tol = 2e-4 if dtype == "float32" else 1e-10
    for e, s, t in zip(one, split, ref):
        np.testing.assert_allclose(s, t, rtol=tol, atol=tol)
        np.testing.assert_allclose(s, e, rtol=tol, atol=tol)


def test_small_convolutions_and_batches_are_not_split(monkeypatch):
    calls = []
    real = P.in_parallel
    monkeypatch.setattr(P, "in_parallel", lambda fns, t: calls.append(len(fns)) or real(fns, t))
    monkeypatch.setattr(P, "blas_threads", lambda: 2)
    x = ember.randn(7, 6, 14, 14, requires_grad=True)       # fewer than 2 * MIN_IMAGES images
    F.conv2d(x, ember.randn(16, 6, 5, 5)).sum().backward()
    x = ember.randn(8, 2, 5, 5, requires_grad=True)         # a few thousand multiply-adds
    F.conv2d(x, ember.randn(2, 2, 3, 3)).sum().backward()
    x = ember.randn(64, 64, 2, 2, requires_grad=True)       # one output pixel per image: 32 rows per part
    F.conv2d(x, ember.randn(128, 64, 3, 3), stride=2, padding=1).sum().backward()
    assert calls == []
    x = ember.randn(64, 6, 14, 14, requires_grad=True)      # LeNet-5's second convolution
    F.conv2d(x, ember.randn(16, 6, 5, 5)).sum().backward()
    assert calls == [2, 2]


def test_a_weight_with_inf_takes_col2im_in_the_split(sections):
    """The grid input gradient needs a finite weight (inf * 0 is NaN): the parts fall back to col2im, as one
    thread does, and the gradient's NaNs and infs are where PyTorch's are."""
    sections(2)
    case = CASES[0]
    x = np.random.default_rng(2).standard_normal((8, 6, 14, 14))
    w = np.random.default_rng(3).standard_normal((16, 6, 5, 5))
    w[0, 0, 0, 0] = np.inf
    b = np.zeros(16)
    with np.errstate(invalid="ignore", over="ignore"):
        e, g = _run(ember, F, x, w, b, case)
        t, _ = _run(torch, torch.nn.functional, x, w, b, case, g)
    np.testing.assert_array_equal(np.isnan(e[1]), np.isnan(t[1]))
    np.testing.assert_allclose(np.nan_to_num(e[1]), np.nan_to_num(t[1]), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("c", [6, 16])
def test_split_of_a_channels_last_input_without_bias(sections, c):
    """A channels_last input (strided parts), no bias: values, gradients and the result's layout as PyTorch's."""
    calls = sections(2)
    x = np.random.default_rng(4).standard_normal((8, c, 9, 9)).astype("float32")
    w = np.random.default_rng(5).standard_normal((5, c, 3, 3)).astype("float32")
    res = []
    for m, f in ((ember, F), (torch, torch.nn.functional)):
        xt = m.tensor(x).to(memory_format=m.channels_last).requires_grad_()
        wt = m.tensor(w, requires_grad=True)
        y = f.conv2d(xt, wt, padding=1)
        y.backward(m.ones_like(y))
        res.append((y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(),
                    y.is_contiguous(memory_format=m.channels_last)))
    assert calls == [2, 2], calls
    for e, t in zip(res[0][:3], res[1][:3]):
        np.testing.assert_allclose(e, t, rtol=2e-4, atol=2e-4)
    assert res[0][3] == res[1][3]


TCASES = [
    dict(n=24, c=6, h=5, w=5, o=4, k=3, stride=2, padding=1, output_padding=1, groups=1),   # batch innermost
    dict(n=9, c=4, h=6, w=7, o=6, k=3, stride=1, padding=0, output_padding=0, groups=2),    # col2im
    dict(n=16, c=8, h=4, w=3, o=2, k=4, stride=2, padding=1, output_padding=0, groups=1),
]


@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", TCASES,
                         ids=lambda c: "n{n}_c{c}_{h}x{w}_k{k}_s{stride}_g{groups}".format(**c))
def test_split_conv_transpose_matches_pytorch_and_one_thread(monkeypatch, n_threads, dtype, case):
    """A transposed convolution in parts of the batch (``conv._convT_forward`` and its backward): each part
    its own images of the result and of the input gradient, the weight gradient summed over the parts; the
    same numbers as PyTorch and as one thread."""
    from tests.ops._sections import counting_sections
    rng = np.random.default_rng(2)
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"])).astype(dtype)
    w = rng.standard_normal((case["c"], case["o"] // case["groups"], case["k"], case["k"])).astype(dtype)
    b = rng.standard_normal(case["o"]).astype(dtype)
    kw = dict(stride=case["stride"], padding=case["padding"], output_padding=case["output_padding"],
              groups=case["groups"])

    def run(m, f):
        xt, wt, bt = (m.tensor(a, requires_grad=True) for a in (x, w, b))
        y = f.conv_transpose2d(xt, wt, bt, **kw)
        y.backward(m.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(dtype)))
        return [t.detach().numpy() for t in (y, xt.grad, wt.grad, bt.grad)]
    one = run(ember, F)
    calls = counting_sections(monkeypatch, [(C, "_SPLIT_MACS", 1), (C, "_SPLIT_PIXELS", 1)])(n_threads)
    split = run(ember, F)
    parts = min(n_threads, case["n"] // P.MIN_IMAGES)
    assert calls == [parts, parts], calls                   # the forward and the backward
    ref = run(torch, torch.nn.functional)
    tol = 2e-4 if dtype == "float32" else 1e-10
    for e, s, t in zip(one, split, ref):
        np.testing.assert_allclose(s, t, rtol=tol, atol=tol)
        np.testing.assert_allclose(s, e, rtol=tol, atol=tol)
