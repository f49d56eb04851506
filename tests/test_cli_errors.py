"""Every user mistake with the ``ember`` command is one ``ember: error:`` line, exit code 2, before any training
and without writing anything: the command line (--version, --threads 0), configs (empty, wrong types, NaN
learning rates, folders), the output folder (missing parent, a file, read-only), --resume with another model's
checkpoint, a model with fewer outputs than the data has classes, and predict/evaluate inputs that do not match
what the model was trained on (shape, NaN, 0-255 pixels for a [0, 1] model)."""
import errno
import os
import tempfile

import numpy as np
import pytest

from ember import cli

from test_cli import TINY  # the 1-epoch MLP on 8x8 digits (tests/ is on sys.path)


def _error(argv, capsys, match=None, where=None):
    before = sorted(os.listdir(where)) if where is not None else None
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, (argv, code, out, err)
    assert err.startswith("ember: error: ") and err.count("\n") == 1, err
    if match is not None:
        assert match in err, err
    if where is not None:
        assert sorted(os.listdir(where)) == before
    return err


def _config(tmp_path, text=None, name="c.toml"):
    path = tmp_path / name
    path.write_text(TINY.format(out=(tmp_path / "runs").as_posix()) if text is None else text)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    cfg = d / "tiny.toml"
    cfg.write_text(TINY.format(out=(d / "runs").as_posix()))
    assert cli.main(["train", str(cfg), "-q"]) == 0
    (folder,) = [p for p in (d / "runs").iterdir() if not p.name.startswith(".")]
    return {"dir": d, "ck": folder / "checkpoint.safetensors", "cfg": cfg}


def test_version(capsys):
    import ember
    assert cli.main(["--version"]) == 0
    out, _ = capsys.readouterr()
    assert out.strip() == f"ember {ember.__version__}"


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_threads_must_be_positive(tmp_path, capsys, value):
    _error(["train", _config(tmp_path), "--threads", value], capsys, "--threads", where=tmp_path)
    _error(["demo", "--threads", value], capsys, "--threads")


def test_epochs_flag_must_be_positive(tmp_path, capsys):
    _error(["train", _config(tmp_path), "--epochs", "0"], capsys, "--epochs", where=tmp_path)


