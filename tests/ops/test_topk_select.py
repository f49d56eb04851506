"""``topk`` for small k by rounds of argmax (``_index_masks._topk_select``): the full stable sort's indices
(value order, ties by index), PyTorch's values and layouts, and the full sort wherever a row holds the sentinel
value or NaN."""
import numpy as np
import pytest

import ember


def _stable_topk_indices(a, k, axis, largest):
    key = a.astype(np.float64) if a.dtype.kind in "iub" else a
    order = np.argsort(-key if largest else key, axis=axis, kind="stable")
    return np.take(order, np.arange(k), axis=axis)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int8, np.uint8])
@pytest.mark.parametrize("shape,k,axis", [((37, 300), 5, 1), ((300, 37), 7, 0), ((3, 5, 200), 50, 2),
                                          ((4, 128, 3), 1, 1), ((256,), 64, 0)])
@pytest.mark.parametrize("largest", [True, False])
def test_indices_are_the_stable_sorts_with_many_ties(dtype, shape, k, axis, largest):
    rng = np.random.default_rng(0)
    a = rng.integers(-3, 4, shape) if dtype not in (np.uint8,) else rng.integers(0, 4, shape)
    a = a.astype(dtype)
    if dtype in (np.float32, np.float64):
        a[..., ::5] = -0.0 if dtype == np.float32 else a[..., ::5]       # signed zeros tie with 0.0
    v, i = ember.topk(ember.tensor(a), k, axis, largest=largest)
    want = _stable_topk_indices(a, k, axis, largest)
    np.testing.assert_array_equal(i.numpy(), want)
    np.testing.assert_array_equal(v.numpy(), np.take_along_axis(a, want, axis))
    assert i.numpy().flags.c_contiguous and v.numpy().flags.c_contiguous


@pytest.mark.parametrize("special", ["nan", "inf", "-inf", "imin", "imax"])
@pytest.mark.parametrize("largest", [True, False])
def test_rows_with_sentinels_take_the_full_sort(special, largest):
    rng = np.random.default_rng(1)
    if special.startswith("i"):
        a = rng.integers(-5, 5, (6, 100)).astype(np.int32)
        a[2, [3, 40, 41]] = np.iinfo(np.int32).min if special == "imin" else np.iinfo(np.int32).max
    else:
        a = rng.standard_normal((6, 100)).astype(np.float32)
        a[2, [3, 40, 41]] = float(special)
    v, i = ember.topk(ember.tensor(a), 6, 1, largest=largest)
    torch = pytest.importorskip("torch")
    tv, ti = torch.topk(torch.tensor(a), 6, 1, largest=largest)
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    if special != "nan":
        np.testing.assert_array_equal(i.numpy(), _stable_topk_indices(a, 6, 1, largest))


def test_against_pytorch_values_layouts_and_gradient():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a = rng.standard_normal((16, 40, 9)).astype(np.float32)
    for axis, k in ((1, 4), (2, 2), (0, 3), (-2, 10)):
        for largest in (True, False):
            x = ember.tensor(a, requires_grad=True)
            t = torch.tensor(a, requires_grad=True)
            v, i = ember.topk(x, k, axis, largest=largest)
            tv, ti = torch.topk(t, k, axis, largest=largest)
            np.testing.assert_array_equal(v.detach().numpy(), tv.detach().numpy())
            np.testing.assert_array_equal(i.numpy(), ti.numpy())       # distinct values: no ties to differ on
            assert v.stride() == tv.stride() and i.stride() == ti.stride()
            g = rng.standard_normal(tv.shape).astype(np.float32)
            v.backward(ember.tensor(g))
            tv.backward(torch.tensor(g))
            np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
