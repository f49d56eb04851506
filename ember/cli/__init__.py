"""The ``ember`` command: ``demo``, ``train CONFIG.toml``, ``evaluate``, ``predict`` and ``info``.

    ember demo                              # LeNet-5 on the built-in Digits, offline, about 10 seconds
    ember train configs/digits.toml         # a run described by a TOML file (see configs/)
    ember evaluate RUN/checkpoint.safetensors [--data digits | mnist:PATH | DATA.npz]
    ember predict RUN/checkpoint.safetensors INPUT.npy [--output LOGITS.npy]
    ember info                              # version, backend, BLAS, threads

Anything wrong with the command line, a config, a checkpoint or a data file prints one line
``ember: error: ...`` (what, where, what was expected) and exits with code 2, writing nothing.  A run writes
into ``<output>/<timestamp>/`` from its start (config.toml, then last.safetensors after every epoch); Ctrl-C or
SIGTERM saves it there (exit code 130 / 143), and after any kill ``ember train --resume RUN_DIR`` continues it
(see ember.cli.run for the exit codes of a diverged run, 3, and of a failed write, 74).

No file chooses code: a model name read from a checkpoint (or a run folder's config.toml) must be in ember's
registry (``ember.models``) unless the user names that code with ``--model-code FILE.py:CLASS``; the user's own
TOML config may name ``"module:attr"`` or ``"file.py:Class"``.  Every other name a file holds (optimizer, loss,
metric, scheduler, dataset, synthetic kind) is looked up in a fixed table, and the sizes a checkpoint's config
asks for are capped by its own tensors before anything is built.  ``predict``/``evaluate`` check inputs against
the ``input_spec`` saved at training time (per-sample shape, dtype, value range): NaN/inf and wrong shapes are
errors, values far outside the training range are errors unless ``--allow-out-of-range``; nothing is rescaled.
"""
from __future__ import annotations

import argparse
import os
import sys

from .config import show, regular_file  # noqa: F401
from .config import (CLIError, TOP_KEYS, DATASETS, SYNTHETIC_KINDS, LOSSES, OPTIMIZERS, SCHEDULERS,  # noqa: F401
                     IMAGE_OPTIONS, EARLY_STOPPING_KEYS, validate_config, load_config, build_metric,
                     is_classification, uses_training_step, learns_by_gradient)
from .build import build_data, build_model, build_loss, build_optimizer, build_scheduler  # noqa: F401
from .build import evaluation_heads, head_predictions
from .run import run_training, DEMO_CONFIG, EXIT_INTERRUPTED, _fmt, _format_confusion, resume_config
from . import _nproc
from ._inputs import (_legacy_spec, _describe_spec, _check_inputs, _read_array, _eval_data,  # noqa: F401
                      _eval_data_section, _one_line)

__all__ = ["main", "CLIError", "validate_config", "load_config", "build_data", "build_model", "run_training"]

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):           # one line instead of argparse's usage block
        raise CLIError(f"{message} (see 'ember {self.prog.split()[-1] if ' ' in self.prog else ''} --help')"
                       .replace("'ember  --help'", "'ember --help'"))


def _limit_threads(n: int | None) -> None:
    """Pin BLAS to ``n`` threads (small GEMMs run fastest on one thread, and much faster on a busy machine)."""
    if n is None:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    from ..backend import np
    np.ones((2, 2)) @ np.ones((2, 2))      # make sure the BLAS library is loaded before limiting it
    threadpool_limits(n)


# -- files the user names ------------------------------------------------------------------------------------------
def _regular_file(path: str, what: str) -> None:
    regular_file(path, what)


def _checkpoint_file(path: str, what: str = "checkpoint",
                     names=("checkpoint.safetensors", "best.safetensors", "last.safetensors")) -> str:
    """The checkpoint file ``path`` names: the file itself, or in a run folder the first of ``names`` there."""
    if os.path.isdir(path):
        for name in names:
            if os.path.isfile(os.path.join(path, name)):
                return os.path.join(path, name)
        raise CLIError(f"{what} {path} is a folder with no {' or '.join(names)} in it")
    _regular_file(path, what)
    return path


