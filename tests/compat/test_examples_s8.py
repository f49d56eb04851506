"""Defects found by running PyTorch's own examples (github.com/pytorch/examples) unchanged under ember.compat,
each checked against torch 2.13."""
from __future__ import annotations

import os
import warnings

import pytest

import ember

torch = pytest.importorskip("torch")


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in got if issubclass(w.category, UserWarning)]


# the word_language_model example's TransformerModel(nn.Transformer) prints PyTorch's nested-tensor warning
_ENCODERS = [
    dict(),
    dict(batch_first=True),
    dict(batch_first=True, norm_first=True),
    dict(batch_first=True, activation="gelu"),
    dict(batch_first=True, activation="relu"),
    dict(batch_first=True, activation="tanh-fn"),
    dict(batch_first=True, activation="relu-module"),
    dict(batch_first=True, activation="gelu-module"),
    dict(batch_first=True, bias=False),
    dict(batch_first=True, nhead=3, d_model=12),
    dict(batch_first=True, enable_nested_tensor=False),
    dict(enable_nested_tensor=False),
]


def _encoder(lib, kw):
    kw = dict(kw)
    nested = kw.pop("enable_nested_tensor", True)
    act = kw.pop("activation", "relu")
    act = {"tanh-fn": lib.tanh, "relu-module": lib.nn.ReLU(), "gelu-module": lib.nn.GELU()}.get(act, act)
    d = kw.pop("d_model", 8)
    nhead = kw.pop("nhead", 2)
    layer = lib.nn.TransformerEncoderLayer(d, nhead, 16, activation=act, **kw)
    return lambda: lib.nn.TransformerEncoder(layer, 2, enable_nested_tensor=nested)


@pytest.mark.parametrize("kw", _ENCODERS, ids=[str(k) for k in _ENCODERS])
def test_transformer_encoder_nested_tensor_warning(kw):
    expected = _warnings_of(_encoder(torch, kw))
    assert _warnings_of(_encoder(ember, kw)) == expected


def test_transformer_encoder_use_nested_tensor_and_activation_flag():
    for lib in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            enc = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 1)
            enc_bf = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 1)
        assert (enc.use_nested_tensor, enc.enable_nested_tensor, enc_bf.use_nested_tensor) == (False, True, True)
        assert lib.nn.TransformerEncoderLayer(8, 2, activation="gelu").activation_relu_or_gelu == 2


@pytest.mark.parametrize("batch_first", [False, True])
def test_nn_transformer_warns_as_pytorch(batch_first):
    def make(lib):
        return lambda: lib.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                                          dim_feedforward=16, batch_first=batch_first)
    assert _warnings_of(make(ember)) == _warnings_of(make(torch))


# the imagenet example builds DataLoader(..., num_workers=4, pin_memory=True): PyTorch warns twice on a CPU machine
def _loader_warnings(lib, epochs=2, **kw):
    data = lib.utils.data.TensorDataset(lib.arange(8.0))

    def run():
        loader = lib.utils.data.DataLoader(data, batch_size=4, **kw)
        for _ in range(epochs):
            for _ in loader:
                pass
    return _warnings_of(run)


_MANY = len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) + 1


@pytest.mark.parametrize("kw", [dict(pin_memory=True), dict(num_workers=_MANY), dict(num_workers=1),
                                dict(num_workers=_MANY, persistent_workers=True),
                                dict(num_workers=_MANY, pin_memory=True),
                                dict(pin_memory=True, pin_memory_device="cuda"), dict()],
                         ids=["pin", "many_workers", "one_worker", "persistent", "both", "pin_device", "none"])
def test_dataloader_warnings_as_pytorch(kw):
    assert _loader_warnings(ember, **kw) == _loader_warnings(torch, **kw)


def _all_warnings(fn):
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        out = fn()
    return out, [(w.category.__name__, str(w.message)) for w in got]


