"""Hostile files given to the ``ember`` command: each is refused with one ``ember: error:`` line and exit code 2,
and has no side effect (no canary file appears, nothing is written next to it).

Crafted checkpoints name code (``os:system``, ``subprocess:Popen``, ``builtins:eval``, ``ember.io:save``) as the
model or as the optimizer/loss/metric/scheduler; others are malformed safetensors files (truncated, lying header
lengths, non-UTF-8, dtype lies, offsets out of range, overlapping buffers, 100,000-deep metadata), non-files
(a folder, /dev/zero, a FIFO), a binary file given as a config, a PNG and pickled object arrays given as inputs.
"""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember import cli

ROOT = pathlib.Path(__file__).resolve().parents[2]

from test_cli import TINY  # the 1-epoch MLP on 8x8 digits (tests/ is on sys.path)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real checkpoint from a 1-epoch run (about a second) and a valid input for it."""
    d = tmp_path_factory.mktemp("run")
    cfg = d / "tiny.toml"
    cfg.write_text(TINY.format(out=(d / "runs").as_posix()))
    assert cli.main(["train", str(cfg), "-q"]) == 0
    (folder,) = [p for p in (d / "runs").iterdir() if not p.name.startswith(".")]
    ck = folder / "checkpoint.safetensors"
    x = d / "x.npy"
    np.save(x, np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32))
    return {"dir": d, "ck": ck, "x": x, "cfg": cfg}