@pytest.mark.parametrize("edit,match", [
    (lambda t: "", "missing section [model]"),
    (lambda t: "# nothing but a comment\n", "missing section [model]"),
    (lambda t: t.replace("lr = 0.01", "lr = nan"), "'optimizer.lr' must be a positive number"),
    (lambda t: t.replace("lr = 0.01", "lr = inf"), "'optimizer.lr' must be a positive number"),
    (lambda t: t.replace("lr = 0.01", "lr = true"), "'optimizer.lr' must be a positive number"),
    (lambda t: t.replace("seed = 0", "seed = 0\ngrad_clip = nan"), "'grad_clip' must be > 0"),
    (lambda t: t.replace("seed = 0", "seed = -1"), "'seed' must be a non-negative integer"),
    (lambda t: t.replace("batch_size = 64", "batch_size = 6.4"), "'batch_size' must be int"),
    (lambda t: "model = \"mlp\"\n" + t.replace("[model]\nname = \"mlp\"\nhidden = [32]", ""),
     "'model' must be a table"),
    (lambda t: t.replace("name = \"mlp\"\n", ""), "[model] needs a 'name' key"),
    (lambda t: t.replace("size = 8", "size = 8\nval_fraction = 1.5"), "'data.val_fraction' must be a number in [0, 1)"),
    (lambda t: t.replace("lr = 0.01", "lr = 0.01\nmomentom = 0.9"), "optimizer:"),
    (lambda t: t + "\n[scheduler]\nname = \"warp\"\n", "'scheduler.name' is 'warp'"),
    (lambda t: t + "\n[scheduler]\nname = \"step\"\nstep_sizee = 2\n", "scheduler 'step'"),
    (lambda t: t + "\n[early_stopping]\npatience = \"x\"\n", "'early_stopping.patience' must be a non-negative"),
    (lambda t: t + "\n[early_stopping]\nmode = \"sideways\"\n", "'early_stopping.mode' must be 'auto', 'min'"),
    (lambda t: t.replace("metrics = [\"accuracy\"]", "metrics = [3]"), "each metric must be a name"),
    (lambda t: t.replace("metrics = [\"accuracy\"]", "metrics = [{name = \"f1\", averge = \"macro\"}]"),
     "metric 'f1': bad arguments"),
    (lambda t: t.replace("hidden = [32]", "hidden = [32]\nnum_classes = 3").replace("\"mlp\"", "\"lenet5\""),
     "model.num_classes = 3, but the data has 10 classes"),
    (lambda t: t.replace("hidden = [32]", "out_features = 3"), "model.out_features = 3, but the data has 10"),
    (lambda t: "\ufeff" + t, "not valid TOML"),
    (lambda t: t.replace("seed = 0", "seed = 0\nloss = \"mse\""), "loss 'mse' does not fit the model's outputs"),
    (lambda t: t.replace("[\"accuracy\"]", "[\"mae\"]"), "metric 'mae' does not fit the model's outputs"),
    (lambda t: t.replace("output = ", "output = \"\"\n#"), "'output' must not be empty"),
    (lambda t: t.replace("seed = 0", "seed = 0\nloss = [\"mse\"]"), "'loss' must be a string or a table"),
    (lambda t: t.replace("lr = 0.01", "lr = 0.01\nbetas = 3"), "optimizer:"),
    (lambda t: t + "\n[scheduler]\nname = [\"step\"]\n", "'scheduler.name' is ['step']"),
    (lambda t: t.replace("name = \"digits\"\nsize = 8", "name = \"synthetic\"\nkind = {a = 1}"), "'data.kind' is {"),
])
def test_config_mistakes(tmp_path, capsys, edit, match):
    cfg = _config(tmp_path, edit(TINY.format(out=(tmp_path / "runs").as_posix())))
    _error(["train", cfg, "-q"], capsys, match, where=tmp_path)
    assert not (tmp_path / "runs").exists()


def test_config_that_is_a_folder_or_missing(tmp_path, capsys):
    _error(["train", tmp_path], capsys, "is a folder")
    _error(["train", tmp_path / "nope.toml"], capsys, "not found")


def test_user_model_with_too_few_outputs_fails_before_training(tmp_path, capsys):
    """The model's own output size (not a config key) is checked against the labels with one forward pass."""
    (tmp_path / "three.py").write_text("from ember import nn\n\n"
                                       "class Net(nn.Module):\n"
                                       "    def __init__(self):\n"
                                       "        super().__init__()\n"
                                       "        self.fc = nn.Linear(64, 3)\n\n"
                                       "    def forward(self, x):\n"
                                       "        return self.fc(x.flatten(1))\n")
    cfg = _config(tmp_path, TINY.format(out=(tmp_path / "runs").as_posix()).replace('"mlp"', '"three.py:Net"')
                  .replace("hidden = [32]", ""))
    _error(["train", cfg, "-q"], capsys, "outputs 3 class scores, but the data has 10 classes")
    assert not (tmp_path / "runs").exists()
    wrong = _config(tmp_path, TINY.format(out=(tmp_path / "runs").as_posix()).replace('"mlp"', '"mlp"\nin_features = 5'),
                    "wrong.toml")
    _error(["train", wrong, "-q"], capsys, "does not accept the data's inputs of shape (1, 8, 8)")
    assert not (tmp_path / "runs").exists()


