"""``ember train`` configs: the keys a TOML config may hold, their checks (``validate_config``) and the reader
(``load_config``).  Every key is documented in docs/configs.md."""
from __future__ import annotations

import re

import os


class CLIError(Exception):
    """A mistake in what the user gave the command; printed as one ``ember: error:`` line, exit code 2."""


TOP_KEYS = {"name": str, "seed": int, "epochs": int, "batch_size": int, "output": str, "metrics": list,
            "grad_clip": (int, float), "accumulate": int, "model": dict, "data": dict, "optimizer": dict,
            "scheduler": dict, "early_stopping": dict, "label_smoothing": (int, float), "loss": (str, dict),
            "summary": bool, "diagnose": bool, "loss_weighting": str, "device": str}
DATASETS = ("digits", "mnist", "fashion-mnist", "text", "synthetic")
# data name "synthetic": generated in memory by ember.data.datasets.synthetic (offline, instant); `kind` picks
# the generator, n_samples the size of the train set (the test set is a quarter of it, at least 8, drawn with
# seed + 1).  Each kind takes the keys below besides name, kind, n_samples, seed and val_fraction:
SYNTHETIC_KINDS = {
    "xor": {"noise", "margin"}, "spirals": {"noise"}, "moons": {"noise"}, "circles": {"noise"},
    "separable": {"n_features", "margin"},                  # linearly separable with a gap (the perceptron)
    "linear_regression": {"n_features", "noise"},
    "multilabel": {"n_features", "n_labels"},
    "poisson": {"n_features"},                              # (x, log_exposure, counts): claim frequencies
    "sequence_sum": {"min_len", "max_len", "test_min_len", "test_max_len"},   # (x, lengths, sums) padded
    "quadrants": {"channels", "size", "noise"},             # 4 classes of images (the typical DNN)
    "shapes": {"size", "noise"},                            # images and per-pixel masks (segmentation)
    "patterns": {"n_units", "corrupt"},                     # +-1 patterns; test = them with bits flipped
    # generated scenes of coloured shapes (ember.vision.scenes): images and their captions as token ids
    # (PAD 0, BOS 1, EOS 2; padded to max_len), or images and a detector's per-cell targets on a grid x grid grid
    "captions": {"size", "noise", "max_len", "min_objects", "max_objects"},
    "detection": {"size", "noise", "grid", "min_objects", "max_objects"},
    # n_samples dummy samples (zeros), one per optimisation step (batch_size 1): for models whose only parameter
    # is what they optimise (style_transfer), so that an epoch is n_samples steps
    "steps": set(),
}
SYNTHETIC_COMMON = {"name", "kind", "n_samples", "seed", "val_fraction"}
SYNTHETIC_INTS = ("n_samples", "n_features", "n_labels", "min_len", "max_len", "test_min_len", "test_max_len",
                  "channels", "size", "n_units", "grid", "min_objects", "max_objects")
# loss = "..." for models trained as loss(model(x), y); models with a training_step (vae, gan, rbm,
# embedding_net) compute their own loss
LOSSES = {"cross_entropy": "CrossEntropyLoss", "mse": "MSELoss", "l1": "L1Loss", "bce": "BCELoss",
          "bce_with_logits": "BCEWithLogitsLoss", "huber": "HuberLoss", "smooth_l1": "SmoothL1Loss",
          "poisson_nll": "PoissonNLLLoss"}      # poisson_nll takes log-rates (log_input=True, PyTorch's default)
# a loss per head: loss = {HEAD = {name = ..., weight = ..., metrics = [...]}, ...} ([loss.HEAD] tables) for a
# model returning a dict of outputs; loss_weighting "fixed" (the weights, default 1) or "uncertainty" (learned,
# Kendall et al. 2018; a regression loss gets the factor 1/2)
LOSS_HEAD_KEYS = ("name", "weight", "metrics")
LOSS_WEIGHTINGS = ("fixed", "uncertainty")
REGRESSION_LOSSES = ("mse", "l1", "huber", "smooth_l1")
# data.targets of the image datasets: one target per head, in this order in each batch (x, t_1, ..., t_k):
# "class" (the label; "digit" for digit data), "parity" (label % 2 as 0./1., for digit data), "ink" (the
# fraction of pixels above 0.5, standardised with the training split's mean and std: a stroke-thickness proxy)
TARGETS = ("digit", "class", "parity", "ink")
# options of the image datasets: flatten to (N, C*H*W); binarize at 0.5; scale "unit" [0, 1] or "symmetric"
# [-1, 1] (for tanh generators); target "label" (classes) or "input" (autoencoders: y = x)
IMAGE_OPTIONS = {"flatten": (bool,), "binarize": (bool,), "scale": ("unit", "symmetric"), "target": ("label", "input")}
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad",
              "adadelta": "Adadelta", "nadam": "NAdam", "radam": "RAdam", "adamax": "Adamax"}
