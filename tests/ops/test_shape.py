"""Shape ops vs PyTorch: values and gradients (including views, non-contiguous and empty inputs), gradcheck,
and the errors for invalid shapes."""
import numpy as np
import pytest
import torch

import ember
from helpers import compare, gradcheck

SHAPE_OPS = {
    "reshape": ((2, 3, 4), lambda m, x: x.reshape(4, -1)),
    "reshape_tuple": ((2, 3, 4), lambda m, x: m.reshape(x, (6, 4))),
    "view": ((2, 3, 4), lambda m, x: x.view(-1)),
    "view_tuple": ((2, 3, 4), lambda m, x: x.view((3, 8))),
    "flatten": ((2, 3, 4), lambda m, x: m.flatten(x)),
    "flatten1": ((2, 3, 4), lambda m, x: m.flatten(x, 1)),
    "flatten_mid": ((2, 3, 4, 5), lambda m, x: x.flatten(1, 2)),
    "unflatten": ((2, 12), lambda m, x: x.unflatten(1, (3, 4))),
    "transpose": ((2, 3, 4), lambda m, x: x.transpose(0, 2)),
    "permute": ((2, 3, 4), lambda m, x: x.permute(2, 0, 1)),
    "permute_tuple": ((2, 3, 4), lambda m, x: x.permute((1, 2, 0))),
    "T2": ((3, 4), lambda m, x: x.T),
    "mT": ((2, 3, 4), lambda m, x: x.mT),
    "t": ((3, 4), lambda m, x: x.t()),
    "squeeze": ((1, 3, 1, 4), lambda m, x: x.squeeze()),
    "squeeze_dim": ((1, 3, 1, 4), lambda m, x: x.squeeze(2)),
    "squeeze_nonone": ((1, 3, 1, 4), lambda m, x: x.squeeze(1)),
    "unsqueeze": ((3, 4), lambda m, x: x.unsqueeze(1)),
    "unsqueeze_neg": ((3, 4), lambda m, x: x.unsqueeze(-1)),
    "expand": ((3, 1), lambda m, x: x.expand(2, 3, 4)),
    "expand_neg": ((3, 1), lambda m, x: x.expand(-1, 5)),
    "broadcast_to": ((1, 4), lambda m, x: m.broadcast_to(x, (3, 4))),
    "expand_as": ((4,), lambda m, x: x.expand_as(m.ones(3, 4, dtype=m.float64))),
    "repeat": ((2, 3), lambda m, x: x.repeat(2, 3)),
    "repeat_more": ((2, 3), lambda m, x: x.repeat(2, 1, 2)),
    "tile": ((2, 3), lambda m, x: m.tile(x, (2,))),
    "tile2": ((2, 3), lambda m, x: x.tile((3, 1, 2))),
    "flip": ((2, 3, 4), lambda m, x: x.flip(0, 2) if m is torch else x.flip([0, 2])),
    "flip_fn": ((2, 3, 4), lambda m, x: m.flip(x, [1])),
    "roll": ((3, 4), lambda m, x: m.roll(x, 1, 0)),
    "roll_multi": ((3, 4), lambda m, x: m.roll(x, (1, -2), (0, 1))),
    "roll_flat": ((3, 4), lambda m, x: m.roll(x, 5)),
    "narrow": ((5, 4), lambda m, x: x.narrow(0, 1, 3)),
    "narrow_neg": ((5, 4), lambda m, x: m.narrow(x, 1, -3, 2)),
    "split": ((7, 3), lambda m, x: x.split(3)),
    "split_sizes": ((7, 3), lambda m, x: m.split(x, [2, 5], 0)),
    "split_dim1": ((3, 7), lambda m, x: x.split(2, dim=1)),
    "chunk": ((7, 3), lambda m, x: x.chunk(3)),
    "chunk_more": ((3, 4), lambda m, x: x.chunk(5, 1)),
    "unbind": ((3, 4), lambda m, x: x.unbind(1)),
    "unbind0": ((3, 4), lambda m, x: m.unbind(x)),
    "movedim": ((2, 3, 4), lambda m, x: m.movedim(x, 0, -1)),
    "swapaxes": ((2, 3, 4), lambda m, x: x.swapaxes(0, 1)),
    "rot90": ((3, 4), lambda m, x: m.rot90(x, 1, (0, 1))),
    "repeat_interleave": ((2, 3), lambda m, x: x.repeat_interleave(2, dim=1)),
    "tensor_split": ((7, 2), lambda m, x: m.tensor_split(x, 3)),
    "contiguous": ((3, 4), lambda m, x: x.t().contiguous()),
    "ravel": ((3, 4), lambda m, x: x.t().ravel()),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_op_matches_torch(name):
    shape, fn = SHAPE_OPS[name]
    compare(fn, [shape])


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_op_noncontiguous(name):
    shape, fn = SHAPE_OPS[name]
    if name.startswith("view"):
        pytest.skip("view of a non-contiguous tensor raises in torch")
    # build the same shape as a non-contiguous view: reversed-dim storage, then permuted back
    rev = tuple(reversed(shape))
    nd = len(shape)
    compare(lambda m, x: fn(m, x.permute(*range(nd - 1, -1, -1)) if m is torch else x.permute(tuple(range(nd - 1, -1, -1)))),
            [rev])


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_op_gradcheck(name):
    shape, fn = SHAPE_OPS[name]
    assert gradcheck(lambda x: fn(ember, x), [shape])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_stack(dim):
    compare(lambda m, a, b, c: m.cat([a, b, c], dim if dim != 1 else 1), [(2, 3), (2, 3), (2, 3)])
    compare(lambda m, a, b: m.stack([a, b], dim), [(2, 3), (2, 3)])
    compare(lambda m, a, b: m.stack((a, b), -1), [(2, 3), (2, 3)])


def test_cat_uneven_and_empty():
    compare(lambda m, a, b, c: m.cat([a, b, c], 0), [(2, 3), (0, 3), (4, 3)])
    compare(lambda m, a, b: m.cat([a, b], 1), [(2, 1), (2, 5)])
    compare(lambda m, a, b: m.cat([a, b]), [(0,), (3,)])   # legacy 1-D empty is skipped
    compare(lambda m, a, b: m.cat([a, b], 0), [(2, 0), (3, 0)])


def test_cat_promotes():
    e = ember.cat([ember.tensor([1, 2]), ember.tensor([1.5])])
    assert e.dtype == ember.float32 and e.tolist() == [1.0, 2.0, 1.5]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pads", [(1, 2), (2, 1, 1, 0), (0, 0, 1, 1)], ids=str)
def test_pad(mode, pads):
    if mode != "constant" and len(pads) == 2:
        pytest.skip("torch pads a 4-D input only in its last 2 dims for these modes")
    F = {ember: ember.nn.functional if hasattr(ember.nn, "functional") else None, torch: torch.nn.functional}
    compare(lambda m, x: (ember.ops.pad if m is ember else torch.nn.functional.pad)(
        x, pads, mode=mode, **({"value": 0.5} if mode == "constant" else {})), [(1, 2, 3, 4)])


def test_pad_negative_crops():
    compare(lambda m, x: (ember.ops.pad if m is ember else torch.nn.functional.pad)(x, (-1, 2)), [(2, 5)])


def test_pad_gradcheck():
    for mode in ("constant", "reflect", "replicate", "circular"):
        assert gradcheck(lambda x: ember.ops.pad(x, (1, 2, 2, 1), mode=mode), [(1, 1, 3, 4)])


def test_empty_shapes():
    compare(lambda m, x: x.reshape(0, 5), [(5, 0)])
    compare(lambda m, x: x.transpose(0, 1).sum(0), [(0, 3)])
    compare(lambda m, x: x.unsqueeze(0).expand(2, 0, 3), [(0, 3)])
    compare(lambda m, x: x.flip(0), [(0, 3)])
    compare(lambda m, x: x.repeat(2, 1), [(0, 3)])
    compare(lambda m, x: x.split(2), [(0, 3)])


def test_zero_d():
    compare(lambda m, x: x.reshape(1, 1), [()])
    compare(lambda m, x: x.unsqueeze(0), [()])
    compare(lambda m, x: x.expand(3, 2), [()])
    compare(lambda m, x: m.flatten(x), [()])
    compare(lambda m, x: x.view(-1), [()])
    compare(lambda m, x: x.squeeze(), [()])
    compare(lambda m, x: m.stack([x, x]), [()])
    compare(lambda m, x: x.repeat(3), [()])
    compare(lambda m, x: x.flip(0), [()])
    compare(lambda m, x: x.reshape(()), [(1, 1)])
    compare(lambda m, x: x.t(), [()])
    compare(lambda m, x: x.T, [()])
    compare(lambda m, x: x.permute(()), [()])


def test_views_share_memory_and_version():
    x = ember.zeros(3, 4)
    for v in (x.view(12), x.reshape(2, 6), x.t(), x[1], x[:, 1:3], x.unsqueeze(0), x.narrow(0, 1, 1),
              x.expand(2, 3, 4), x.permute(1, 0), x.squeeze(), x.detach(), x.unbind(0)[1], x.split(2)[0],
              x.flatten(), x.chunk(2, 1)[1]):
        assert np.shares_memory(v.numpy(), x.numpy()), v
        before = x._version[0]
        assert v._version is x._version
    y = x.view(12)
    y[3] = 5.0
    assert x[0, 3].item() == 5.0
    assert x._version[0] >= 1


def test_view_noncontiguous_raises():
    x = ember.randn(3, 4).t()
    with pytest.raises(RuntimeError, match="view"):
        x.view(12)
    assert x.reshape(12).shape == (12,)


@pytest.mark.parametrize("fn,match", [
    (lambda x: x.reshape(5, 5), r"reshape.*\[5, 5\].*24"),
    (lambda x: x.reshape(-1, -1), "one dimension"),
    (lambda x: x.reshape(7, -1), r"reshape.*7, -1.*24"),
    (lambda x: x.view(5, 5), r"view.*24"),
    (lambda x: x.permute(0, 1), r"permute.*2.*3"),
    (lambda x: x.permute(0, 1, 1), "repeated"),
    (lambda x: x.transpose(0, 3), r"(?i)dim.*range"),
    (lambda x: x.expand(3, 3, 4), r"expand.*3.*4"),
    (lambda x: x.expand(2, 3), r"expand"),
    (lambda x: x.repeat(2, 2), r"repeat"),
    (lambda x: x.narrow(0, 1, 5), r"narrow.*5"),
    (lambda x: x.squeeze(5), r"(?i)dim.*range"),
    (lambda x: x.unsqueeze(4), r"(?i)dim.*range"),
    (lambda x: x.flatten(2, 1), r"flatten"),
    (lambda x: x.split([1, 2]), r"split.*2"),
    (lambda x: x.chunk(0), r"chunk"),
    (lambda x: x.unflatten(1, (2, 2)), r"unflatten"),
    (lambda x: ember.ops.pad(x, (1,)), r"pad"),
    (lambda x: ember.ops.pad(x, (4, 4), mode="reflect"), r"pad.*reflect"),
    (lambda x: ember.ops.pad(x, (1, 1), mode="foo"), r"pad.*mode"),
    (lambda x: ember.roll(x, (1, 2), 0), r"roll"),
    (lambda x: ember.flip(x, [0, 0]), r"flip"),
    (lambda x: ember.movedim(x, 0, 5), r"(?i)dim.*range"),
    (lambda x: x.mT.mT.reshape(24).mT, r"mT"),
])
def test_shape_errors(fn, match):
    x = ember.randn(2, 3, 4)
    with pytest.raises((RuntimeError, IndexError, ValueError), match=match):
        fn(x)


def test_cat_stack_errors():
    with pytest.raises(RuntimeError, match=r"cat.*\(2, \*\).*\(3, 3\).*tensor number 1"):
        ember.cat([ember.zeros(2, 3), ember.zeros(3, 3)], 1)
    with pytest.raises(RuntimeError, match="cat.*non-empty"):
        ember.cat([])
    with pytest.raises(RuntimeError, match="cat.*zero-dim"):
        ember.cat([ember.tensor(1.0), ember.tensor(2.0)])
    with pytest.raises(RuntimeError, match=r"cat"):
        ember.cat([ember.zeros(2, 3), ember.zeros(2)])
    with pytest.raises(IndexError, match=r"(?i)cat.*dim.*range"):
        ember.cat([ember.zeros(2, 3), ember.zeros(2, 3)], 2)
    with pytest.raises(RuntimeError, match=r"stack.*\(2, 3\).*\(3, 2\)"):
        ember.stack([ember.zeros(2, 3), ember.zeros(3, 2)])
    with pytest.raises(RuntimeError, match="stack"):
        ember.stack([])


def test_stack_family():
    compare(lambda m, a, b: m.hstack([a, b]), [(3, 2), (3, 4)])
    compare(lambda m, a, b: m.hstack([a, b]), [(3,), (2,)])
    compare(lambda m, a, b: m.vstack([a, b]), [(4,), (2, 4)])
    compare(lambda m, a, b: m.dstack([a, b]), [(3, 2), (3, 2)])
    compare(lambda m, a, b: m.dstack([a, b]), [(3,), (3,)])
    compare(lambda m, a, b: m.dstack([a, b]), [(2, 3, 1), (2, 3, 2)])