def test_model_code_spec_errors(tmp_path, capsys):
    cfg = _config(tmp_path)
    _error(["train", cfg, "--model-code", "nocolon"], capsys, "expected FILE.py:CLASS or MODULE:ATTR")
    _error(["train", cfg, "--model-code", "missing.py:Net"], capsys, "not found")
    (tmp_path / "broken.py").write_text("raise ImportError('boom')\n")
    _error(["train", cfg, "--model-code", f"{tmp_path / 'broken.py'}:Net"], capsys, "importing")
    _error(["train", cfg, "--model-code", "nosuchpkg.mod:Net"], capsys, "cannot import module 'nosuchpkg.mod'")


# -- the output folder ---------------------------------------------------------------------------------------------
def test_output_parent_missing(tmp_path, capsys):
    cfg = _config(tmp_path)
    _error(["train", cfg, "--output", tmp_path / "no" / "such" / "runs"], capsys, "parent folder", where=tmp_path)


def test_output_is_a_file(tmp_path, capsys):
    cfg = _config(tmp_path)
    (tmp_path / "afile").write_text("x")
    _error(["train", cfg, "--output", tmp_path / "afile"], capsys, "is not a folder", where=tmp_path)
    _error(["train", cfg, "--output", tmp_path / "afile" / "runs"], capsys, "(it is a file)", where=tmp_path)