SCHEDULERS = {"step": "StepLR", "multistep": "MultiStepLR", "exponential": "ExponentialLR",
              "cosine": "CosineAnnealingLR", "plateau": "ReduceLROnPlateau", "onecycle": "OneCycleLR",
              "linear": "LinearLR"}
DATA_KEYS = {"digits": {"name", "size", "resize", "val_fraction", "subset", "targets", *IMAGE_OPTIONS},
             "mnist": {"name", "root", "download", "path", "val_fraction", "subset", "targets", *IMAGE_OPTIONS},
             "fashion-mnist": {"name", "root", "download", "path", "val_fraction", "subset", "targets",
                               *IMAGE_OPTIONS},
             "text": {"name", "root", "download", "path", "seq_len", "stride", "val_fraction", "subset"},
             "synthetic": SYNTHETIC_COMMON.union(*SYNTHETIC_KINDS.values())}


EARLY_STOPPING_KEYS = ("monitor", "patience", "min_delta", "mode", "restore_best_weights", "stopping_threshold")


def _where(src: str, key: str) -> str:
    return f"{src}: '{key}'"


# -- which code a model name may run ---------------------------------------------------------------------------
# A model name resolves to ember's registry (ember.models) or to code the user named themselves in this command:
# ``--model-code FILE.py:Class`` / ``module:attr`` on the command line, or ``model.name = "module:attr"`` in the
# TOML config they passed to ``ember train``.  A name read from a checkpoint is looked up here and never imported.
_USER_CODE: dict = {}


def show(value, limit: int = 80) -> str:
    """``repr`` of a value from a file, cut to ``limit`` characters (control characters escaped)."""
    r = repr(value)
    return r if len(r) <= limit else r[:limit - 3] + "..."


def forget_user_code() -> None:
    """Forget the code trusted by an earlier command (``ember.cli.main`` calls this first)."""
    _USER_CODE.clear()


def _import_file(path: str, spec: str):
    import hashlib
    import importlib.util
    import sys
    name = "ember_user_code_" + hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise CLIError(f"model code {spec!r}: {path} is not a Python file")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - the user's own file failed: say where, in one line
        del sys.modules[name]
        raise CLIError(f"model code {spec!r}: importing {path} failed ({type(e).__name__}: {e})") from None
    return module


def trust_model_code(spec: str, base_dir: str = ".", src: str = "--model-code"):
    """Load the model code the user named (``path/to/file.py:Class`` or ``package.module:attr``) and allow it as
    a model name for the rest of this command; returns the factory.  A relative file is looked up from
    ``base_dir`` (the config's folder), then from the current folder."""
    from .. import models
    if spec in _USER_CODE:
        return _USER_CODE[spec]
    if not isinstance(spec, str) or ":" not in spec:
        raise CLIError(f"{src}: expected FILE.py:CLASS or MODULE:ATTR, got {show(spec)}")
    target, _, attr = spec.rpartition(":")
    if not target or not attr or not all(part.isidentifier() for part in attr.split(".")):
        raise CLIError(f"{src}: expected FILE.py:CLASS or MODULE:ATTR, got {show(spec)}")
    if target.endswith(".py") or "/" in target or os.sep in target:
        raw = os.path.expanduser(target)
        tries = [os.path.abspath(os.path.join(base_dir, raw)), os.path.abspath(raw)]
        path = next((t for t in tries if os.path.isfile(t)), None)
        if path is None:
            raise CLIError(f"{src}: model code file {raw} not found (looked in {' and '.join(dict.fromkeys(tries))})")
        module = _import_file(path, spec)
    else:
        module = None
    try:
        obj = models.resolve(spec) if module is None else models.attribute(module, attr, spec)
    except (ValueError, TypeError) as e:
        raise CLIError(f"{src}: {e}") from None
    _USER_CODE[spec] = obj
    return obj


