"""ember.load on files written by torch 2.13: torch.save zip archives read through an allow-listed unpickler
(tensors, parameters, storages shared between tensors, views with offsets and strides, every dtype including
bfloat16), bfloat16 in safetensors, and hostile pickles refused before anything runs."""
import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

import ember
from ember.io import CheckpointError


def _same(e, t):
    assert isinstance(e, ember.Tensor)
    want = t.detach().float().numpy() if t.dtype == torch.bfloat16 else t.detach().numpy()
    np.testing.assert_array_equal(e.numpy(), want)
    assert e.numpy().dtype == want.dtype


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("make", ["linear", "lenet", "lstm", "bn"])
def test_state_dicts_saved_by_torch_load(tmp_path, make, legacy):
    torch.manual_seed(0)
    m = {"linear": lambda: torch.nn.Linear(3, 4),
         "lenet": lambda: torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5), torch.nn.ReLU(), torch.nn.Flatten(),
                                              torch.nn.Linear(6 * 24 * 24, 10)),
         "lstm": lambda: torch.nn.LSTM(3, 5, num_layers=2),
         "bn": lambda: torch.nn.BatchNorm2d(4)}[make]()
    path = tmp_path / "w.pt"
    torch.save(m.state_dict(), path, _use_new_zipfile_serialization=not legacy)
    sd = ember.load(str(path))
    assert list(sd) == list(m.state_dict())
    for k, v in m.state_dict().items():
        _same(sd[k], v)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_dtypes_views_shared_storage_and_containers(tmp_path, legacy):
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    obj = {"view": base[1:, ::2], "t": base.t(), "base": base, "bf16": torch.linspace(-3, 3, 7).to(torch.bfloat16),
           "half": torch.tensor([1.5, -2.0], dtype=torch.float16), "ints": [torch.tensor([1, 2], dtype=torch.int16),
                                                                            torch.tensor([True, False])],
           "u8": torch.tensor([0, 255], dtype=torch.uint8), "tuple": (1, 2.5, "x", None), "param":
           torch.nn.Parameter(torch.ones(2)), "empty": torch.zeros(0, 3)}
    path = tmp_path / "obj.pth"
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    got = ember.load(str(path))
    for k in ("view", "t", "base", "bf16", "half", "u8", "empty"):
        _same(got[k], obj[k])
    _same(got["ints"][0], obj["ints"][0])
    _same(got["ints"][1], obj["ints"][1])
    assert got["tuple"] == (1, 2.5, "x", None)
    assert isinstance(got["param"], ember.nn.Parameter) and got["param"].requires_grad


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _torch_zip_with(payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


@pytest.mark.parametrize("payload", ["system", "eval", "getattr"])
def test_hostile_pickles_are_refused_and_nothing_runs(tmp_path, payload):
    canary = tmp_path / "canary"
    if payload == "system":
        data = pickle.dumps({"w": _Evil(canary)}, protocol=2)
    elif payload == "eval":
        data = b"cbuiltins\neval\n(V__import__('os').system('touch " + str(canary).encode() + b"')\ntR."
    else:
        data = b"cbuiltins\ngetattr\n(cos\nsystem\nVx\ntR."
    path = tmp_path / "evil.pt"
    path.write_bytes(_torch_zip_with(data))
    with pytest.raises(CheckpointError, match=r"global '(posix|os|nt|builtins)\.(system|eval|getattr)' is not allowed"):
        ember.load(str(path))
    assert not canary.exists()


def test_legacy_hostile_and_broken_files_say_so(tmp_path):
    # the pre-1.6 format (torchvision's older weights are in it): the same allow-list, truncation reported
    canary = tmp_path / "canary"
    evil = tmp_path / "evil_old.pt"
    torch.save({"w": torch.ones(2), "x": _Evil(canary)}, evil, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match=r"legacy PyTorch file.*global '(posix|os|nt)\.system' is not allowed"):
        ember.load(str(evil))
    assert not canary.exists()
    legacy = tmp_path / "old.pt"
    torch.save({"w": torch.ones(1000)}, legacy, _use_new_zipfile_serialization=False)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(legacy.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="storage '.*' is truncated"):
        ember.load(str(cut))
    np.testing.assert_array_equal(ember.load(str(legacy))["w"].numpy(), np.ones(1000, np.float32))


def test_legacy_and_broken_torch_files_say_so(tmp_path):
    broken = tmp_path / "broken.pt"
    good = io.BytesIO()
    torch.save({"w": torch.ones(1000)}, good)
    z = zipfile.ZipFile(io.BytesIO(good.getvalue()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for n in z.namelist():
            if "/data/" not in n:               # storages removed
                out.writestr(n, z.read(n))
    broken.write_bytes(buf.getvalue())
    with pytest.raises(CheckpointError, match="storage '0' is missing"):
        ember.load(str(broken))


def test_bfloat16_in_safetensors(tmp_path):
    from safetensors.torch import save_file
    t = torch.tensor([1.0, -2.5, 3.140625, 1e30], dtype=torch.bfloat16)
    save_file({"x": t}, str(tmp_path / "b.safetensors"))
    _same(ember.load(str(tmp_path / "b.safetensors"))["x"], t)


def test_a_torch_checkpoint_loads_into_an_ember_model(tmp_path):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    torch.save(tm.state_dict(), tmp_path / "m.pt")
    em = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.Tanh(), ember.nn.Linear(8, 2))
    em.load_state_dict(ember.load(str(tmp_path / "m.pt")))
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(em(ember.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), rtol=1e-6)


def test_numpy_data_in_a_torch_file_loads_with_weights_only_false(tmp_path):
    # PyTorch's time-sequence example saves a NumPy array with torch.save and loads it back
    path = tmp_path / "np.pt"
    obj = {"arr": np.arange(12.).reshape(3, 4), "fortran": np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
           "scalar": np.float32(1.5), "nested": [(np.ones(2, np.float16),)], "t": torch.ones(2),
           "record": np.zeros(2, dtype=[("x", "<f4"), ("y", "<i2")]), "empty": np.zeros((0, 3))}
    torch.save(obj, path)
    with pytest.raises(CheckpointError, match=r"numpy\._core\.multiarray\._reconstruct.*weights_only=False"):
        ember.load(str(path))                                    # PyTorch 2.13's default refuses them too
    got = ember.load(str(path), weights_only=False)
    want = torch.load(path, weights_only=False)
    for k in ("arr", "fortran", "record", "empty"):
        assert type(got[k]) is np.ndarray and got[k].dtype == want[k].dtype
        np.testing.assert_array_equal(got[k], want[k])
        assert got[k].flags.f_contiguous == want[k].flags.f_contiguous
    assert type(got["scalar"]) is np.float32 and got["scalar"] == 1.5
    assert type(got["nested"][0]) is tuple and got["nested"][0][0].dtype == np.float16
    _same(got["t"], want["t"])


@pytest.mark.parametrize("bad", ["object", "subclass", "codec", "short"])
def test_numpy_data_that_is_not_plain_numbers_is_refused(tmp_path, bad):
    path = tmp_path / "bad.pt"
    if bad == "object":
        torch.save([np.array(["a", None], dtype=object)], path)
        match = "holds Python objects"
    elif bad == "subclass":
        torch.save(np.ma.masked_array([1.0, 2.0], mask=[0, 1]), path)
        match = "not allowed|only plain numpy.ndarray"
    else:
        if bad == "codec":     # protocol 2 bytes go through _codecs.encode: latin-1 only
            data = b"c_codecs\nencode\n(Vabc\nVrot13\ntR."
            match = "encoding 'rot13' is not allowed"
        else:                  # an array whose state claims more bytes than it has
            good = pickle.dumps(np.arange(4.), protocol=2)
            data = good.replace(b"K\x04\x85", b"K\x05\x85", 1)
            assert data != good
            match = "needs 40 bytes, the file has 32"
        path.write_bytes(_torch_zip_with(data))
    with pytest.raises(CheckpointError, match=match):
        ember.load(str(path), weights_only=False)