def _probe_writable(folder: str, what: str) -> None:
    import tempfile
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ember-write-test-")
    except OSError as e:
        raise CLIError(f"{what}: cannot write in folder {folder} ({e.strerror})") from None
    os.close(fd)
    os.unlink(tmp)


def _check_output_folder(output: str, what: str) -> None:
    """Before any training: the output folder must be a writable folder, or creatable (its parent exists and is a
    writable folder); nothing is created here."""
    path = os.path.abspath(os.path.expanduser(output))
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise CLIError(f"{what}: {output} exists and is not a folder")
        _probe_writable(path, what)
        return
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        raise CLIError(f"{what}: cannot create {output}: its parent folder {parent} does not exist"
                       + (" (it is a file)" if os.path.exists(parent) else ""))
    _probe_writable(parent, what)


def _check_output_file(path: str, what: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CLIError(f"{what}: folder {folder} does not exist")
    if os.path.isdir(path):
        raise CLIError(f"{what}: {path} is a folder; give a file name such as logits.npy")
    _probe_writable(folder, what)


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {n}")
    return n


# -- checkpoints for evaluate / predict: nothing in them chooses code ----------------------------------------------
_DERIVED_INTS = ("num_classes", "input_size", "channels", "features", "seq_len")
_SPEC_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "float16",
                "float32", "float64")


def _weights(ck, path: str) -> dict:
    from ..tensor import Tensor
    w = ck.get("model")
    if not isinstance(w, dict) or not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in w.items()):
        raise CLIError(f"{path}: the checkpoint's 'model' entry is not a state_dict (names -> tensors)")
    return w


def _check_sizes(cfg: dict, weights: dict, path: str) -> None:
    """Sizes in a checkpoint's config decide how much memory building its model takes: each must be a plain
    value no larger than the checkpoint's own tensors suggest (at least 4096), lists at most 256 long."""
    cap = max([4096] + [int(d) for t in weights.values() if t.numel() for d in t.shape])     # real data only

    def check(where, v, depth=0):
        if isinstance(v, bool) or v is None or isinstance(v, str) and len(v) <= 1000:
            return
        if isinstance(v, int):
            if not -cap <= v <= cap:
                raise CLIError(f"{path}: the saved config's {where} = {show(v)} is larger than any tensor in the "
                               f"checkpoint ({cap}); the file is corrupt or crafted")
            return
        if isinstance(v, float):
            return
        if isinstance(v, (list, tuple)) and depth == 0 and len(v) <= 256:
            for x in v:
                check(where, x, 1)
            return
        raise CLIError(f"{path}: the saved config's {where} = {show(v)} is not a plain value")

    for key, v in cfg["model"].items():
        check(f"model.{key}", v)
    metrics = cfg.get("metrics")
    for i, m in enumerate(metrics if isinstance(metrics, list) else []):   # {name = "confusion_matrix", ...}
        for key, v in (m.items() if isinstance(m, dict) else ()):
            check(f"metrics[{i}].{key}", v)
    for key, v in cfg["data"].items():                      # the evaluation data is built from these
        if key == "n_samples":
            if isinstance(v, int) and v > 10_000_000:
                raise CLIError(f"{path}: the saved config's data.n_samples = {v} is beyond what ember generates "
                               f"(10,000,000); the file is corrupt or crafted")
        elif key not in ("path", "root", "seed"):
            check(f"data.{key}", v)
    info = cfg.get("data_info")
    if info is not None:
        if not isinstance(info, dict):
            raise CLIError(f"{path}: the saved config's data_info is not a table")
        for key in _DERIVED_INTS:
            if key in info and (not isinstance(info[key], int) or isinstance(info[key], bool) or info[key] < 1):
                raise CLIError(f"{path}: the saved config's data_info.{key} = {show(info[key])} is not a positive "
                               f"integer")
            if key in info:
                check(f"data_info.{key}", info[key])
        if "vocab" in info and not (isinstance(info["vocab"], str) and 0 < len(info["vocab"]) <= cap):
            raise CLIError(f"{path}: the saved config's data_info.vocab is not a vocabulary string")
    c = cfg.get("classes", 10)
    if not isinstance(c, int) or isinstance(c, bool) or c < 1:
        raise CLIError(f"{path}: the saved config's classes = {show(c)} is not a positive integer")
    check("classes", c)


