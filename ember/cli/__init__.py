"""The ``ember`` command: ``demo``, ``train CONFIG.toml``, ``evaluate``, ``predict`` and ``info``.

    ember demo                              # LeNet-5 on the built-in Digits, offline, about 10 seconds
    ember train configs/digits.toml         # a run described by a TOML file (see configs/)
    ember evaluate RUN/checkpoint.safetensors [--data digits | mnist:PATH | DATA.npz]
    ember predict RUN/checkpoint.safetensors INPUT.npy [--output LOGITS.npy]
    ember info                              # version, backend, BLAS, threads

Anything wrong with the command line, a config, a checkpoint or a data file prints one line
``ember: error: ...`` (what, where, what was expected) and exits with code 2, writing nothing.  A run writes
into ``<output>/<timestamp>/`` only once it has finished; Ctrl-C saves a resumable checkpoint there instead
(exit code 130) and ``ember train CONFIG --resume PATH`` continues it.
"""
from __future__ import annotations

import argparse
import os
import sys

from .config import (CLIError, TOP_KEYS, DATASETS, SYNTHETIC_KINDS, LOSSES, OPTIMIZERS, SCHEDULERS,  # noqa: F401
                     IMAGE_OPTIONS, EARLY_STOPPING_KEYS, validate_config, load_config, build_metric,
                     is_classification, uses_training_step, learns_by_gradient)
from .build import build_data, build_model, build_loss, build_optimizer, build_scheduler  # noqa: F401
from .run import run_training, DEMO_CONFIG, EXIT_INTERRUPTED, _fmt, _format_confusion

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



# -- checkpoints for evaluate / predict ----------------------------------------------------------------------------
def _load_run(path: str):
    from ..io import CheckpointError
    from ..train import load_checkpoint
    if not os.path.isfile(path):
        raise CLIError(f"checkpoint {path} not found")
    try:
        ck = load_checkpoint(path)
    except CheckpointError as e:
        raise CLIError(str(e)) from None
    cfg = ck.get("config") or {}
    if "model" not in cfg or "data" not in cfg:
        raise CLIError(f"{path}: the checkpoint has no run config (model/data); it was not written by "
                       f"'ember train' or 'ember demo'")
    info = cfg.get("data_info")
    if not isinstance(info, dict):      # checkpoints from before data_info was saved
        info = {"num_classes": cfg.get("classes", 10), "input_size": cfg["data"].get("size", 28), "channels": 1}
        if "features" in cfg:
            info.update(features=cfg["features"], input_size=1)
        if cfg["data"].get("name") == "text":
            info.update(vocab=cfg.get("vocab", ""), seq_len=cfg["data"].get("seq_len", 100))
    model = build_model(cfg, info)
    try:
        model.load_state_dict(ck["model"])
    except (RuntimeError, ValueError, KeyError) as e:
        raise CLIError(f"{path}: the weights do not fit the model in its config ({e})") from None
    model.eval()
    return model, cfg


def _eval_data(spec: str | None, cfg: dict):
    from ..backend import np
    from .. import from_numpy
    from ..data import TensorDataset
    if spec is None:
        return build_data(cfg, "test")[0]
    if spec.endswith(".npz"):
        if not os.path.isfile(spec):
            raise CLIError(f"--data: file {spec} not found")
        try:
            with np.load(spec, allow_pickle=False) as z:
                if "x" not in z or "y" not in z:
                    raise CLIError(f"--data: {spec} must hold arrays 'x' and 'y', found {', '.join(z.files)}")
                x, y = z["x"], z["y"]
        except (ValueError, OSError) as e:
            raise CLIError(f"--data: cannot read {spec} ({e})") from None
        if len(x) != len(y):
            raise CLIError(f"--data: {spec} has {len(x)} inputs but {len(y)} labels")
        return TensorDataset(from_numpy(np.ascontiguousarray(x, dtype=np.float32)), from_numpy(y.astype(np.int64)))
    name, _, path = spec.partition(":")
    if name not in DATASETS:
        raise CLIError(f"--data {spec!r}: expected one of {', '.join(DATASETS)} (with ':PATH' for files) or a .npz")
    d = dict(cfg["data"]) if cfg["data"]["name"] == name else {"name": name}
    if path:
        d["path"] = path
    # the run's saved config also holds what training derived (e.g. "classes"): re-validate the user's keys only
    user = {k: v for k, v in cfg.items() if k in TOP_KEYS}
    c = validate_config(dict(user, data=d, scheduler=cfg.get("scheduler"), early_stopping=cfg.get("early_stopping")),
                        "--data")
    return build_data(c, "test")[0]


def cmd_evaluate(args) -> int:
    from ..data import DataLoader
    from .. import nn
    from ..metrics import ConfusionMatrix
    from ..train import Trainer
    model, cfg = _load_run(args.checkpoint)
    ds = _eval_data(args.data, cfg)
    classify = is_classification(cfg)
    metrics = [build_metric(m) for m in cfg.get("metrics", ["accuracy"])]
    if classify:
        metrics.append(ConfusionMatrix(num_classes=cfg.get("classes", 10)))
    trainer = Trainer(model, build_loss(dict(cfg, label_smoothing=0.0)), metrics=metrics)
    try:
        res = trainer.evaluate(DataLoader(ds, batch_size=256))
    except (ValueError, TypeError) as e:
        raise CLIError(f"evaluate: the data does not fit the model ({e})") from None
    for k, v in res.items():
        if k != "confusion_matrix":
            print(f"{k}: {_fmt(v)}")
    if classify and cfg.get("classes", 10) <= 20:
        print(_format_confusion(res["confusion_matrix"]))
    return 0


