"""ember.onnx: the export signature and its errors, opsets, files; load_model on models exported by PyTorch."""
import io

import numpy as np
import pytest

import ember
from ember import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _mlp():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def test_export_to_a_path_with_names(tmp_path):
    m = _mlp()
    path = tmp_path / "m.onnx"
    ember.onnx.export(m, ember.randn(2, 4), str(path), input_names=["features"], output_names=["logits"],
                      dynamic_axes={"features": {0: "n"}, "logits": {0: "n"}})
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == ["features"]
    assert [o.name for o in proto.graph.output] == ["logits"]
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "n"
    x = ember.randn(5, 4)
    got = ort.InferenceSession(str(path)).run(["logits"], {"features": x.numpy()})[0]
    np.testing.assert_allclose(got, m(x).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("opset", [13, 17, 21])
def test_opsets(opset):
    m = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
    proto = ember.onnx.export(m, ember.randn(2, 4), None, opset_version=opset)
    assert proto.opset_import[0].version == opset
    x = ember.randn(2, 4)
    got = ort.InferenceSession(proto.SerializeToString()).run(None, {"input": x.numpy()})[0]
    np.testing.assert_allclose(got, m(x).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_opset_out_of_range():
    with pytest.raises(ember.onnx.OnnxExporterError, match="opset_version 9 is not supported.*13 to 21"):
        ember.onnx.export(_mlp(), ember.randn(2, 4), None, opset_version=9)


def test_unsupported_op_names_op_and_opset():
    class M(nn.Module):
        def forward(self, x):
            return x.cumsum(1)
    with pytest.raises(ember.onnx.OnnxExporterError, match=r"op 'cumsum'.*opset 17"):
        ember.onnx.export(M(), ember.randn(2, 3), None, opset_version=17)


def test_export_restores_training_mode_and_flags():
    m = _mlp().train()
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append((self.training, ember.onnx.is_in_onnx_export()))
            return x
    ember.onnx.export(nn.Sequential(m, Probe()), ember.randn(1, 4), None)
    assert seen[0] == (False, True) and m.training and not ember.onnx.is_in_onnx_export()


def test_unknown_dynamic_axes_name():
    with pytest.raises(ValueError, match="dynamic_axes names 'x'"):
        ember.onnx.export(_mlp(), ember.randn(2, 4), None, dynamic_axes={"x": [0]})


def test_load_model_refuses_unknown_operator():
    from onnx import helper, TensorProto
    node = helper.make_node("Hardmax", ["x"], ["y"])
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    with pytest.raises(NotImplementedError, match="operator Hardmax"):
        ember.onnx.load_model(helper.make_model(g))


def test_load_model_of_torch_exports():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                             torch.nn.MaxPool2d(2), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                             torch.nn.Linear(4, 3), torch.nn.Softmax(-1)).eval()
    buf = io.BytesIO()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(tm, (torch.randn(2, 1, 8, 8),), buf, dynamo=False, input_names=["input"],
                          dynamic_axes={"input": {0: "b"}})
    m = ember.onnx.load_model(buf.getvalue())
    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        want = tm(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(m(ember.tensor(x)).detach().numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("opset", [18, 20])
def test_activations_export_and_import(opset):
    F = nn.functional

    class Acts(nn.Module):
        def forward(self, x):
            return (F.hardtanh(x, -1, 2) + F.gelu(x) + F.gelu(x, approximate="tanh") + F.elu(x, 0.5) + F.silu(x)
                    + F.hardswish(x) + F.hardsigmoid(x) + F.softplus(x, beta=2.0, threshold=3.0) + F.relu6(x)
                    + F.selu(x) + F.mish(x) + F.softsign(x) + F.leaky_relu(x, 0.2))
    m = Acts()
    x = ember.randn(4, 7) * 4
    proto = ember.onnx.export(m, x, None, opset_version=opset)
    got = ort.InferenceSession(proto.SerializeToString()).run(None, {"input": x.numpy()})[0]
    want = m(x).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ember.onnx.load_model(proto)(x).numpy(), want, rtol=1e-5, atol=1e-5)


def test_mobilenet_and_squeezenet_export():
    from ember.vision import models as V
    for m, shape in ((V.mobilenet_v2(num_classes=4, width_mult=0.25), (1, 3, 32, 32)),
                     (V.squeezenet1_1(num_classes=4), (1, 3, 48, 48))):
        m.eval()
        x = ember.randn(*shape)
        proto = ember.onnx.export(m, x, None)
        got = ort.InferenceSession(proto.SerializeToString()).run(None, {"input": x.numpy()})[0]
        want = m(x).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * float(np.abs(want).max()))


@pytest.mark.parametrize("make", [lambda: nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True),
                                  lambda: nn.GRU(3, 5, num_layers=2, bidirectional=True, batch_first=True),
                                  lambda: nn.RNN(3, 4, 2, batch_first=True)])
def test_stacked_bidirectional_recurrent_layers(make):
    m = make().eval()
    proto = ember.onnx.export(m, ember.randn(2, 4, 3), None, dynamic_axes={"input": {0: "b"}})
    x = ember.randn(3, 4, 3)
    out, state = m(x)
    want = [out] + (list(state) if isinstance(state, tuple) else [state])
    got = ort.InferenceSession(proto.SerializeToString()).run(None, {"input": x.numpy()})
    back = ember.onnx.load_model(proto)(x)
    for g, b, w in zip(got, back, want):
        np.testing.assert_allclose(g, w.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b.detach().numpy(), w.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_load_model_of_torch_exported_lstm_and_transformer():
    torch = pytest.importorskip("torch")
    import warnings
    torch.manual_seed(0)

    class LM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.e, self.rnn, self.h = torch.nn.Embedding(11, 4), torch.nn.LSTM(4, 6, batch_first=True), \
                torch.nn.Linear(6, 11)

        def forward(self, x):
            return self.h(self.rnn(self.e(x))[0])
    enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.0), 1,
                                      enable_nested_tensor=False)
    for tm, x in ((LM(), torch.randint(0, 11, (2, 5))), (enc, torch.randn(2, 5, 8))):
        tm.eval()
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(tm, (x,), buf, dynamo=False, opset_version=17)
        with torch.no_grad():
            want = tm(x).numpy()
        got = ember.onnx.load_model(buf.getvalue())(ember.tensor(x.numpy())).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_trailing_dict_of_args_are_keyword_arguments():
    class M(nn.Module):
        def forward(self, x, scale=None, bias=1.0):
            return x * scale + bias
    x, s = ember.randn(2, 3), ember.randn(3)
    proto = ember.onnx.export(M(), (x, {"scale": s, "bias": 2.0}), None, input_names=["x", "scale"])
    assert [i.name for i in proto.graph.input] == ["x", "scale"]
    got = ort.InferenceSession(proto.SerializeToString()).run(None, {"x": x.numpy(), "scale": s.numpy()})[0]
    np.testing.assert_allclose(got, (x * s + 2).numpy(), rtol=1e-6)