def _check_spec(spec, path: str):
    """The saved input_spec, checked, or None (checkpoints from before it was saved)."""
    import math
    if spec is None or spec == {}:
        return None
    ok = (isinstance(spec, dict) and isinstance(spec.get("shape"), list) and len(spec["shape"]) <= 8
          and all(d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 1 << 24)
                  for d in spec["shape"])
          and spec.get("dtype") in _SPEC_DTYPES
          and all(isinstance(spec.get(k), (int, float)) and not isinstance(spec.get(k), bool)
                  and math.isfinite(spec[k]) for k in ("min", "max")) and spec["min"] <= spec["max"])
    if not ok:
        raise CLIError(f"{path}: the saved config's input_spec is malformed: {show(spec)}")
    return spec


def _saved_config(ck: dict, path: str, model_code: str | None, data: dict | None = None, weights=None) -> dict:
    """The checkpoint's run config, re-checked against the fixed tables as if a config had been given; its
    model name must be in ember's registry unless the user named the code with ``--model-code``.  ``data``
    replaces the saved data section (``evaluate --data``).  Nothing here imports or downloads anything."""
    from .config import resolve_model, trust_model_code
    cfg = ck.get("config")
    if not isinstance(cfg, dict) or not isinstance(cfg.get("model"), dict) or not isinstance(cfg.get("data"), dict):
        raise CLIError(f"{path}: the checkpoint has no run config (model/data); it was not written by "
                       f"'ember train' or 'ember demo'")
    cfg = dict(cfg)
    name = cfg["model"].get("name")
    if not isinstance(name, str) or not name:
        raise CLIError(f"{path}: the saved config's model name is {show(name)}, not a name")
    if model_code is not None:
        trust_model_code(model_code, ".", "--model-code")
        if name != model_code and (":" not in name or name.rpartition(":")[2] != model_code.rpartition(":")[2]):
            raise CLIError(f"--model-code {model_code!r} does not match the checkpoint's model {show(name)} (the "
                           f"class names differ)")
        cfg["model"] = dict(cfg["model"], name=model_code)
    else:
        try:
            resolve_model(name)
        except (ValueError, TypeError) as e:
            raise CLIError(f"{path}: {e}") from None
    _check_sizes(cfg, weights if weights is not None else _weights(ck, path), path)     # before building anything
    user = {k: v for k, v in cfg.items() if k in TOP_KEYS}
    d = dict(cfg["data"] if data is None else data)
    d.pop("download", None)                 # a file never makes ember download
    src = f"{path} (saved run config" + (", data from --data)" if data is not None else ")")
    checked = validate_config(dict(user, data=d), src, user_code=False)
    for key in ("classes", "data_info", "input_spec", "features", "vocab"):
        if key in cfg:
            checked[key] = cfg[key]
    return checked


def _load_run(path: str, model_code: str | None = None, data: dict | None = None):
    """``(model, cfg)`` from a training checkpoint: the model rebuilt from its checked config, weights loaded."""
    from ..io import CheckpointError
    from ..train import load_checkpoint
    path = _checkpoint_file(path)
    try:
        ck = load_checkpoint(path)
    except CheckpointError as e:
        raise CLIError(str(e)) from None
    except (OSError, RecursionError, MemoryError) as e:
        raise CLIError(f"cannot load '{path}': {type(e).__name__}: {e}") from None
    weights = _weights(ck, path)
    cfg = _saved_config(ck, path, model_code, data, weights)
    cfg["input_spec"] = _check_spec(cfg.get("input_spec"), path)
    info = cfg.get("data_info")
    if not isinstance(info, dict):      # checkpoints from before data_info was saved
        info = {"num_classes": cfg.get("classes", 10), "input_size": cfg["data"].get("size", 28), "channels": 1}
        if isinstance(cfg.get("features"), int):
            info.update(features=cfg["features"], input_size=1)
        if cfg["data"].get("name") == "text":
            info.update(vocab=str(cfg.get("vocab", "")), seq_len=cfg["data"].get("seq_len", 100))
    info = dict(info)
    info.setdefault("num_classes", cfg.get("classes", 10))
    model = build_model(cfg, info)
    try:
        model.load_state_dict(weights)
    except (RuntimeError, ValueError, KeyError, TypeError) as e:
        raise CLIError(f"{path}: the weights do not fit the model in its config ({_one_line(e)})") from None
    model.eval()
    return model, cfg