def cmd_predict(args) -> int:
    from ..backend import np
    from .. import from_numpy
    from ..train import Trainer
    from .. import nn
    from ..autograd import no_grad
    model, cfg = _load_run(args.checkpoint)
    if not os.path.isfile(args.input):
        raise CLIError(f"input file {args.input} not found")
    try:
        x = np.load(args.input, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise CLIError(f"{args.input}: not a NumPy .npy array ({e})") from None
    if not isinstance(x, np.ndarray):
        raise CLIError(f"{args.input}: expected a single array (.npy), got an archive")
    if x.dtype.kind in "fiu" and cfg["data"]["name"] in ("digits", "mnist", "fashion-mnist"):
        x = x.astype(np.float32)                # images: 0-255 or 0-1, (H, W), (N, H, W) or (N, 1, H, W)
        if x.max(initial=0) > 1.0:
            x = x / np.float32(255.0)
        size = cfg["data"].get("size", 28)
        if x.ndim == 2 and x.shape == (size, size):
            x = x[None]
        if x.ndim == 3:
            x = x[:, None]
    elif x.dtype.kind in "fiu" and cfg["data"]["name"] == "synthetic":
        x = x.astype(np.float32)
    try:
        logits = Trainer(model, nn.CrossEntropyLoss()).predict(from_numpy(np.ascontiguousarray(x)))
    except (ValueError, TypeError, RuntimeError) as e:
        raise CLIError(f"{args.input}: the input does not fit the model ({e})") from None
    out = logits.numpy()
    if args.output:
        folder = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(folder):
            raise CLIError(f"--output: folder {folder} does not exist")
        from ..io.serialization import atomic_open
        with atomic_open(args.output, "wb") as fh:
            np.save(fh, out)
    if callable(getattr(model, "predict", None)):           # the model's own labels (e.g. Perceptron: +1/-1)
        with no_grad():
            pred = model.predict(from_numpy(np.ascontiguousarray(x))).numpy()
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


def _parser() -> _Parser:
    p = _Parser(prog="ember", description="ember: deep learning on NumPy with PyTorch's API")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    d = sub.add_parser("demo", help="train LeNet-5 on the built-in Digits (offline, about 10 seconds)")
    t = sub.add_parser("train", help="train from a TOML config")
    t.add_argument("config")
    t.add_argument("--resume", metavar="CHECKPOINT", help="continue an interrupted run from its checkpoint")
    t.add_argument("--epochs", type=int, help="override the config's epochs")
    t.add_argument("--output", help="override the config's output folder")
    t.add_argument("--summary", action="store_true", help="print the per-layer parameter table first (as "
                                                          "summary = true in the config)")
    for q in (d, t):
        q.add_argument("-q", "--quiet", action="store_true", help="print only the results")
        q.add_argument("-v", "--verbose", action="store_true", help="progress bar even when not on a terminal")
        q.add_argument("--threads", type=int, default=None, help="BLAS threads (default: 1 for demo)")
    e = sub.add_parser("evaluate", help="evaluate a checkpoint")
    e.add_argument("checkpoint")
    e.add_argument("--data", help="digits | mnist:PATH | fashion-mnist:PATH | FILE.npz (x, y); default: the "
                                  "run's test split")
    r = sub.add_parser("predict", help="predict classes for an .npy array of inputs")
    r.add_argument("checkpoint")
    r.add_argument("input")
    r.add_argument("--output", help="also save the logits to this .npy file")
    sub.add_parser("info", help="version, backend, BLAS, threads")
    return p


def main(argv=None) -> int:
    """Entry point of the ``ember`` console script; returns the exit code (and exits with it when run as a
    script)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parser().parse_args(argv)
        if args.command is None:
            raise CLIError("missing command; choose one of demo, train, evaluate, predict, info (see 'ember --help')")
        if args.command == "demo":
            _limit_threads(args.threads if args.threads is not None else 1)
            return run_training(validate_config(dict(DEMO_CONFIG), "demo"), _verbosity(args), demo=True)
        if args.command == "train":
            _limit_threads(args.threads)
            cfg = load_config(args.config)
            if args.epochs is not None:
                cfg["epochs"] = args.epochs
            if args.output is not None:
                cfg["output"] = args.output
            if args.summary:
                cfg["summary"] = True
            cfg = validate_config(cfg, args.config)
            if args.resume is not None and not os.path.isfile(args.resume):
                raise CLIError(f"--resume: checkpoint {args.resume} not found")
            return run_training(cfg, _verbosity(args), resume=args.resume)
        if args.command == "evaluate":
            return cmd_evaluate(args)
        if args.command == "predict":
            return cmd_predict(args)
        return cmd_info(args)
    except CLIError as e:
        print(f"ember: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ember: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - bad files surface as one line, not a traceback
        from ..io import CheckpointError
        if isinstance(e, (CheckpointError, FileNotFoundError)):
            print(f"ember: error: {e}", file=sys.stderr)
            return EXIT_USAGE
        raise


if __name__ == "__main__":
    sys.exit(main())