def test_deprecated_nllloss2d_and_container_as_pytorch():
    x = [[[[0.1, -0.3], [0.2, 0.5]], [[-0.4, 0.1], [0.0, 0.3]], [[0.2, 0.2], [-0.1, 0.0]]]]
    t = [[[0, 2], [1, 0]]]

    def run(lib):
        crit = lib.nn.NLLLoss2d(ignore_index=1, reduction="sum")
        inp = lib.nn.functional.log_softmax(lib.tensor(x), 1)
        return (type(crit).__mro__[1].__name__, crit.ignore_index, round(crit(inp, lib.tensor(t)).item(), 5),
                isinstance(crit, lib.nn.NLLLoss))
    assert _all_warnings(lambda: run(ember)) == _all_warnings(lambda: run(torch))

    def box(lib):
        c = lib.nn.Container(fc=lib.nn.Linear(2, 3), act=lib.nn.ReLU())
        return [n for n, _ in c.named_children()], sorted(c.state_dict()), repr(c).splitlines()[0]
    assert _all_warnings(lambda: box(ember)) == _all_warnings(lambda: box(torch))


@pytest.mark.parametrize("pad", [0, 1, 3])
def test_conv_tbc_values_and_gradients_as_pytorch(pad):
    import numpy as np
    rng = np.random.default_rng(pad)
    x, w, b = (rng.standard_normal(s) for s in ((6, 2, 3), (3, 3, 4), (4,)))
    outs = {}
    for lib in (torch, ember):
        ts = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = lib.conv_tbc(*ts, pad)
        (y * lib.arange(float(y.numel()), dtype=y.dtype).reshape(y.shape)).sum().backward()
        assert lib.nn.functional.conv_tbc is not None
        outs[lib.__name__] = [y.detach().numpy()] + [t.grad.numpy() for t in ts]
    for a, c in zip(outs["ember"], outs["torch"]):
        assert a.shape == c.shape and np.allclose(a, c, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shapes", [((5, 3), (2, 3, 4), (4,)), ((5, 2, 3), (2, 3), (4,)), ((5, 2, 3), (2, 3, 4), (1, 4)),
                                    ((5, 2, 2), (2, 3, 4), (4,)), ((5, 2, 3), (2, 3, 4), (3,)),
                                    ((1, 2, 3), (4, 3, 4), (4,))])
def test_conv_tbc_errors_as_pytorch(shapes):
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as e:
            lib.nn.functional.conv_tbc(*(lib.zeros(s) for s in shapes))
        msgs = msgs + [str(e.value)] if lib is ember else [str(e.value)]
    assert msgs[0] in msgs[1] and "conv_tbc" in msgs[1]


# the mnist_rnn example applies nn.Dropout2d to (N, 64) features: PyTorch warns and drops element-wise
@pytest.mark.parametrize("shape", [(6, 8), (4, 3, 5), (2, 3, 4, 4), (2, 3, 2, 2, 2), (5,)])
@pytest.mark.parametrize("form", ["functional", "module"])
def test_dropout2d_ranks_warnings_and_masks_as_pytorch(shape, form):
    import numpy as np

    def run(lib):
        x = lib.ones(shape)
        if form == "functional":
            def f():
                return lib.nn.functional.dropout2d(x, 0.5, True)
        else:
            def f():
                return lib.nn.Dropout2d(0.5)(x)
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            try:
                y = f().numpy()
            except RuntimeError as e:
                return "error" if "at least 2 dimensions" in str(e) else str(e), [str(w.message) for w in got]
        # which dims the mask varies over: a dim the mask is constant along gives the same zeros on every slice
        lead = len(shape) if len(shape) < 3 else 2
        zero = y == 0
        flat = zero.reshape(zero.shape[:lead] + (-1,))
        constant_rest = bool((flat == flat[..., :1]).all())
        assert set(np.unique(y)) <= {0.0, 2.0}
        return constant_rest, [str(w.message) for w in got]
    assert run(ember) == run(torch)