def cmd_evaluate(args) -> int:
    from ..data import DataLoader
    from ..metrics import ConfusionMatrix
    from ..train import Trainer
    from ..io import CheckpointError
    from ..train import load_checkpoint
    data_section = None
    if args.data is not None and not args.data.endswith(".npz"):
        try:        # only the data section is read here: the checkpoint is checked in full by _load_run
            saved = (load_checkpoint(_checkpoint_file(args.checkpoint)).get("config") or {}).get("data")
        except (CheckpointError, OSError, RecursionError, AttributeError):
            saved = None
        data_section = _eval_data_section(args.data, saved)
    model, cfg = _load_run(args.checkpoint, args.model_code, data_section)
    ds = _eval_data(args.data, cfg, args.allow_out_of_range)
    classify = is_classification(cfg)
    metrics = [build_metric(m) for m in cfg.get("metrics", ["accuracy"])]
    classes = cfg.get("classes", 10)
    if classify and classes <= 20:
        metrics.append(ConfusionMatrix(num_classes=classes))
    heads = evaluation_heads(cfg, _checkpoint_file(args.checkpoint))     # one loss per head ({} otherwise)
    trainer = Trainer(model, build_loss(dict(cfg, label_smoothing=0.0)), metrics=heads.get("metrics", metrics),
                      loss_weights=heads.get("loss_weights"))
    try:
        res = trainer.evaluate(DataLoader(ds, batch_size=256))
    except (ValueError, TypeError, RuntimeError, IndexError) as e:
        raise CLIError(f"evaluate: the data does not fit the model ({_one_line(e)})") from None
    if args.data is None:                       # generated scenes: BLEU of the captions, mAP of the detections
        from ._scenes import scene_scores
        res.update(scene_scores(model, cfg))
    for k, v in res.items():
        if k != "confusion_matrix":
            print(f"{k}: {_fmt(v)}")
    if "confusion_matrix" in res:
        print(_format_confusion(res["confusion_matrix"]))
    return 0


def _predict_heads(args, cfg: dict, outs: dict) -> int:
    import io
    from ..backend import np
    from ..io.serialization import atomic_open
    if args.output:
        buf = io.BytesIO()
        np.savez(buf, **{h: v.numpy() for h, v in outs.items()})
        with atomic_open(args.output, "wb") as fh:
            fh.write(buf.getbuffer())
    for line in head_predictions(cfg, outs):
        print(line)
    return 0


def cmd_predict(args) -> int:
    from ..backend import np
    from .. import from_numpy
    from ..train import Trainer
    from .. import nn
    from ..autograd import no_grad
    model, cfg = _load_run(args.checkpoint, args.model_code)
    x = _read_array(args.input, "input file")
    x = np.ascontiguousarray(_check_inputs(x, cfg, args.input, args.allow_out_of_range))
    if args.output:
        _check_output_file(args.output, "--output")
    from ._scenes import scene_predictions
    lines = scene_predictions(model, cfg, x)    # generated scenes: a caption or the boxes per image
    if lines is not None:
        if args.output:                         # (as text: the lines printed below)
            from ..io.serialization import atomic_open
            with atomic_open(args.output, "w", encoding="utf-8") as fh:
                fh.write("".join(line + "\n" for line in lines))
        print("\n".join(lines))
        return 0
    try:
        logits = Trainer(model, nn.CrossEntropyLoss()).predict(from_numpy(x))
    except (ValueError, TypeError, RuntimeError, IndexError) as e:
        raise CLIError(f"{args.input}: the input does not fit the model ({_one_line(e)})") from None
    if isinstance(logits, dict):                # one output per head: an .npz of them, a line "head=value ..." each
        return _predict_heads(args, cfg, logits)
    out = logits.numpy()
    if args.output:
        import io
        from ..io.serialization import atomic_open
        buf = io.BytesIO()              # np.save seeks in real files; a pipe or device takes plain bytes
        np.save(buf, out)
        with atomic_open(args.output, "wb") as fh:
            fh.write(buf.getbuffer())
    if callable(getattr(model, "predict", None)):           # the model's own labels (e.g. Perceptron: +1/-1)
        with no_grad():
            pred = model.predict(from_numpy(x)).numpy()
        rows = pred.reshape(len(pred), -1)
        if rows.dtype.kind == "f" and np.all(rows == np.round(rows)):
            rows = rows.astype(np.int64)
    elif is_classification(cfg) and out.ndim >= 2:          # class labels (per pixel for segmentation)
        rows = out.argmax(axis=1).reshape(len(out), -1)
    elif cfg.get("loss") in ("bce_with_logits",):           # multi-label / binary: labels with logit > 0
        rows = (out > 0).astype(np.int64).reshape(len(out), -1)
    else:                                                   # regression and self-trained models: the outputs
        rows = out.reshape(len(out), -1)
    for row in rows:
        print(" ".join(str(int(v)) if rows.dtype.kind in "iub" else f"{float(v):.6g}" for v in row))
    return 0


