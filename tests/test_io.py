"""Tests for ember.io: safetensors-format save/load, atomic writes, clear errors on corrupt files."""
import io
import json
import os
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember.io import CheckpointError, serialization


def _eq(a, b):
    if isinstance(a, ember.Tensor):
        assert isinstance(b, ember.Tensor)
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(force=True), b.numpy(force=True))
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert type(a) is type(b) and list(a) == list(b)
        for k in a:
            _eq(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _eq(x, y)
    elif isinstance(a, float) and a != a:
        assert b != b
    else:
        assert a == b and type(a) is type(b)


def test_public_names():
    assert ember.save is ember.io.save and ember.load is ember.io.load
    assert issubclass(CheckpointError, RuntimeError) and issubclass(CheckpointError, ValueError)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
                                   "bool"])
def test_roundtrip_dtypes(tmp_path, dtype):
    a = (np.random.randn(3, 5) * 10).astype(dtype)
    t = ember.from_numpy(a)
    ember.save(t, tmp_path / "t.st")
    _eq(t, ember.load(tmp_path / "t.st"))


def test_roundtrip_nested(tmp_path):
    w = ember.randn(4, 3)
    obj = {
        "model": OrderedDict([("fc.weight", w), ("fc.bias", ember.zeros(4)), ("bn.num_batches", ember.tensor(7))]),
        "optimizer": {"state": {0: {"step": 3, "exp_avg": ember.ones(4, 3)}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0], "nesterov": False}]},
        "epoch": 2, "name": "run", "none": None, "nan": float("nan"), "inf": float("-inf"),
        "big": 2**100, "arr": np.arange(6, dtype=">i4").reshape(2, 3).astype("<i4"),
        "scalar": np.float64(1.5), "empty": ember.zeros(0, 3), "scalar_t": ember.tensor(2.0),
        "tied": w, "floatkey": {0.5: "half"},
    }
    p = tmp_path / "ck.safetensors"
    ember.save(obj, p)
    back = ember.load(p)
    for k in obj:
        if k != "scalar":
            _eq(obj[k], back[k])
    assert back["scalar"] == 1.5 and back["scalar"].dtype == np.float64
    assert back["model"]["fc.weight"] is back["tied"]     # sharing survives
    assert back["model"]["fc.weight"].numpy() is not w.numpy()


def test_requires_grad_and_parameter(tmp_path):
    p = ember.nn.Parameter(ember.randn(2, 2))
    x = ember.randn(3, requires_grad=True)
    ember.save({"p": p, "x": x}, tmp_path / "a.st")
    back = ember.load(tmp_path / "a.st")
    assert type(back["p"]).__name__ == "Parameter" and back["p"].requires_grad
    assert back["x"].requires_grad and back["x"].is_leaf


def test_opens_with_safetensors_package(tmp_path):
    from safetensors.numpy import load_file, save_file
    sd = OrderedDict([("a.weight", ember.randn(3, 2)), ("a.bias", ember.arange(3))])
    ember.save({"model": sd, "epoch": 1}, tmp_path / "x.st")
    raw = load_file(str(tmp_path / "x.st"))
    assert set(raw) == {"model/a.weight", "model/a.bias"}
    np.testing.assert_array_equal(raw["model/a.weight"], sd["a.weight"].numpy())
    # a plain state_dict keeps its PyTorch key names in the file
    ember.save(sd, tmp_path / "sd.st")
    assert set(load_file(str(tmp_path / "sd.st"))) == {"a.weight", "a.bias"}
    # and the other way: a file from the safetensors package loads as an OrderedDict of Tensors
    save_file({"w": np.ones((2, 2), np.float32), "i": np.arange(4)}, str(tmp_path / "ext.st"))
    back = ember.load(tmp_path / "ext.st")
    assert isinstance(back, OrderedDict) and set(back) == {"w", "i"}
    assert isinstance(back["w"], ember.Tensor) and back["i"].dtype == ember.int64


def test_file_objects():
    buf = io.BytesIO()
    ember.save({"x": ember.arange(5)}, buf)
    buf.seek(0)
    _eq({"x": ember.arange(5)}, ember.load(buf))


def test_module_state_dict_roundtrip(tmp_path):
    nn = ember.nn
    if not hasattr(nn, "Linear"):
        pytest.skip("nn.Linear not available yet")
    m = nn.Linear(3, 2)
    ember.save(m.state_dict(), tmp_path / "m.st")
    m2 = nn.Linear(3, 2)
    m2.load_state_dict(ember.load(tmp_path / "m.st"))
    _eq(m.weight.detach(), m2.weight.detach())


def test_unsupported_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot store a .*at 'a/0'"):
        ember.save({"a": [lambda: 1]}, tmp_path / "x.st")
    with pytest.raises(TypeError, match="dict key"):
        ember.save({(1, 2): 3}, tmp_path / "x.st")
    assert not os.listdir(tmp_path)      # nothing written, not even a temporary file
    with pytest.raises(ValueError, match="never pickles"):
        ember.save({}, tmp_path / "x.st", pickle_protocol=2)


