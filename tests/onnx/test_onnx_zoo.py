"""ember.onnx.export on every zoo model (eval mode): onnx.checker, onnxruntime outputs (1e-5 relative, dynamic
batch), and the round trip export -> load_model -> run -> fine-tune -> export."""
import io

import numpy as np
import pytest

import ember
from ember import models as M
from ember.vision import models as V

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")



def _tok(n):
    return ember.randint(0, 11, (n, 5))


CASES = {
    "mlp": (lambda: M.MLP(in_features=20, hidden=(16,)), lambda n: ember.randn(n, 20)),
    "lenet5": (lambda: M.LeNet5(), lambda n: ember.randn(n, 1, 28, 28)),
    "typical_dnn": (lambda: M.TypicalDNN(image_size=16), lambda n: ember.randn(n, 3, 16, 16)),
    "fashion_cnn": (lambda: M.FashionCNN(channels=(4, 8), hidden=16), lambda n: ember.randn(n, 1, 28, 28)),
    "char_lstm": (lambda: M.CharRNN(11, embed_dim=4, hidden_size=6, cell="lstm"), _tok),
    "char_gru": (lambda: M.CharRNN(11, embed_dim=4, hidden_size=6, cell="gru"), _tok),
    "sum_rnn": (lambda: M.SumRNN(), lambda n: ember.randn(n, 5, 1)),
    "transformer_lm": (lambda: M.TransformerLM(11, d_model=8, nhead=2, num_layers=2, dim_feedforward=16, max_len=8),
                       _tok),
    "transformer_encoder": (lambda: ember.nn.TransformerEncoder(
        ember.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2), lambda n: ember.randn(n, 5, 8)),
    "dense_autoencoder": (lambda: M.DenseAutoencoder(in_features=20, hidden=(8,), latent_dim=2),
                          lambda n: ember.randn(n, 20)),
    "conv_autoencoder": (lambda: M.ConvAutoencoder(channels=(4, 8)), lambda n: ember.randn(n, 1, 28, 28)),
    "vae_decoder": (lambda: M.VAE(in_features=20, hidden=8, latent_dim=3).dec, lambda n: ember.randn(n, 3)),
    "vae": (lambda: M.VAE(in_features=20, hidden=8, latent_dim=3), lambda n: ember.randn(n, 20)),
    "fcn": (lambda: M.FCN(width=4), lambda n: ember.randn(n, 1, 8, 8)),
    "resnet18": (lambda: V.resnet18(num_classes=10), lambda n: ember.randn(n, 3, 32, 32)),
}
SLOW = {"resnet18"}


def _params():
    return [pytest.param(k, marks=pytest.mark.slow) if k in SLOW else k for k in CASES]


def _outs(o):
    return [t.detach().numpy() for t in (o if isinstance(o, tuple) else (o,))]


def _close(got, want):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5 * max(float(np.abs(w).max()), 1e-3))


def _export(m, x):
    buf = io.BytesIO()
    proto = ember.onnx.export(m, (x,), buf, input_names=["input"], dynamic_axes={"input": {0: "batch"}})
    onnx.checker.check_model(onnx.load_from_string(buf.getvalue()), full_check=True)
    return buf.getvalue(), proto


@pytest.mark.parametrize("name", _params())
def test_export_runs_in_onnxruntime_with_dynamic_batch(name):
    ember.manual_seed(0)
    make, inp = CASES[name]
    m = make().eval()
    data, proto = _export(m, inp(2))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    sess = ort.InferenceSession(data)
    for n in (3, 1):
        x = inp(n)
        _close(sess.run(None, {"input": x.numpy()}), _outs(m(x)))
    assert m.training is False


@pytest.mark.parametrize("name", _params())
def test_round_trip_load_finetune_export(name):
    ember.manual_seed(1)
    make, inp = CASES[name]
    m = make().eval()
    data, _ = _export(m, inp(2))
    im = ember.onnx.load_model(data)
    x = inp(3)
    _close(_outs(im(x)), _outs(m(x)))
    params = list(im.parameters())
    assert params and all(p.requires_grad for p in params)
    before = [p.detach().numpy().copy() for p in params]
    opt = ember.optim.SGD(params, lr=0.05)
    out = im(x)
    (out[0] if isinstance(out, tuple) else out).pow(2).mean().backward()
    opt.step()
    assert any(not np.array_equal(b, p.detach().numpy()) for b, p in zip(before, params))
    data2, _ = _export(im, inp(2))
    _close(ort.InferenceSession(data2).run(None, {"input": x.numpy()}), _outs(im(x)))