def cmd_info(args) -> int:
    import platform
    from ..backend import np
    import ember
    print(f"ember {ember.__version__}")
    print(f"python {platform.python_version()} ({platform.system()} {platform.machine()})")
    print(f"backend: numpy {np.__version__} (CPU)")
    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")
        b = cfg.get("Build Dependencies", {}).get("blas", {})
        blas = f"{b.get('name', '?')} {b.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - older NumPy has no mode='dicts'
        pass
    print(f"BLAS: {blas}")
    threads = "unknown (install threadpoolctl)"
    try:
        from threadpoolctl import threadpool_info
        np.ones((2, 2)) @ np.ones((2, 2))
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            threads = ", ".join(f"{p['internal_api']} {p['num_threads']}" for p in pools)
    except ImportError:
        pass
    print(f"threads: {os.cpu_count()} CPUs; BLAS threads: {threads}; OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")
    from ..backend import memory
    print("memory: freed step temporaries kept for reuse (glibc malloc thresholds raised; EMBER_MALLOC_TUNING=0 "
          "turns it off)" if memory.tuned else "memory: the allocator's defaults")
    from ..ops import _ckernels
    print(f"compiled kernels: {_ckernels.status()}")
    extras = []
    for mod in ("tqdm", "matplotlib", "sklearn", "safetensors", "torch"):
        try:
            __import__(mod)
            extras.append(f"{mod} yes")
        except ImportError:
            extras.append(f"{mod} no")
    print("optional: " + ", ".join(extras))
    return 0


def _verbosity(args):
    if getattr(args, "quiet", False):
        return 0
    if getattr(args, "verbose", False):
        return 1
    return "auto"


PREDICT_HELP = """\
INPUT is a NumPy .npy array of inputs shaped as the model was trained on: (N, *sample_shape), or one sample
without the batch dimension; for one-channel images (N, H, W) is accepted for (N, 1, H, W).  Inputs are checked
against what the run was trained on (the checkpoint stores the per-sample shape, dtype and the min/max of the
training inputs): NaN or infinite values and a wrong shape are errors; values far outside the training range
(beyond it by more than the range's width, e.g. 0-255 pixels for a model trained on [0, 1]) are an error
unless --allow-out-of-range is given (then a warning).  Nothing is rescaled: scale inputs exactly as in
training (the built-in image datasets are float32 in [0, 1]).  'ember predict CHECKPOINT --help' shows the
checkpoint's own expected input.  The model is rebuilt from ember's model registry; a checkpoint naming other
code is refused unless you name that code with --model-code."""