def test_atomic_write_keeps_previous_file(tmp_path, monkeypatch):
    p = tmp_path / "ck.st"
    ember.save({"v": ember.ones(100)}, p)
    before = p.read_bytes()
    real = serialization._write_all

    def crash(f, head, arrays):
        f.write(head[: len(head) // 2])      # half a header on disk, then the "power cut"
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_all", crash)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"v": ember.zeros(100)}, p)
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["ck.st"]         # the temporary file was removed

    def interrupt(f, head, arrays):
        real(f, head, arrays[:0])
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization, "_write_all", interrupt)
    with pytest.raises(KeyboardInterrupt):
        ember.save({"v": ember.zeros(100)}, p)
    _eq(ember.load(p)["v"], ember.ones(100))
    assert os.listdir(tmp_path) == ["ck.st"]


def test_missing_folder_and_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ember.save({}, tmp_path / "nope" / "x.st")
    with pytest.raises(FileNotFoundError, match="no such file"):
        ember.load(tmp_path / "missing.st")


def test_map_location(tmp_path):
    ember.save(ember.ones(2), tmp_path / "x.st")
    ember.load(tmp_path / "x.st", map_location="cpu")
    ember.load(tmp_path / "x.st", map_location=lambda s, loc: s)
    with pytest.raises(ValueError, match="map_location"):
        ember.load(tmp_path / "x.st", map_location="cuda:0")


def _write(path, header: dict, data: bytes = b"", raw_header: bytes | None = None, length=None):
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    n = len(h) if length is None else length
    path.write_bytes(n.to_bytes(8, "little") + h + data)


@pytest.mark.parametrize("case,match", [
    ("short", "truncated"),
    ("huge_len", "header length"),
    ("bad_json", "not valid JSON"),
    ("not_object", "JSON object"),
    ("bad_dtype", "unknown dtype 'Q9'"),
    ("out_of_range", "run past the end"),
    ("size_mismatch", "need 16"),
    ("bad_shape", "invalid shape"),
    ("bad_offsets", "invalid data_offsets"),
    ("missing_field", "must have"),
    ("bad_meta", "__metadata__"),
    ("dangling_ref", "not in the file"),
    ("bad_structure", "structure"),
    ("version", "format version"),
])
def test_corrupt_files_raise_clear_errors(tmp_path, case, match):
    p = tmp_path / f"{case}.st"
    t = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
    data = b"\0" * 16
    meta = {"ember.format": "1"}
    if case == "short":
        p.write_bytes(b"\x05\0\0")
    elif case == "huge_len":
        _write(p, {"t": t}, data, length=10**6)
    elif case == "bad_json":
        _write(p, {}, data, raw_header=b'{"t": {"dtype": ')
    elif case == "not_object":
        _write(p, [1, 2])
    elif case == "bad_dtype":
        _write(p, {"t": dict(t, dtype="Q9")}, data)
    elif case == "out_of_range":
        _write(p, {"t": dict(t, data_offsets=[0, 16])}, data[:8])
    elif case == "size_mismatch":
        _write(p, {"t": dict(t, data_offsets=[0, 8])}, data)
    elif case == "bad_shape":
        _write(p, {"t": dict(t, shape=[2, -2])}, data)
    elif case == "bad_offsets":
        _write(p, {"t": dict(t, data_offsets=[8, 4])}, data)
    elif case == "missing_field":
        _write(p, {"t": {"dtype": "F32"}}, data)
    elif case == "bad_meta":
        _write(p, {"__metadata__": {"a": 1}, "t": t}, data)
    elif case == "dangling_ref":
        _write(p, {"__metadata__": dict(meta, **{"ember.structure": '{"__tensor__": "zz"}'}), "t": t}, data)
    elif case == "bad_structure":
        _write(p, {"__metadata__": dict(meta, **{"ember.structure": '{"__tensor__'}), "t": t}, data)
    elif case == "version":
        _write(p, {"__metadata__": {"ember.format": "99", "ember.structure": "1"}}, b"")
    with pytest.raises(CheckpointError, match=match) as ei:
        ember.load(p)
    assert str(p) in str(ei.value)


def test_truncated_real_checkpoint(tmp_path):
    p = tmp_path / "ck.st"
    ember.save({"w": ember.randn(50, 50), "b": ember.randn(50)}, p)
    raw = p.read_bytes()
    for cut in (4, 30, len(raw) - 100, len(raw) - 1):
        q = tmp_path / f"cut{cut}.st"
        q.write_bytes(raw[:cut])
        with pytest.raises(CheckpointError, match=f"cut{cut}.st"):
            ember.load(q)


def test_header_is_aligned_and_strict_json(tmp_path):
    p = tmp_path / "x.st"
    ember.save({"a": float("nan"), "t": ember.ones(3)}, p)
    raw = p.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    assert n % 8 == 0
    header = json.loads(raw[8:8 + n], parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
    assert all(isinstance(v, str) for v in header["__metadata__"].values())
