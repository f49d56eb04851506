"""Class 3 of issue 12: torch.save(model, f) / torch.load(f, weights_only=False) without pickle."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.io.serialization import CheckpointError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Net(nn.Module):
    def __init__(self, hidden=5):
        super().__init__()
        self.hidden = hidden
        self.conv = nn.Conv2d(1, 2, 3)
        self.body = nn.Sequential(nn.Linear(8, hidden), nn.ReLU(), nn.BatchNorm1d(hidden))
        self.head = nn.Linear(hidden, 3)
        self.tied = self.head              # the same child twice
        self.act = F.relu                  # a module-level function attribute
        self.register_buffer("steps", ember.tensor(7))
        self.register_buffer("scratch", ember.zeros(2), persistent=False)
        self.scale = nn.Parameter(ember.tensor([1.5]))
        self.names = ("a", "b")

    def forward(self, x):
        x = self.act(self.conv(x)).reshape(x.shape[0], -1)
        return self.head(self.body(x)) * self.scale


def _model():
    m = Net()
    with ember.no_grad():
        for i, p in enumerate(m.parameters()):
            p.copy_(ember.sin(ember.arange(p.numel(), dtype=p.dtype) + i).reshape(p.shape))
    return m


def test_whole_module_round_trip(tmp_path):
    m = _model()
    m.eval()
    f = tmp_path / "model.pt"
    ember.save(m, f)
    with open(f, "rb") as fh:          # still a safetensors file: 8-byte length + JSON header
        n = int.from_bytes(fh.read(8), "little")
        header = json.loads(fh.read(n))
    assert "ember.structure" in header["__metadata__"] and "Net" in header["__metadata__"]["ember.structure"]
    back = ember.load(f, weights_only=False)
    assert type(back) is Net and back.training is False and back.hidden == 5 and back.names == ("a", "b")
    assert back.act is F.relu and back.tied is back.head
    assert list(back.state_dict()) == list(m.state_dict())
    assert [n for n, _ in back.named_children()] == [n for n, _ in m.named_children()]
    assert "scratch" not in back.state_dict() and back.scratch.tolist() == [0.0, 0.0]
    x = ember.cos(ember.arange(2 * 1 * 4 * 4, dtype=ember.float32)).reshape(2, 1, 4, 4)
    assert np.allclose(back(x).detach().numpy(), m(x).detach().numpy())
    back.train()
    back(x).sum().backward()               # trainable: parameters are Parameters with grads
    assert all(p.grad is not None for p in back.parameters())


def test_default_weights_only_refuses_and_says_what_to_do(tmp_path):
    f = tmp_path / "model.pt"
    ember.save({"model": _model(), "epoch": 3}, f)
    with pytest.raises(CheckpointError, match="weights_only=False"):
        ember.load(f)
    ck = ember.load(f, weights_only=False)
    assert ck["epoch"] == 3 and isinstance(ck["model"], Net)


def test_load_never_imports_with_weights_only_true(tmp_path):
    # a file naming a module nobody imported: the default load must refuse before importing it
    code = textwrap.dedent(f"""
        import sys, ember, ember.nn as nn
        import json
        sys.path.insert(0, {str(tmp_path)!r})
        open({str(tmp_path / 'evil_mod.py')!r}, "w").write("import sys\\nsys.stderr.write('IMPORTED')\\n"
            "import ember.nn as nn\\nclass M(nn.Module):\\n    pass\\n")
        import evil_mod
        ember.save(evil_mod.M(), {str(tmp_path / 'm.pt')!r})
        del sys.modules['evil_mod']
    """)
    env = dict(os.environ, PYTHONPATH=ROOT)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    load = (f"import sys, ember; sys.path.insert(0, {str(tmp_path)!r})\n"
            f"try:\n    ember.load({str(tmp_path / 'm.pt')!r})\nexcept RuntimeError as e:\n    print('REFUSED')\n"
            f"print('evil_mod' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", load], env=env, capture_output=True, text=True)
    assert r.stdout.split() == ["REFUSED", "False"] and "IMPORTED" not in r.stderr


def test_load_refuses_classes_that_are_not_modules(tmp_path):
    f = tmp_path / "m.pt"
    ember.save(nn.Linear(2, 2), f)
    raw = f.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    header["__metadata__"]["ember.structure"] = header["__metadata__"]["ember.structure"].replace(
        "ember.nn.layers.linear:Linear", "os:system")
    new = json.dumps(header).encode()
    new += b" " * (-len(new) % 8)
    f.write_bytes(len(new).to_bytes(8, "little") + new + raw[8 + n:])
    with pytest.raises(CheckpointError, match="not an nn.Module subclass"):
        ember.load(f, weights_only=False)


def test_unsavable_attributes_are_named():
    m = nn.Linear(2, 2)
    m.fn = lambda x: x
    with pytest.raises(TypeError, match="fn"):
        ember.save(m, "/tmp/never-written.pt")

    class Local(nn.Module):
        pass
    with pytest.raises(TypeError, match="defined inside a function"):
        ember.save(Local(), "/tmp/never-written.pt")


def test_safe_globals_allow_a_weights_only_load(tmp_path):
    # the word_language_model example's pattern: torch.load(f) inside torch.serialization.safe_globals([...])
    import ember.serialization as ser
    f = tmp_path / "model.pt"
    ember.save(_model(), f)
    classes = [Net, nn.Conv2d, nn.Sequential, nn.Linear, nn.ReLU, nn.BatchNorm1d, F.relu]
    with ser.safe_globals(classes[:-2]):             # nn.BatchNorm1d and F.relu missing: refused, named
        with pytest.raises(CheckpointError, match="BatchNorm1d|relu") as e:
            ember.load(f)
    assert "safe_globals" in str(e.value)
    with ser.safe_globals(classes):
        assert type(ember.load(f)) is Net
    assert ser.get_safe_globals() == []              # the context manager took them off again
    ser.add_safe_globals(classes)
    try:
        assert type(ember.load(f)) is Net
    finally:
        ser.clear_safe_globals()
    with pytest.raises(CheckpointError):
        ember.load(f)