def _parser(predict_spec: str | None = None) -> _Parser:
    import ember
    p = _Parser(prog="ember", description="ember: deep learning on NumPy with PyTorch's API")
    p.add_argument("--version", action="version", version=f"ember {ember.__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    d = sub.add_parser("demo", help="train LeNet-5 on the built-in Digits (offline, about 10 seconds)")
    t = sub.add_parser("train", help="train from a TOML config")
    t.add_argument("config", nargs="?", help="the run's TOML config (optional with --resume RUN_DIR)")
    t.add_argument("--resume", metavar="RUN", help="continue an interrupted run: its folder or checkpoint (it must "
                                                   "come from the same config)")
    t.add_argument("--epochs", type=_positive_int, help="override the config's epochs")
    t.add_argument("--output", help="override the config's output folder (its parent folder must exist)")
    t.add_argument("--summary", action="store_true", help="print the per-layer parameter table first (as "
                                                          "summary = true in the config)")
    t.add_argument("--diagnose", action="store_true", help="record unit and gradient health per layer into the "
                                                           "run folder for 'ember report' (as diagnose = true)")
    code_help = ("use your own model code, FILE.py:CLASS or MODULE:ATTR (ember never imports code named in a "
                 "checkpoint; for evaluate/predict it must name the class the checkpoint was trained with)")
    t.add_argument("--model-code", metavar="SPEC", help=code_help + "; replaces the config's model.name")
    t.add_argument("--device", help="train on this device: cpu (default), cuda or cuda:N (needs CuPy and a GPU); "
                                    "overrides the config's device")
    _nproc.add_arguments(t, _positive_int)          # --nproc N, --hostfile FILE
    for q in (d, t):
        q.add_argument("-q", "--quiet", action="store_true", help="print only the results")
        q.add_argument("-v", "--verbose", action="store_true", help="progress bar even when not on a terminal")
        q.add_argument("--threads", type=_positive_int, default=None, help="BLAS threads, >= 1 (default: 1 for "
                                                                           "demo)")
    e = sub.add_parser("evaluate", help="evaluate a checkpoint")
    e.add_argument("checkpoint")
    e.add_argument("--data", help="digits | mnist:PATH | fashion-mnist:PATH | FILE.npz (x, y); default: the "
                                  "run's test split.  A .npz is checked like predict's input")
    r = sub.add_parser("predict", help="predict classes for an .npy array of inputs",
                       description=PREDICT_HELP + (f"\n\nThis checkpoint expects {predict_spec}." if predict_spec
                                                   else ""),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("checkpoint")
    r.add_argument("input", help="a .npy array, " + (predict_spec or "(N, *sample_shape) as in training"))
    r.add_argument("--output", help="also save the logits to this .npy file")
    for q in (e, r):
        q.add_argument("--model-code", metavar="SPEC", help=code_help)
        q.add_argument("--allow-out-of-range", action="store_true",
                       help="inputs far outside the training range: warn instead of refusing (nothing is rescaled)")
    sub.add_parser("info", help="version, backend, BLAS, threads")
    rp = sub.add_parser("report", help="write RUN_DIR/report.html: one offline page with the run's curves, "
                                       "per-layer health and pictures")
    rp.add_argument("run_dir", metavar="RUN_DIR")
    rp.add_argument("--output", help="write the page here instead of RUN_DIR/report.html")
    return p


def _spec_for_help(argv: list) -> str | None:
    """For 'ember predict CHECKPOINT --help': the checkpoint's expected input, or None (never an error)."""
    if len(argv) < 2 or argv[0] != "predict" or not ({"-h", "--help"} & set(argv)) or argv[1].startswith("-"):
        return None
    try:
        from ..train import load_checkpoint
        cfg = load_checkpoint(_checkpoint_file(argv[1])).get("config") or {}
        spec = _check_spec(cfg.get("input_spec"), argv[1]) or _legacy_spec(cfg)
        return _describe_spec(spec) if spec else None
    except Exception:  # noqa: BLE001 - help must print whatever the file holds
        return None


def _check_resume(path: str, cfg: dict, src: str) -> None:
    """Before training: the --resume checkpoint must load and come from a run of the same model and data."""
    from ..io import CheckpointError
    from ..train import load_checkpoint
    if os.path.isdir(path) and not any(os.path.isfile(os.path.join(path, n))
                                       for n in ("last.safetensors", "checkpoint.safetensors")):
        return                          # a run folder killed before its first epoch: the run decides
    file = _checkpoint_file(path, "--resume: checkpoint", ("last.safetensors", "checkpoint.safetensors"))
    try:
        ck = load_checkpoint(file)
    except CheckpointError as e:
        raise CLIError(f"--resume: {e}") from None
    except (OSError, RecursionError, MemoryError) as e:
        raise CLIError(f"--resume: cannot load '{file}': {type(e).__name__}: {e}") from None
    saved = ck.get("config")
    if not isinstance(saved, dict):
        return                          # a checkpoint written by a Trainer outside the CLI: the weights decide
    for key in ("model", "data"):
        a, b = saved.get(key), cfg.get(key)
        if key == "data" and isinstance(a, dict) and isinstance(b, dict):
            a, b = ({k: v for k, v in x.items() if k not in ("path", "root", "download")} for x in (a, b))
        if isinstance(a, dict) and _plain(a) != _plain(b):
            raise CLIError(f"--resume: {file} was trained with {key} {show(a, 160)}, but {src} has {key} "
                           f"{show(b, 160)}; resume with the config that started the run")


def _plain(v):
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def _train(args) -> int:
    from .config import read_config, trust_model_code
    _limit_threads(args.threads)
    if args.config is None:             # ember train --resume RUN_DIR: the run folder's own config
        if args.model_code is not None:
            trust_model_code(args.model_code, ".", "--model-code")
        raw = dict(resume_config(args.resume))      # (a missing CONFIG without --resume is one line there)
        args.config = f"the config of {args.resume}"
        base = "."
        user_code = False               # a file ember wrote: the registry or --model-code only
    else:
        base = os.path.dirname(os.path.abspath(args.config))
        raw = read_config(args.config)
        user_code = True                # the user's own config may name their code
    if args.model_code is not None:
        trust_model_code(args.model_code, ".", "--model-code")
        model = raw.get("model") if isinstance(raw.get("model"), dict) else {}
        raw["model"] = dict(model, name=args.model_code)
    if args.epochs is not None:
        raw["epochs"] = args.epochs
    if args.output is not None:
        raw["output"] = args.output
    if args.summary:
        raw["summary"] = True
    if args.diagnose:
        raw["diagnose"] = True
    if args.device is not None:
        raw["device"] = args.device
    cfg = validate_config(raw, args.config, base, user_code=user_code)
    _check_output_folder(cfg["output"], "--output" if args.output is not None else f"{args.config}: 'output'")
    if args.resume is not None:
        _check_resume(args.resume, cfg, args.config)
    code = _nproc.start(args, cfg)      # --nproc N: the run on N processes, started from here
    if code is not None:
        return code
    try:
        return run_training(cfg, _verbosity(args), resume=args.resume)
    except RuntimeError as e:
        if args.resume is not None and "state_dict" in str(e):
            raise CLIError(f"--resume: {args.resume} does not fit the model of {args.config} "
                           f"({_one_line(e)})") from None
        raise


def main(argv=None) -> int:
    """Entry point of the ``ember`` console script; returns the exit code (and exits with it when run as a
    script)."""
    from .config import forget_user_code
    argv = sys.argv[1:] if argv is None else list(argv)
    forget_user_code()                  # code trusted by an earlier in-process command does not carry over
    try:
        try:
            args = _parser(_spec_for_help(argv)).parse_args(argv)
        except SystemExit as e:         # --help / --version
            return e.code if isinstance(e.code, int) else 0
        if args.command is None:
            raise CLIError("missing command; choose one of demo, train, evaluate, predict, info, report (see 'ember --help')")
        if args.command == "demo":
            _limit_threads(args.threads if args.threads is not None else 1)
            cfg = validate_config(dict(DEMO_CONFIG), "demo")
            _check_output_folder(cfg["output"], "demo: output")
            return run_training(cfg, _verbosity(args), demo=True)
        if args.command == "train":
            args.argv = argv
            return _nproc.run_child(_train, args) if _nproc.is_child() else _train(args)
        if args.command == "evaluate":
            return cmd_evaluate(args)
        if args.command == "predict":
            return cmd_predict(args)
        if args.command == "report":
            from ..viz.report import write_report
            print(write_report(args.run_dir, args.output))
            return 0
        return cmd_info(args)
    except CLIError as e:
        print(f"ember: error: {_one_line(e) if len(str(e)) > 2000 else str(e).replace(chr(10), ' ')}",
              file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ember: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError as e:
        print(f"ember: error: not enough memory ({_one_line(e) or 'MemoryError'}); use smaller sizes", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - bad files surface as one line, not a traceback
        from ..io import CheckpointError
        if isinstance(e, (CheckpointError, FileNotFoundError)):
            print(f"ember: error: {_one_line(e)}", file=sys.stderr)
            return EXIT_USAGE
        raise
    finally:
        forget_user_code()


if __name__ == "__main__":
    sys.exit(main())