def resolve_model(name):
    """The factory for a model name: ember's registry or code the user named in this command, never an import.
    Raises ValueError for anything else."""
    from .. import models
    if not isinstance(name, str) or not name:
        raise ValueError(f"model name must be a non-empty string, got {show(name)}")
    if name in _USER_CODE:
        return _USER_CODE[name]
    if ":" in name:
        raise ValueError(f"model {show(name)} is not in ember's model registry and was not named by you; ember "
                         f"never imports code named in a file it reads: if you trust that code, pass it yourself "
                         f"with --model-code FILE.py:CLASS (or MODULE:ATTR)")
    return models.resolve(name)         # a plain name: the registry only


def _model_factory(cfg: dict):
    """The factory (class) the config's model names, or None when the name does not resolve."""
    model = cfg.get("model")
    try:
        return resolve_model(model.get("name") if isinstance(model, dict) else None)
    except (ValueError, TypeError):
        return None


def uses_training_step(cfg: dict) -> bool:
    """Whether the config's model trains through its own ``training_step`` (VAE, GAN, RBM, EmbeddingNet)."""
    return callable(getattr(_model_factory(cfg), "training_step", None))


def learns_by_gradient(cfg: dict) -> bool:
    """False for models that update themselves without an optimizer (``automatic_optimization = False``, e.g.
    the Hopfield network's Hebbian storage)."""
    return bool(getattr(_model_factory(cfg), "automatic_optimization", True))


def build_metric(spec):
    """A metric from a config entry: a name (``"accuracy"``) or a table with a name and the metric's arguments
    (``{name = "poisson_deviance", log_input = true}``)."""
    from .. import metrics as M
    if isinstance(spec, dict):
        kw = dict(spec)
        if "name" not in kw:
            raise ValueError(f"a metric table needs a 'name' key, got {spec!r}")
        name = kw.pop("name")
        try:
            return M.get(name, **kw)
        except TypeError as e:
            raise ValueError(f"metric {name!r}: bad arguments {sorted(kw)} ({e})") from None
    if not isinstance(spec, str):
        raise ValueError(f"each metric must be a name or a table {{name = ..., ...}}, got {spec!r}")
    return M.get(spec)