def _refused(argv, capsys, *, where=None, canary=None, match=None):
    """Run ``ember ARGV`` in-process: exit 2, one ``ember: error:`` line, no new files in ``where``, no canary."""
    before = sorted(os.listdir(where)) if where is not None else None
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, (argv, code, out, err)
    assert err.startswith("ember: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "allow_pickle" not in err and "\x1b" not in err
    if where is not None:
        assert sorted(os.listdir(where)) == before
    if canary is not None:
        assert not os.path.exists(canary), "the exploit ran"
    if match is not None:
        assert match in err, err
    return err


def _craft(run, tmp_path, name, edit):
    """A copy of the run's checkpoint with ``edit(checkpoint_dict)`` applied."""
    ck = ember.load(run["ck"])
    edit(ck)
    path = tmp_path / name
    ember.save(ck, path)
    return path


# -- code named by a checkpoint ----------------------------------------------------------------------------------
def _exploits(canary):
    c = str(canary)
    return {
        "os:system": {"command": f"touch {c}"},
        "subprocess:Popen": {"args": ["touch", c]},
        "builtins:eval": {"source": f"open({c!r}, 'w')"},
        "ember.io:save": {"obj": {}, "f": c},
    }


@pytest.mark.parametrize("target", ["os:system", "subprocess:Popen", "builtins:eval", "ember.io:save"])
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_checkpoint_model_name_never_imports_code(run, tmp_path, capsys, target, command):
    canary = tmp_path / "canary"
    kwargs = _exploits(canary)[target]

    def edit(ck):
        ck["config"]["model"] = {"name": target, **kwargs}
    evil = _craft(run, tmp_path, "evil.safetensors", edit)
    argv = [command, evil] + ([run["x"]] if command == "predict" else [])
    err = _refused(argv, capsys, where=tmp_path, canary=canary, match="--model-code")
    assert "not in ember's model registry" in err


@pytest.mark.parametrize("section,target", [
    ("optimizer", "os:system"), ("loss", "builtins:eval"), ("metrics", "subprocess:Popen"),
    ("scheduler", "ember.io:save"), ("early_stopping", "os:system"), ("data", "os:system"),
])
def test_checkpoint_other_names_looked_up_in_fixed_tables(run, tmp_path, capsys, section, target):
    canary = tmp_path / "canary"

    def edit(ck):
        c = ck["config"]
        if section == "optimizer":
            c["optimizer"] = {"name": target, "command": f"touch {canary}"}
        elif section == "loss":
            c["loss"] = target
        elif section == "metrics":
            c["metrics"] = [{"name": target, "args": ["touch", str(canary)]}]
        elif section == "scheduler":
            c["scheduler"] = {"name": target, "f": str(canary)}
        elif section == "early_stopping":
            c["early_stopping"] = {"monitor": "val_loss", "callback": target}
        else:
            c["data"] = {"name": "synthetic", "kind": target}
    evil = _craft(run, tmp_path, "evil.safetensors", edit)
    for argv in (["evaluate", evil], ["predict", evil, run["x"]]):
        _refused(argv, capsys, where=tmp_path, canary=canary)


def test_model_code_must_be_named_by_the_user_and_match(run, tmp_path, capsys):
    """--model-code lets a checkpoint of user code load; it must name the class the checkpoint was trained with."""
    code = tmp_path / "mynet.py"
    code.write_text("from ember.models import MLP\n\n"
                    "class Net(MLP):\n"
                    "    def __init__(self, in_features=64, out_features=10, hidden=(16,)):\n"
                    "        super().__init__(in_features, hidden=hidden, out_features=out_features)\n")
    cfg = tmp_path / "user.toml"
    cfg.write_text(TINY.format(out=(tmp_path / "runs").as_posix()).replace('name = "mlp"', 'name = "mynet.py:Net"')
                   .replace("hidden = [32]", ""))
    assert cli.main(["train", str(cfg), "-q"]) == 0           # the user's own config may name their code
    capsys.readouterr()
    (folder,) = [p for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")]
    ck = folder / "checkpoint.safetensors"
    _refused(["predict", ck, run["x"]], capsys, match="--model-code")
    _refused(["predict", ck, run["x"], "--model-code", "os:system"], capsys, match="does not match")
    code_again = f"{code}:Net"
    assert cli.main(["predict", str(ck), str(run["x"]), "--model-code", code_again]) == 0
    out, err = capsys.readouterr()
    assert len(out.split()) == 3, err
    assert cli.main(["evaluate", str(ck), "--model-code", code_again]) == 0
    capsys.readouterr()


def test_a_trusted_name_does_not_carry_over_to_the_next_command(run, tmp_path, capsys):
    canary = tmp_path / "canary"
    evil = _craft(run, tmp_path, "evil.safetensors",
                  lambda ck: ck["config"].update(model={"name": "ember.io:save", "obj": {}, "f": str(canary)}))
    bad = _refused(["predict", evil, run["x"], "--model-code", "ember.io:load"], capsys, canary=canary)
    assert "does not match" in bad
    _refused(["predict", evil, run["x"]], capsys, canary=canary)


def test_resume_config_from_a_checkpoint_never_imports(run, tmp_path, capsys):
    """`ember train CONFIG --resume EVIL`: the checkpoint's model name is compared, never imported."""
    canary = tmp_path / "canary"
    evil = _craft(run, tmp_path, "evil.safetensors",
                  lambda ck: ck["config"].update(model={"name": "os:system", "command": f"touch {canary}"}))
    _refused(["train", run["cfg"], "-q", "--resume", evil], capsys, canary=canary, match="--resume")


def test_run_folder_config_naming_code_is_refused(run, tmp_path, capsys):
    """`ember train --resume RUN_DIR` reads the run's config.toml as a file ember wrote: registry names only."""
    from ember.cli import run as run_module
    if not hasattr(run_module, "resume_config"):
        pytest.skip("ember train --resume RUN_DIR without CONFIG is not available")
    canary = tmp_path / "canary"
    folder = tmp_path / "runs" / "r1"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(
        TINY.format(out=(tmp_path / "runs").as_posix())
        .replace('name = "mlp"', f'name = "os:system"\ncommand = "touch {canary}"').replace("hidden = [32]", ""))
    _refused(["train", "--resume", folder, "-q"], capsys, canary=canary)


def test_hostile_checkpoint_through_a_subprocess(run, tmp_path):
    canary = tmp_path / "canary"
    evil = _craft(run, tmp_path, "evil.safetensors",
                  lambda ck: ck["config"].update(model={"name": "os:system", "command": f"touch {canary}"}))
    for argv in (["evaluate", str(evil)], ["predict", str(evil), str(run["x"])]):
        r = subprocess.run([sys.executable, "-m", "ember.cli", *argv], capture_output=True, text=True, cwd=tmp_path,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
        assert r.returncode == 2 and r.stderr.startswith("ember: error:") and r.stderr.count("\n") == 1, r.stderr
        assert not canary.exists()


# -- sizes and values in a checkpoint's config -------------------------------------------------------------------
@pytest.mark.parametrize("edit,match", [
    (lambda c: c["model"].update(hidden=[10 ** 9]), "larger than any tensor"),
    (lambda c: c.update(classes=10 ** 12), "larger than any tensor"),
    (lambda c: c["data_info"].update(input_size=10 ** 7), "larger than any tensor"),
    (lambda c: c["data_info"].update(num_classes="ten"), "not a positive integer"),
    (lambda c: c.update(metrics=[{"name": "confusion_matrix", "num_classes": 10 ** 9}]), "larger than any tensor"),
    (lambda c: c.update(data={"name": "synthetic", "kind": "xor", "n_samples": 10 ** 12}), "n_samples"),
    (lambda c: c.update(data={"name": "synthetic", "kind": "quadrants", "size": 8 * 10 ** 6}), "larger than any"),
    (lambda c: c["model"].update(hidden=[32] * 100_000), "not a plain value"),
    (lambda c: c["model"].update(name="\x1b[2J\x1b[31mmlp"), "unknown model"),
    (lambda c: c.update(model="mlp"), "no run config"),
    (lambda c: c.update(input_spec={"shape": "x", "dtype": "object"}), "input_spec is malformed"),
    (lambda c: c.update(data={"name": "text", "path": "/dev/zero"}), "not a regular file"),
    (lambda c: c.update(metrics="accuracy"), "'metrics' must be a list"),
])
def test_checkpoint_config_values_checked(run, tmp_path, capsys, edit, match):
    evil = _craft(run, tmp_path, "evil.safetensors", lambda ck: edit(ck["config"]))
    _refused(["predict", evil, run["x"]], capsys, where=tmp_path, match=match)


def test_empty_tensor_with_a_huge_dimension_does_not_raise_the_size_cap(run, tmp_path, capsys):
    def edit(ck):
        ck["model"]["big"] = ember.zeros(10 ** 9, 0)        # 0 bytes in the file, a 10**9 dimension
        ck["config"]["model"]["hidden"] = [10 ** 9]
    evil = _craft(run, tmp_path, "evil.safetensors", edit)
    _refused(["predict", evil, run["x"]], capsys, where=tmp_path, match="larger than any tensor")


def test_checkpoint_weights_that_are_not_a_state_dict(run, tmp_path, capsys):
    evil = _craft(run, tmp_path, "evil.safetensors", lambda ck: ck.update(model=["not", "a", "state_dict"]))
    _refused(["evaluate", evil], capsys, match="not a state_dict")
    evil = _craft(run, tmp_path, "evil2.safetensors",
                  lambda ck: ck.update(model={k: ember.zeros(3) for k in ck["model"]}))
    _refused(["evaluate", evil], capsys, match="weights do not fit")


# -- malformed safetensors files -----------------------------------------------------------------------------------
def _st(header: dict, data: bytes = b"", length: int | None = None) -> bytes:
    raw = json.dumps(header).encode()
    return (len(raw) if length is None else length).to_bytes(8, "little") + raw + data


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


MALFORMED = {
    "empty": b"",
    "truncated": None,                      # filled in from the real checkpoint
    "header_length_short": _st({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4, length=10),
    "header_length_huge": (2 ** 63).to_bytes(8, "little") + b"{}",
    "header_length_just_past_the_end": _st({}, length=10 ** 6),
    "non_utf8_header": (4).to_bytes(8, "little") + b"\xff\xfe\xfa\xfb",
    "header_not_an_object": _st([1, 2, 3]),
    "dtype_lie_size": _st({"a": {"dtype": "F64", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8),
    "dtype_unknown": _st({"a": {"dtype": "O", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8),
    "dtype_not_a_string": _st({"a": {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),
    "shape_negative": _st({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4),
    "shape_100_dims": _st({"a": {"dtype": "U8", "shape": [1] * 100, "data_offsets": [0, 1]}}, b"\0"),
    "shape_huge": _st({"a": {"dtype": "F32", "shape": [2 ** 40, 2 ** 40], "data_offsets": [0, 4]}}, b"\0" * 4),
    "offsets_out_of_range": _st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 4),
    "offsets_reversed": _st({"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}}, b"\0" * 8),
    "offsets_bool": _st({"a": {"dtype": "U8", "shape": [1], "data_offsets": [False, True]}}, b"\0"),
    "overlapping_buffers": _st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12),
    "nested_100000_in_header": (200_000).to_bytes(8, "little") + _nested(100_000).encode(),
    "nested_100000_in_metadata": _st({"__metadata__": {"ember.format": "1", "ember.structure": _nested(100_000)}}),
    "nested_500_in_metadata": _st({"__metadata__": {"ember.format": "1", "ember.structure": _nested(500)}}),
    "metadata_not_strings": _st({"__metadata__": {"ember.structure": {"a": 1}}}),
    "metadata_bad_float": _st({"__metadata__": {"ember.format": "1", "ember.structure": '{"__float__": "1e9999x"}'}}),
    "metadata_object_dtype": _st({"__metadata__": {"ember.format": "1", "ember.structure": '{"__dtype__": "O"}'}}),
    "metadata_list_key": _st({"__metadata__": {"ember.format": "1",
                                               "ember.structure": '{"__dict__": [[[1], 2]]}'}}),
    "metadata_missing_tensor": _st({"__metadata__": {"ember.format": "1", "ember.structure": '{"__tensor__": "x"}'}}),
    "plain_state_dict_not_a_checkpoint": _st({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),
    "random_bytes": bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
    "pickle": b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94.",
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_safetensors_refused(run, tmp_path, capsys, kind):
    data = MALFORMED[kind]
    if data is None:
        data = run["ck"].read_bytes()[:1000]
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(data)
    for argv in (["evaluate", bad], ["predict", bad, run["x"]], ["train", run["cfg"], "-q", "--resume", bad]):
        _refused(argv, capsys, where=tmp_path)


@pytest.mark.parametrize("kind", ["nested_100000_in_header", "nested_100000_in_metadata", "overlapping_buffers",
                                  "shape_100_dims",
                                  "nested_500_in_metadata", "dtype_not_a_string", "metadata_list_key"])
def test_ember_load_raises_checkpoint_error(tmp_path, kind):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(MALFORMED[kind])
    with pytest.raises(ember.io.CheckpointError, match="bad.safetensors"):
        ember.load(bad)


def test_save_refuses_runaway_nesting(tmp_path):
    deep: list = []
    node = deep
    for _ in range(2000):
        node.append([])
        node = node[0]
    with pytest.raises(ValueError, match="nests more than"):
        ember.save(deep, tmp_path / "deep.safetensors")
    assert not any(tmp_path.iterdir())


def test_non_files_refused(run, tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)                     # opening it would block forever
    folder = tmp_path / "folder"
    folder.mkdir()
    for path in (folder, "/dev/zero", fifo):
        _refused(["evaluate", path], capsys)
        _refused(["predict", run["ck"], path], capsys)
        _refused(["train", path], capsys)
    with pytest.raises(ember.io.CheckpointError, match="not a regular file"):
        ember.load("/dev/zero")


# -- the wrong kind of file in the wrong place ---------------------------------------------------------------------
def test_binary_file_as_config(run, tmp_path, capsys):
    _refused(["train", run["ck"]], capsys, match="not a TOML config")
    png = tmp_path / "x.toml"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    _refused(["train", png], capsys, match="not a TOML config")
    nul = tmp_path / "nul.toml"
    nul.write_bytes(b"seed = 0\n\0\0\0")
    _refused(["train", nul], capsys, match="NUL")
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 100_000 + "]" * 100_000)
    _refused(["train", deep], capsys)


@pytest.mark.parametrize("kind,content,match", [
    ("png", b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG image"),
    ("jpeg", b"\xff\xd8\xff\xe0" + bytes(100), "JPEG image"),
    ("pickle", b"\x80\x04\x95" + bytes(100), "pickle"),
    ("text", b"1 2 3\n4 5 6\n", "not a NumPy .npy file"),
    ("npz", None, "zip/.npz archive"),
    ("object_npy", None, "Python objects"),
    ("truncated_npy", None, "truncated"),
    ("huge_shape_npy", None, "truncated"),
    ("string_npy", None, "expected numbers"),
    ("bad_header_npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': 1}    \n", "corrupt .npy header"),
    ("checkpoint", None, "safetensors checkpoint"),
])
def test_predict_input_files(run, tmp_path, capsys, kind, content, match):
    path = tmp_path / f"input.{kind}"
    if kind == "npz":
        np.savez(path, x=np.zeros((2, 1, 8, 8), np.float32))      # (savez keeps a name ending in .npz)
    elif kind == "object_npy":
        np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
        path = pathlib.Path(str(path) + ".npy")
    elif kind == "truncated_npy":
        np.save(path, np.zeros((100, 1, 8, 8), np.float32))
        path = pathlib.Path(str(path) + ".npy")
        path.write_bytes(path.read_bytes()[:2000])
    elif kind == "huge_shape_npy":
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 64), }"
        header += " " * (-(len(header) + 11) % 64) + "\n"
        path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    elif kind == "string_npy":
        np.save(path, np.array(["a", "b"]))
        path = pathlib.Path(str(path) + ".npy")
    elif kind == "checkpoint":
        path = run["ck"]
    else:
        path.write_bytes(content)
    _refused(["predict", run["ck"], path], capsys, where=tmp_path, match=match)


def test_evaluate_npz_with_objects_or_bad_labels(run, tmp_path, capsys):
    obj = tmp_path / "obj.npz"
    np.savez(obj, x=np.array([None, {"a": 1}], dtype=object), y=np.arange(2))
    _refused(["evaluate", run["ck"], "--data", obj], capsys, match="never unpickles")
    nan = tmp_path / "nan.npz"
    np.savez(nan, x=np.full((2, 1, 8, 8), np.nan, np.float32), y=np.arange(2))
    _refused(["evaluate", run["ck"], "--data", nan], capsys, match="NaN")
    labels = tmp_path / "labels.npz"
    np.savez(labels, x=np.zeros((2, 1, 8, 8), np.float32), y=np.array([0, 12]))
    _refused(["evaluate", run["ck"], "--data", labels], capsys, match="labels must be in 0..9")
    notzip = tmp_path / "notzip.npz"
    notzip.write_bytes(b"PK\x03\x04garbage")
    _refused(["evaluate", run["ck"], "--data", notzip], capsys)
    single = tmp_path / "single.npz"
    np.save(single, np.zeros(3))
    os.replace(str(single) + ".npy", single)
    _refused(["evaluate", run["ck"], "--data", single], capsys)


# -- outputs that are not regular files ----------------------------------------------------------------------------
def test_saving_to_a_fifo_writes_into_it_and_keeps_it(tmp_path):
    """A device or FIFO as the destination (``--output /dev/null``) is written into, as ``open`` would, never
    replaced by a renamed temporary file (which would swap the device node itself for a file)."""
    import stat
    import threading
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    ember.save({"w": ember.ones(3)}, fifo)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got and got[0][8:9] == b"{" and sorted(os.listdir(tmp_path)) == ["fifo"]


def test_saving_through_a_symlink_keeps_the_link(tmp_path):
    target = tmp_path / "real.safetensors"
    link = tmp_path / "link.safetensors"
    link.symlink_to(target)
    ember.save({"w": ember.ones(2)}, link)
    assert link.is_symlink() and target.is_file()
    assert ember.load(link)["w"].tolist() == [1.0, 1.0]


def test_predict_output_to_a_fifo(run, tmp_path, capsys):
    import stat
    import threading
    fifo = tmp_path / "out.npy"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    assert cli.main(["predict", str(run["ck"]), str(run["x"]), "--output", str(fifo)]) == 0
    reader.join(timeout=30)
    capsys.readouterr()
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and got and got[0].startswith(b"\x93NUMPY")


def test_wrong_files_through_a_subprocess(run, tmp_path):
    """The issue's two cases as a user meets them: a checkpoint given as a config, a PNG given to predict."""
    png = tmp_path / "digit.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    for argv, match in ((["train", str(run["ck"])], "not a TOML config"),
                        (["predict", str(run["ck"]), str(png)], "PNG image")):
        r = subprocess.run([sys.executable, "-m", "ember.cli", *argv], capture_output=True, text=True, cwd=tmp_path,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
        assert r.returncode == 2 and r.stderr.startswith("ember: error:") and r.stderr.count("\n") == 1, r.stderr
        assert match in r.stderr and "allow_pickle" not in r.stderr and "Traceback" not in r.stderr
        assert sorted(os.listdir(tmp_path)) == ["digit.png"]


def test_mutated_checkpoint_configs_fail_cleanly(run, tmp_path, capsys):
    """60 checkpoints whose saved config has values swapped for others of any type (None, NaN, huge ints, code
    names, empty tables, ...): evaluate and predict either work or print one line; never a traceback."""
    import copy
    import random
    base = ember.load(run["ck"])
    values = [None, 0, -1, 2 ** 40, 1.5, float("nan"), float("inf"), "", "os:system", "x" * 5000, [], [1, 2], {},
              {"name": "os:system"}, True, [None], {"a": [{}]}]

    def paths(obj, pre=()):
        items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
        for k, v in items:
            yield pre + (k,)
            yield from paths(v, pre + (k,))
    where = list(paths(base["config"]))
    rng = random.Random(0)
    for _ in range(60):
        ck = dict(base, config=copy.deepcopy(base["config"]))
        for _ in range(rng.randint(1, 3)):
            *parents, last = rng.choice(where)
            node = ck["config"]
            try:
                for k in parents:
                    node = node[k]
                node[last] = rng.choice(values)
            except (KeyError, IndexError, TypeError):
                pass
        ember.save(ck, tmp_path / "m.safetensors")
        for argv in (["evaluate", tmp_path / "m.safetensors"], ["predict", tmp_path / "m.safetensors", run["x"]]):
            code = cli.main([str(a) for a in argv])
            out, err = capsys.readouterr()
            assert code == 0 or (code == 2 and err.startswith("ember: error:") and err.count("\n") == 1), (argv, err)


def test_npz_zip_bomb_refused_before_reading(run, tmp_path, capsys, monkeypatch):
    """A compressed .npz whose arrays expand far beyond the file (here 16 MB of zeros from a ~16 KB file, with
    the limit lowered so the test stays small) is refused from the archive's directory, before decompressing."""
    import ember.cli._inputs as inputs_module
    monkeypatch.setattr(inputs_module, "_NPZ_MAX_BYTES", 1 << 20)
    bomb = tmp_path / "bomb.npz"
    np.savez_compressed(bomb, x=np.zeros((65536, 1, 8, 8), np.float32), y=np.zeros(65536, np.int64))
    assert os.path.getsize(bomb) < 200_000
    _refused(["evaluate", run["ck"], "--data", bomb], capsys, match="would expand to")


class _Exploit:
    """Pickles to a call of os.system (what a hostile torch.save file holds)."""

    def __init__(self, canary):
        self.canary = str(canary)

    def __reduce__(self):
        return (os.system, (f"touch {self.canary}",))


def test_hostile_torch_pickle_as_checkpoint(run, tmp_path, capsys):
    """A .pt file (torch.save's zip + pickle) whose pickle calls os.system: ember.load's allow-listed unpickler
    refuses it by name; the CLI prints one line and the canary never appears."""
    torch = pytest.importorskip("torch")
    canary = tmp_path / "canary"
    evil = tmp_path / "evil.pt"
    torch.save({"ember_checkpoint": 1, "model": _Exploit(canary)}, evil)
    assert not canary.exists()
    for argv in (["evaluate", evil], ["predict", evil, run["x"]], ["train", run["cfg"], "-q", "--resume", evil]):
        _refused(argv, capsys, canary=canary)


def test_whole_module_file_as_checkpoint(run, tmp_path, capsys):
    """ember.save(model) names the model's classes; loading it without weights_only=False imports nothing, so
    the CLI (which never passes it) refuses the file with one line."""
    saved = tmp_path / "module.safetensors"
    ember.save(ember.nn.Linear(2, 2), saved)
    for argv in (["evaluate", saved], ["predict", saved, run["x"]]):
        _refused(argv, capsys)