def test_output_read_only(tmp_path, capsys, monkeypatch):
    cfg = _config(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() != 0:
        os.chmod(ro, 0o555)
    else:                               # root writes anywhere: inject the error a read-only folder gives
        real = tempfile.mkstemp

        def mkstemp(*a, dir=None, **k):
            if dir is not None and os.path.abspath(dir).startswith(str(ro)):
                raise PermissionError(errno.EACCES, "Permission denied")
            return real(*a, dir=dir, **k)
        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    try:
        _error(["train", cfg, "--output", ro], capsys, "cannot write in folder", where=tmp_path)
        _error(["train", cfg, "--output", ro / "runs"], capsys, "cannot write in folder", where=tmp_path)
        assert not (ro / "runs").exists()
    finally:
        os.chmod(ro, 0o755)


# -- --resume --------------------------------------------------------------------------------------------------------
def test_resume_with_another_models_checkpoint(run, tmp_path, capsys):
    other = _config(tmp_path, TINY.format(out=(tmp_path / "runs").as_posix()).replace("hidden = [32]", "hidden = [8]"))
    err = _error(["train", other, "-q", "--resume", run["ck"]], capsys, "--resume")
    assert "hidden" in err
    assert not (tmp_path / "runs").exists()


def test_resume_missing_or_not_a_checkpoint(run, tmp_path, capsys):
    cfg = _config(tmp_path)
    _error(["train", cfg, "--resume", tmp_path / "nope.safetensors"], capsys, "not found")
    _error(["train", cfg, "--resume", run["cfg"]], capsys, "--resume")


# -- evaluate / predict inputs ---------------------------------------------------------------------------------------
def _npy(tmp_path, name, array):
    path = tmp_path / name
    np.save(path, array)
    return path


def test_predict_checks_shape(run, tmp_path, capsys):
    x = _npy(tmp_path, "x.npy", np.zeros((4, 3, 8, 8), np.float32))
    err = _error(["predict", run["ck"], x], capsys, "(4, 3, 8, 8)")
    assert "(1, 8, 8)" in err and "expected (N, 1, 8, 8)" in err
    x = _npy(tmp_path, "y.npy", np.zeros((4, 28, 28), np.float32))
    _error(["predict", run["ck"], x], capsys, "expected (N, 1, 8, 8)")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_predict_refuses_nan_and_inf(run, tmp_path, capsys, bad):
    x = np.random.default_rng(0).random((4, 1, 8, 8)).astype(np.float32)
    x[2, 0, 3, 4] = bad
    _error(["predict", run["ck"], _npy(tmp_path, "x.npy", x)], capsys, "1 of 256 input values are NaN or infinite")


def test_predict_refuses_empty_and_float64_overflow(run, tmp_path, capsys):
    _error(["predict", run["ck"], _npy(tmp_path, "e.npy", np.zeros((0, 1, 8, 8), np.float32))], capsys, "no samples")
    big = np.full((2, 1, 8, 8), 1e300)                  # finite in float64, infinite in the model's float32
    _error(["predict", run["ck"], _npy(tmp_path, "b.npy", big)], capsys, "NaN or infinite (in float32")


def test_predict_refuses_0_255_pixels_unless_allowed(run, tmp_path, capsys):
    x = _npy(tmp_path, "x.npy", (np.random.default_rng(0).random((4, 8, 8)) * 255).astype(np.uint8))
    _error(["predict", run["ck"], x], capsys, "divide by 255")
    assert cli.main(["predict", str(run["ck"]), str(x), "--allow-out-of-range"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("ember: warning:") and "divide by 255" in err and len(out.split()) == 4


def test_predict_accepts_what_training_saw(run, tmp_path, capsys):
    """(N, 1, 8, 8), (N, 8, 8) and one (8, 8) sample in [0, 1]: no warning; integer 0/1 inputs are in range."""
    rng = np.random.default_rng(0)
    for shape, n in (((5, 1, 8, 8), 5), ((5, 8, 8), 5), ((8, 8), 1)):
        x = _npy(tmp_path, "x.npy", rng.random(shape).astype(np.float32))
        assert cli.main(["predict", str(run["ck"]), str(x)]) == 0
        out, err = capsys.readouterr()
        assert len(out.split()) == n and err == ""
    x = _npy(tmp_path, "b.npy", rng.integers(0, 2, (2, 1, 8, 8)).astype(np.int64))
    assert cli.main(["predict", str(run["ck"]), str(x)]) == 0
    capsys.readouterr()


def test_predict_output_checked_before_predicting(run, tmp_path, capsys):
    x = _npy(tmp_path, "x.npy", np.zeros((2, 1, 8, 8), np.float32))
    _error(["predict", run["ck"], x, "--output", tmp_path / "no" / "l.npy"], capsys, "does not exist")
    _error(["predict", run["ck"], x, "--output", tmp_path], capsys, "is a folder")


def test_predict_help_states_expected_input(run, capsys):
    assert cli.main(["predict", "--help"]) == 0
    out, _ = capsys.readouterr()
    assert "NaN" in out and "rescaled" in out and "--allow-out-of-range" in out
    assert cli.main(["predict", str(run["ck"]), "--help"]) == 0
    out, _ = capsys.readouterr()
    assert "This checkpoint expects (N, 1, 8, 8) float32 with values in [0, 1]" in out


def test_evaluate_data_mistakes(run, tmp_path, capsys):
    _error(["evaluate", run["ck"], "--data", "cifar"], capsys, "expected one of digits")
    _error(["evaluate", run["ck"], "--data", "mnist:/no/such/folder"], capsys, "data.path")
    np.savez(tmp_path / "d.npz", x=np.zeros((3, 1, 8, 8), np.float32), y=np.arange(4))
    _error(["evaluate", run["ck"], "--data", tmp_path / "d.npz"], capsys, "one label per input")
    np.savez(tmp_path / "e.npz", x=np.zeros((3, 1, 8, 8), np.float32))
    _error(["evaluate", run["ck"], "--data", tmp_path / "e.npz"], capsys, "must hold arrays 'x' and 'y'")
    np.savez(tmp_path / "f.npz", x=np.full((3, 1, 8, 8), 200.0, np.float32), y=np.arange(3))
    _error(["evaluate", run["ck"], "--data", tmp_path / "f.npz"], capsys, "far outside")


def test_usage_mistakes(capsys):
    _error([], capsys, "missing command")
    _error(["frobnicate"], capsys, "invalid choice")
    _error(["predict"], capsys, "required")
    _error(["evaluate", "--data"], capsys, "expected one argument")