def _validate_synthetic(data: dict, src: str) -> None:
    """Check the keys of a ``data.name = "synthetic"`` section against its kind (see ``SYNTHETIC_KINDS``)."""
    kinds = ", ".join(SYNTHETIC_KINDS)
    if "kind" not in data:
        raise CLIError(f"{src}: dataset 'synthetic' needs 'data.kind'; allowed: {kinds}")
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in SYNTHETIC_KINDS:
        raise CLIError(f"{_where(src, 'data.kind')} is {kind!r}; allowed: {kinds}")
    allowed = SYNTHETIC_COMMON | SYNTHETIC_KINDS[kind]
    bad = sorted(set(data) - allowed)
    if bad:
        raise CLIError(f"{_where(src, 'data.' + bad[0])} does not apply to synthetic kind {kind!r}; its keys: "
                       f"{', '.join(sorted(allowed))}")
    for key in SYNTHETIC_INTS:
        if key in data and (not isinstance(data[key], int) or isinstance(data[key], bool) or data[key] < 1):
            raise CLIError(f"{_where(src, 'data.' + key)} must be a positive integer, got {data[key]!r}")
    if "seed" in data and (not isinstance(data["seed"], int) or isinstance(data["seed"], bool) or data["seed"] < 0):
        raise CLIError(f"{_where(src, 'data.seed')} must be a non-negative integer, got {data['seed']!r}")
    for key in ("noise", "margin"):
        if key in data and (not isinstance(data[key], (int, float)) or isinstance(data[key], bool) or data[key] < 0):
            raise CLIError(f"{_where(src, 'data.' + key)} must be a number >= 0, got {data[key]!r}")
    c = data.get("corrupt", 0.2)
    if not isinstance(c, (int, float)) or isinstance(c, bool) or not 0 <= c <= 1:
        raise CLIError(f"{_where(src, 'data.corrupt')} must be a fraction in [0, 1], got {c!r}")
    if kind == "sequence_sum":
        lo, hi = data.get("min_len", 2), data.get("max_len", 10)
        tlo, thi = data.get("test_min_len", hi + 1), data.get("test_max_len", hi + 5)
        if lo > hi or tlo > thi:
            raise CLIError(f"{src}: data lengths need min_len <= max_len and test_min_len <= test_max_len, got "
                           f"{lo}..{hi} and {tlo}..{thi}")
    if kind == "patterns" and data.get("val_fraction", 0) != 0:
        raise CLIError(f"{_where(src, 'data.val_fraction')} must be 0 for kind 'patterns': every pattern is stored, "
                       f"and the test split holds the same patterns with bits flipped")
    if kind in ("quadrants", "shapes") and data.get("size", 32) % 8:
        raise CLIError(f"{_where(src, 'data.size')} must be a multiple of 8, got {data['size']}")
    if kind in ("captions", "detection"):
        size = data.get("size", 32)
        if size < 16:
            raise CLIError(f"{_where(src, 'data.size')} must be at least 16 for scenes, got {size}")
        lo, hi = data.get("min_objects", 2 if kind == "captions" else 1), data.get("max_objects", 2 if kind ==
                                                                                        "captions" else 3)
        if not 1 <= lo <= hi <= 3:
            raise CLIError(f"{src}: data needs 1 <= min_objects <= max_objects <= 3, got {lo} and {hi}")
        need = {1: 6, 2: 12, 3: 16}[hi]            # BOS + "a small red circle left of a large blue square" + EOS
        if kind == "captions" and data.get("max_len", need) < need:
            raise CLIError(f"{_where(src, 'data.max_len')} must be at least {need} (BOS, EOS and the longest "
                           f"caption of {hi} shapes), got {data['max_len']}")
        grid = data.get("grid", 4)
        if kind == "detection" and (size % grid or (size // grid) & (size // grid - 1)):
            raise CLIError(f"{_where(src, 'data.grid')} must divide data.size ({size}) by a power of 2, got {grid}")


def _validate_heads(out: dict, cfg: dict, src: str) -> None:
    """Check ``loss = {HEAD = {name, weight, metrics}, ...}`` (one loss per head), ``loss_weighting`` and the
    data's one target per head; the loss tables are put in the data's target order."""
    loss, data = out["loss"], out["data"]
    if not loss:
        raise CLIError(f"{_where(src, 'loss')} is an empty table; give one [loss.HEAD] table per model output")
    if cfg.get("metrics"):
        raise CLIError(f"{_where(src, 'metrics')}: with one loss per head, metrics go in each head's table "
                       f"([loss.HEAD] metrics = [...]); remove the top-level 'metrics'")
    out["metrics"] = []
    if out.get("label_smoothing"):
        raise CLIError(f"{_where(src, 'label_smoothing')} applies to a single cross_entropy loss, not to one loss "
                       f"per head; remove it")
    weighting = out.setdefault("loss_weighting", "fixed")
    if weighting not in LOSS_WEIGHTINGS:
        raise CLIError(f"{_where(src, 'loss_weighting')} is {show(weighting)}; allowed: {', '.join(LOSS_WEIGHTINGS)}")
    for head, spec in loss.items():
        where = f"loss.{head}"
        if not head.isidentifier():
            raise CLIError(f"{_where(src, where)}: a head name must be a word (letters, digits, _), got {show(head)}")
        if not isinstance(spec, dict):
            raise CLIError(f"{_where(src, where)} must be a table {{name = ..., weight = ..., metrics = [...]}}, "
                           f"got {show(spec)}")
        bad = sorted(set(spec) - set(LOSS_HEAD_KEYS))
        if bad:
            raise CLIError(f"{_where(src, where + '.' + bad[0])} is not a key of a head's loss; allowed: "
                           f"{', '.join(LOSS_HEAD_KEYS)}")
        name = spec.get("name")
        if not isinstance(name, str) or name not in LOSSES:
            raise CLIError(f"{_where(src, where + '.name')} is {show(name)}; allowed: {', '.join(LOSSES)}")
        if "weight" in spec:
            w = spec["weight"]
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w < float("inf"):
                raise CLIError(f"{_where(src, where + '.weight')} must be a finite number >= 0, got {show(w)}")
            if weighting == "uncertainty":
                raise CLIError(f"{_where(src, where + '.weight')}: loss_weighting = 'uncertainty' learns the "
                               f"weights; remove the fixed weight (or use loss_weighting = 'fixed')")
        metrics = spec.get("metrics", [])
        if not isinstance(metrics, list):
            raise CLIError(f"{_where(src, where + '.metrics')} must be a list, got {show(metrics)}")
        for m in metrics:
            try:
                build_metric(m)
            except (ValueError, TypeError) as e:
                raise CLIError(f"{_where(src, where + '.metrics')}: {e}") from None
    targets = data.get("targets")
    if targets is None:
        raise CLIError(f"{_where(src, 'loss')}: one loss per head ({', '.join(loss)}) needs data with one target "
                       f"per head: data.targets = [...] (from {', '.join(TARGETS)}) on digits, mnist or "
                       f"fashion-mnist")
    if set(targets) != set(loss):
        raise CLIError(f"{_where(src, 'loss')}: the heads with a loss ({', '.join(loss)}) must be the data's "
                       f"targets ({', '.join(targets)})")
    out["loss"] = {t: dict(loss[t]) for t in targets}


def _validate_targets(data: dict, src: str) -> None:
    targets = data["targets"]
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
        raise CLIError(f"{_where(src, 'data.targets')} must be a non-empty list of names from "
                       f"{', '.join(TARGETS)}, got {show(targets)}")
    for t in targets:
        if t not in TARGETS:
            raise CLIError(f"{_where(src, 'data.targets')} names {t!r}; allowed: {', '.join(TARGETS)}")
        if t in ("digit", "parity") and data["name"] == "fashion-mnist":
            raise CLIError(f"{_where(src, 'data.targets')}: {t!r} is for digit data; fashion-mnist has 'class'")
    if len(set(targets)) != len(targets) or {"digit", "class"} <= set(targets):
        raise CLIError(f"{_where(src, 'data.targets')} names a target twice ('digit' and 'class' are both the "
                       f"label): {show(targets)}")
    if data.get("target") == "input":
        raise CLIError(f"{_where(src, 'data.targets')} cannot go with data.target = 'input' (autoencoders)")


def _resolve_model_paths(out: dict, src: str, base_dir: str) -> None:
    """The model keys its class names in ``path_keys`` (files it reads: style_transfer's images and weights)
    must be strings naming existing regular files; a relative one is looked up from the config's folder, then
    from the current folder, and replaced by the path found."""
    keys = getattr(_model_factory(out), "path_keys", ())
    model = out["model"] = dict(out["model"])
    for key in keys:
        if key not in model:
            continue
        raw = model[key]
        if not isinstance(raw, str) or not raw.strip():
            raise CLIError(f"{_where(src, 'model.' + key)} must be a file name (a string), got {show(raw)}")
        raw = os.path.expanduser(raw)
        tries = [os.path.normpath(os.path.join(base_dir, raw)), os.path.abspath(raw)]
        path = next((t for t in tries if os.path.exists(t)), None)
        if path is None:
            raise CLIError(f"{_where(src, 'model.' + key)}: {raw} does not exist (looked in "
                           f"{' and '.join(dict.fromkeys(tries))})")
        regular_file(path, f"{_where(src, 'model.' + key)}:")
        model[key] = path


def is_classification(cfg: dict) -> bool:
    """Whether the run is classification (cross-entropy on labels): then accuracy and a confusion matrix apply."""
    return (not uses_training_step(cfg) and cfg.get("loss", "cross_entropy") == "cross_entropy"
            and cfg["data"].get("target", "label") == "label")


def validate_config(cfg: dict, src: str = "config", base_dir: str = ".", user_code: bool = False) -> dict:
    """Check a config dict (from TOML) and fill in defaults; raises ``CLIError`` naming the bad key.

    ``user_code=True`` (a config the user wrote and passed): ``model.name = "module:attr"`` (or
    ``"file.py:Class"``, relative to ``base_dir``) is imported; otherwise (a checkpoint's saved config) the model
    must be in ember's registry or named by the user with ``--model-code``."""
    if not isinstance(cfg, dict):
        raise CLIError(f"{src}: expected a TOML table at the top level")
    cfg = {k: v for k, v in cfg.items() if v is not None}       # (TOML has no null; a saved config may) absent
    unknown = sorted(set(cfg) - set(TOP_KEYS))
    if unknown:
        raise CLIError(f"{_where(src, unknown[0])} is not a known key; allowed: {', '.join(sorted(TOP_KEYS))}")
    for key, typ in TOP_KEYS.items():
        if key in cfg and cfg[key] is not None and (not isinstance(cfg[key], typ)
                                                    or (isinstance(cfg[key], bool) and typ is not bool)):
            want = typ.__name__ if isinstance(typ, type) else "number" if float in typ else "a string or a table"
            want = {"dict": "a table [..]", "list": "a list", "bool": "true or false"}.get(want, want)
            raise CLIError(f"{_where(src, key)} must be {want}, got {cfg[key]!r}")
    out = {"name": "run", "seed": 0, "epochs": 10, "batch_size": 64, "output": "ember-runs", "metrics": ["accuracy"],
           "grad_clip": None, "accumulate": 1, "scheduler": None, "early_stopping": None, "label_smoothing": 0.0,
           "summary": False, "diagnose": False}
    out.update(cfg)
    if "metrics" not in cfg and (uses_training_step(out) if isinstance(out.get("model"), dict) else False):
        out["metrics"] = []
    if "metrics" not in cfg and isinstance(out.get("data"), dict) and out["data"].get("target") == "input":
        out["metrics"] = []
    if out.get("device") is not None:
        dv = out["device"]
        if not re.fullmatch(r"cpu|cuda(:\d+)?", dv):
            raise CLIError(f"{_where(src, 'device')} must be \"cpu\", \"cuda\" or \"cuda:N\", got {dv!r}")
    for key in ("epochs", "batch_size", "accumulate"):
        if out[key] < 1:
            raise CLIError(f"{_where(src, key)} must be a positive integer, got {out[key]}")
    if not 0 <= out["label_smoothing"] < 1:
        raise CLIError(f"{_where(src, 'label_smoothing')} must be in [0, 1), got {out['label_smoothing']}")
    if out["grad_clip"] is not None and not out["grad_clip"] > 0:      # NaN too
        raise CLIError(f"{_where(src, 'grad_clip')} must be > 0, got {out['grad_clip']}")
    if not out["output"].strip():
        raise CLIError(f"{_where(src, 'output')} must not be empty (a folder for the run folders, e.g. 'ember-runs')")
    if out["seed"] < 0:
        raise CLIError(f"{_where(src, 'seed')} must be a non-negative integer, got {out['seed']}")
    for m in out["metrics"]:
        try:
            build_metric(m)
        except (ValueError, TypeError) as e:
            raise CLIError(f"{_where(src, 'metrics')}: {e}") from None
    for section in ("model", "data"):
        if section not in out:
            raise CLIError(f"{src}: missing section [{section}]")
        if "name" not in out[section]:
            raise CLIError(f"{src}: [{section}] needs a 'name' key")
    mname = out["model"]["name"]
    if not isinstance(mname, str):
        raise CLIError(f"{_where(src, 'model.name')} must be a string, got {mname!r}")
    try:
        if user_code and ":" in mname:
            trust_model_code(mname, base_dir, _where(src, "model.name"))
        else:
            resolve_model(mname)
    except (ValueError, TypeError) as e:
        raise CLIError(f"{_where(src, 'model.name')}: {e}") from None
    manual = not learns_by_gradient(out)
    if manual and cfg.get("optimizer") is not None:
        raise CLIError(f"{src}: model {out['model']['name']!r} learns without gradients (it updates itself in its "
                       f"training_step); remove the [optimizer] section")
    if not manual:
        if out.get("optimizer") is None:
            raise CLIError(f"{src}: missing section [optimizer]")
        if "name" not in out["optimizer"]:
            raise CLIError(f"{src}: [optimizer] needs a 'name' key")
    # data
    data = dict(out["data"])
    dname = data["name"]
    if not isinstance(dname, str) or dname not in DATASETS:
        raise CLIError(f"{_where(src, 'data.name')} is {dname!r}; allowed: {', '.join(DATASETS)}")
    if dname == "synthetic":
        _validate_synthetic(data, src)      # its keys depend on the kind
    bad = sorted(set(data) - DATA_KEYS[dname])
    if bad:
        raise CLIError(f"{_where(src, 'data.' + bad[0])} is not a key of dataset {dname!r}; allowed: "
                       f"{', '.join(sorted(DATA_KEYS[dname]))}")
    if dname not in ("digits", "synthetic"):
        # files come from data.path (a folder, or the text file), else data.root, else ember's data root
        # ($EMBER_DATA or the user's cache folder); download = true fetches missing files into the root
        if "download" in data and not isinstance(data["download"], bool):
            raise CLIError(f"{_where(src, 'data.download')} must be true or false, got {data['download']!r}")
        for key in ("root", "path"):
            if key in data and not isinstance(data[key], str):
                raise CLIError(f"{_where(src, 'data.' + key)} must be a string (a folder), got {data[key]!r}")
        if "root" in data:
            raw = os.path.expanduser(data["root"])
            data["root"] = raw if os.path.isabs(raw) else os.path.normpath(os.path.join(base_dir, raw))
    if dname not in ("digits", "synthetic") and "path" in data:
        raw = os.path.expanduser(str(data["path"]))
        # a relative path is looked up from the config file's folder, then from the current folder
        tries = [os.path.normpath(os.path.join(base_dir, raw)), os.path.abspath(raw)]
        path = next((t for t in tries if os.path.exists(t)), None)
        if path is None:
            raise CLIError(f"{_where(src, 'data.path')}: {raw} does not exist (looked in "
                           f"{' and '.join(dict.fromkeys(tries))})")
        if not (os.path.isfile(path) or os.path.isdir(path)):
            raise CLIError(f"{_where(src, 'data.path')}: {path} is not a regular file or folder (a device or pipe)")
        data["path"] = path
    vf = data.setdefault("val_fraction", 0.0 if data.get("kind") in ("patterns", "steps") and dname == "synthetic"
                         else 0.1)
    if not isinstance(vf, (int, float)) or not 0 <= vf < 1:
        raise CLIError(f"{_where(src, 'data.val_fraction')} must be a number in [0, 1), got {vf!r}")
    if dname == "digits":
        if data.setdefault("size", 28) not in (8, 28, 32):
            raise CLIError(f"{_where(src, 'data.size')} must be 8, 28 or 32, got {data['size']!r}")
        if data.setdefault("resize", "bilinear") not in ("bilinear", "pad"):
            raise CLIError(f"{_where(src, 'data.resize')} must be 'bilinear' or 'pad', got {data['resize']!r}")
    for key in ("subset", "seq_len", "stride"):
        if key in data and (not isinstance(data[key], int) or data[key] < 1):
            raise CLIError(f"{_where(src, 'data.' + key)} must be a positive integer, got {data[key]!r}")
    if "targets" in data:
        _validate_targets(data, src)
    for key, allowed in IMAGE_OPTIONS.items():
        if key not in data:
            continue
        if allowed == (bool,):
            if not isinstance(data[key], bool):
                raise CLIError(f"{_where(src, 'data.' + key)} must be true or false, got {data[key]!r}")
        elif data[key] not in allowed:
            raise CLIError(f"{_where(src, 'data.' + key)} is {data[key]!r}; allowed: {', '.join(allowed)}")
    if dname == "synthetic" and data["kind"] == "steps":
        if cfg.get("batch_size", 1) != 1:
            raise CLIError(f"{_where(src, 'batch_size')} must be 1 with data kind 'steps' (each sample is one "
                           f"optimisation step), got {cfg['batch_size']}")
        out["batch_size"] = 1
    out["data"] = data
    _resolve_model_paths(out, src, base_dir)
    # model
    if uses_training_step(out):
        if out["metrics"]:
            raise CLIError(f"{_where(src, 'metrics')}: model {mname!r} trains with its own training_step and logs "
                           f"its own values; metrics need plain outputs (allowed: [] or leave 'metrics' out)")
        if "loss" in cfg:
            raise CLIError(f"{_where(src, 'loss')}: model {mname!r} computes its own loss in its training_step; "
                           f"remove 'loss'")
    else:
        loss = out.setdefault("loss", "mse" if data.get("target") == "input" else "cross_entropy")
        if isinstance(loss, dict):
            _validate_heads(out, cfg, src)
        elif not isinstance(loss, str) or loss not in LOSSES:
            raise CLIError(f"{_where(src, 'loss')} is {loss!r}; allowed: {', '.join(LOSSES)}")
    if "targets" in data and not isinstance(out.get("loss"), dict):
        names = data["targets"] if isinstance(data["targets"], list) else ["them"]
        raise CLIError(f"{_where(src, 'data.targets')}: one target per head needs one loss per head: a table "
                       f"[loss.HEAD] for each of {', '.join(map(str, names))}")
    if "loss_weighting" in cfg and not isinstance(out.get("loss"), dict):
        raise CLIError(f"{_where(src, 'loss_weighting')} needs one loss per head ([loss.HEAD] tables)")
    # optimizer / scheduler
    if manual:
        out["optimizer"] = None
        if out["scheduler"] is not None:
            raise CLIError(f"{_where(src, 'scheduler')}: model {mname!r} has no optimizer to schedule; remove it")
    else:
        oname = str(out["optimizer"]["name"]).lower()
        if oname not in OPTIMIZERS:
            raise CLIError(f"{_where(src, 'optimizer.name')} is {oname!r}; allowed: {', '.join(OPTIMIZERS)}")
        lr = out["optimizer"].get("lr", 1e-3)
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not 0 < lr < float("inf"):
            raise CLIError(f"{_where(src, 'optimizer.lr')} must be a positive number, got {lr!r}")
    if out["scheduler"] is not None:
        sname = out["scheduler"].get("name")
        if not isinstance(sname, str) or sname not in SCHEDULERS:
            raise CLIError(f"{_where(src, 'scheduler.name')} is {sname!r}; allowed: {', '.join(SCHEDULERS)}")
    if out["early_stopping"] is not None:
        bad = sorted(set(out["early_stopping"]) - set(EARLY_STOPPING_KEYS))
        if bad:
            raise CLIError(f"{_where(src, 'early_stopping.' + bad[0])} is not a key; allowed: "
                           f"{', '.join(EARLY_STOPPING_KEYS)}")
        es = out["early_stopping"]
        for key, ok, want in (("monitor", lambda v: isinstance(v, str), "a metric name such as 'val_loss'"),
                              ("mode", lambda v: v in ("auto", "min", "max"), "'auto', 'min' or 'max'"),
                              ("restore_best_weights", lambda v: isinstance(v, bool), "true or false"),
                              ("patience", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                               "a non-negative integer"),
                              ("min_delta", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                               and v == v, "a number"),
                              ("stopping_threshold", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                               and v == v, "a number")):
            if key in es and not ok(es[key]):
                raise CLIError(f"{_where(src, 'early_stopping.' + key)} must be {want}, got {show(es[key])}")
    return out


def regular_file(path: str, what: str, hint: str = ""):
    """``os.stat(path)`` if it is an existing regular file; else ``CLIError`` saying it is missing, unreadable, a
    folder, or a device or pipe (which could block or never end)."""
    import stat
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise CLIError(f"{what} {path} not found") from None
    except OSError as e:
        raise CLIError(f"{what} {path}: cannot read it ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise CLIError(f"{what} {path} is a folder, not a file{hint}")
    if not stat.S_ISREG(st.st_mode):
        raise CLIError(f"{what} {path} is not a regular file (a device or pipe){hint}")
    return st


def read_config(path: str) -> dict:
    """The raw table of a TOML config file (not yet validated); ``CLIError`` for a missing, unreadable or
    non-TOML file (a binary file, a folder, a device)."""
    try:
        import tomllib
    except ImportError:                                 # Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise CLIError("reading TOML configs needs Python 3.11+ (tomllib) or the 'tomli' package") from None
    st = regular_file(path, "config file", "; expected a TOML file such as configs/digits.toml")
    if st.st_size > 1_000_000:
        raise CLIError(f"config file {path} is {st.st_size:,} bytes; a TOML config is a few hundred bytes "
                       f"(is it a data or checkpoint file?)")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise CLIError(f"config file {path}: cannot read it ({e.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        what = "a checkpoint, not a config" if raw[8:9] == b"{" else "binary, not a TOML text file"
        raise CLIError(f"{path}: not a TOML config: byte {e.start} is not UTF-8 text (the file looks {what}; "
                       f"a config is a text file such as configs/digits.toml)") from None
    if "\0" in text:
        raise CLIError(f"{path}: not a TOML config: it holds NUL bytes (a binary file?)")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CLIError(f"{path}: not valid TOML ({e})") from None
    except RecursionError:
        raise CLIError(f"{path}: not a usable TOML config (nested too deeply)") from None


def load_config(path: str) -> dict:
    """Read and validate a TOML config file the user passed (so ``model.name = "module:attr"`` may name code)."""
    return validate_config(read_config(path), path, os.path.dirname(os.path.abspath(path)), user_code=True)
