"""Building a run from a validated config: the data splits (``build_data``, with the in-memory synthetic
kinds), the model with the sizes the data implies (``build_model``), loss, optimizer and scheduler."""
from __future__ import annotations

from .config import (CLIError, LOSSES, OPTIMIZERS, SCHEDULERS, REGRESSION_LOSSES, build_metric,  # noqa: F401
                     uses_training_step, is_classification, resolve_model)


def _split_train(ds, val_fraction: float, seed: int):
    from ..data import random_split
    from .. import Generator
    if val_fraction <= 0:
        return ds, None
    n_val = max(1, int(round(len(ds) * val_fraction)))
    return random_split(ds, [len(ds) - n_val, n_val], generator=Generator().manual_seed(seed))


def _ink(x):
    """The fraction of pixels above 0.5 per image of (N, 1, H, W) in [0, 1] (float64)."""
    return (x > 0.5).reshape(len(x), -1).mean(axis=1)


def _head_targets(x, y, targets, ink_stats):
    """One array per name of ``data.targets`` (see ``config.TARGETS``) from images ``x`` and labels ``y``."""
    from ..backend import np
    out = []
    for t in targets:
        if t in ("digit", "class"):
            out.append(y)
        elif t == "parity":
            out.append((y % 2).astype(np.float32))
        else:                                   # "ink", standardised with the training split's mean and std
            mean, std = ink_stats
            out.append(((_ink(x) - mean) / std).astype(np.float32))
    return out


def _to_tensor_dataset(ds, subset: int | None = None, opts: dict | None = None, ink_stats=None):
    """Image datasets as a TensorDataset of (N, 1, H, W) float32 in [0, 1] and int64 labels: the fast path.

    ``opts`` (the data section): ``binarize`` (x > 0.5), ``scale = "symmetric"`` (2x - 1), ``flatten``
    ((N, H*W)), ``target = "input"`` (pairs (x, x) for autoencoders)."""
    from .. import from_numpy
    from ..data import TensorDataset
    from ..backend import np
    x = np.asarray(ds.data.numpy(), dtype=np.float32)
    if x.max() > 1.0:
        x = x / np.float32(255.0)
    y = np.asarray(ds.targets.numpy(), dtype=np.int64)
    if subset is not None:
        x, y = x[:subset], y[:subset]
    x = x[:, None]
    opts = opts or {}
    heads = None
    if opts.get("targets"):                      # one target per head, from the [0, 1] images and the labels
        if ink_stats is None:
            ink = _ink(x)
            ink_stats = (float(ink.mean()), float(ink.std()) or 1.0)
        heads = _head_targets(x, y, opts["targets"], ink_stats)
    if opts.get("binarize"):
        x = (x > 0.5).astype(np.float32)
    if opts.get("scale") == "symmetric":
        x = x * np.float32(2.0) - np.float32(1.0)
    if opts.get("flatten"):
        x = x.reshape(len(x), -1)
    xt = from_numpy(np.ascontiguousarray(x))
    if opts.get("target") == "input":
        return TensorDataset(xt, xt)
    if heads is not None:
        return TensorDataset(xt, *(from_numpy(np.ascontiguousarray(h)) for h in heads))
    return TensorDataset(xt, from_numpy(y))


def _ink_stats(ds, subset=None):
    """Mean and std of ``_ink`` over a training split's images (the "ink" target's standardisation)."""
    from ..backend import np
    x = np.asarray(ds.data.numpy(), dtype=np.float32)
    if x.max() > 1.0:
        x = x / np.float32(255.0)
    ink = _ink(x[:subset] if subset is not None else x)
    return float(ink.mean()), float(ink.std()) or 1.0


def build_data(cfg: dict, split: str):
    """``(dataset, info)`` for the config's data: split ``'train'`` or ``'test'``; info has ``num_classes``,
    ``input_size`` and, for text, the vocabulary."""
    d = cfg["data"]
    name = d["name"]
    try:
        ink = "ink" in (d.get("targets") or ()) and split != "train"     # standardised as the train split
        if name == "digits":
            from ..data.datasets import Digits
            kw = {"size": d.get("size", 28), "resize": d.get("resize", "bilinear")}
            ds = Digits(train=split == "train", **kw)
            stats = _ink_stats(Digits(train=True, **kw), d.get("subset")) if ink else None
            return (_to_tensor_dataset(ds, d.get("subset") if split == "train" else None, opts=d, ink_stats=stats),
                    {"num_classes": 10, "input_size": d.get("size", 28), "channels": 1})
        if name in ("mnist", "fashion-mnist"):
            from ..data.datasets import MNIST, FashionMNIST
            cls = MNIST if name == "mnist" else FashionMNIST
            ds = cls(d.get("path") or d.get("root"), train=split == "train", download=d.get("download", False))
            stats = _ink_stats(cls(d.get("path") or d.get("root"), train=True), d.get("subset")) if ink else None
            return (_to_tensor_dataset(ds, d.get("subset") if split == "train" else None, opts=d, ink_stats=stats),
                    {"num_classes": 10, "input_size": 28, "channels": 1})
        if name == "synthetic":
            return _synthetic(d, split)
        from ..data.datasets import CharCorpus, TinyShakespeare
        corpus = CharCorpus(TinyShakespeare.find(d.get("path") or d.get("root"), d.get("download", False)),
                            val_fraction=max(d.get("val_fraction", 0.1), 1e-3))
        seq_len = d.get("seq_len", 100)
        ds = corpus.dataset("train" if split == "train" else "val", seq_len=seq_len, stride=d.get("stride", seq_len))
        if d.get("subset") and split == "train":
            from ..data import Subset
            ds = Subset(ds, range(min(d["subset"], len(ds))))
        return ds, {"num_classes": corpus.vocab_size, "vocab": "".join(corpus.itos), "seq_len": seq_len}
    except (OSError, RuntimeError, ValueError) as e:
        raise CLIError(f"data '{name}': {e}") from None


def _synthetic(d: dict, split: str):
    """``(TensorDataset, info)`` for ``data.name = "synthetic"``: the train split has ``n_samples`` points, the
    test split a quarter as many (at least 8) drawn with ``seed + 1``; info's ``features`` is the input width
    (for vector data), ``channels``/``input_size`` the image shape (for images)."""
    from ..backend import np
    from ..data.datasets import synthetic as S
    kind, base = d["kind"], d.get("seed", 0)
    train = split == "train"
    n_train = d.get("n_samples", 200)
    n = n_train if train else max(8, n_train // 4)
    seed = base + (not train)
    kw = {"noise": float(d["noise"])} if "noise" in d else {}
    info = {"input_size": 1, "channels": 1}
    if kind == "linear_regression":
        # the weight is drawn from the base seed so train and test share the same true line
        nf = d.get("n_features", 1)
        w = np.random.default_rng(base).normal(0, 1, nf)
        arrays = S.make_linear_regression(n, n_features=nf, weight=w, seed=seed + 1000, **kw)
        info.update(num_classes=1, features=nf)
    elif kind in ("multilabel", "separable"):
        # these draw their labelling (weights, plane) from the seed too: generate train and test together
        n_all = n_train + max(8, n_train // 4)
        nf = d.get("n_features", 10 if kind == "multilabel" else 2)
        if kind == "multilabel":
            nl = d.get("n_labels", 5)
            x, y = S.make_multilabel(n_all, n_features=nf, n_labels=nl, seed=base)
            info.update(num_classes=nl, features=nf)
        else:
            x, y = S.make_separable(n_all, n_features=nf, margin=float(d.get("margin", 0.1)), seed=base)
            info.update(num_classes=2, features=nf)
        arrays = (x[:n_train], y[:n_train]) if train else (x[n_train:], y[n_train:])
    elif kind == "poisson":
        # counts ~ Poisson(exposure * exp(-1 + x @ beta)), beta from the base seed; the model gets log(exposure)
        nf = d.get("n_features", 3)
        beta = np.random.default_rng(base).normal(0, 0.3, nf)
        p = S.make_poisson_counts(n, n_features=nf, beta=beta, seed=seed + 1000)
        arrays = (p.X, np.log(p.exposure), p.counts)
        mu = p.exposure * np.exp(p.intercept + p.X.astype(np.float64) @ p.beta)
        from ..metrics import mean_poisson_deviance
        info.update(num_classes=1, features=nf,
                    reference=f"the true model's mean Poisson deviance on this split: "
                              f"{mean_poisson_deviance(mu, p.counts.astype(np.float64)):.4f}")
    elif kind == "sequence_sum":
        # digits 0-9 scaled by 1/10 as (N, L, 1) floats, the lengths, and the sums / 10; the test split has
        # lengths never seen in training (test_min_len..test_max_len, default max_len + 1 .. max_len + 5)
        lo, hi = d.get("min_len", 2), d.get("max_len", 10)
        if not train:
            lo, hi = d.get("test_min_len", hi + 1), d.get("test_max_len", hi + 5)
        values, lengths, sums = S.make_sequence_sum(n, min_len=lo, max_len=hi, padded=True, seed=seed)
        arrays = (values[:, :, None].astype(np.float32) / np.float32(10), lengths,
                  sums.astype(np.float32) / np.float32(10))
        info.update(num_classes=1, features=1)
    elif kind in ("quadrants", "shapes"):
        size = d.get("size", 32)
        if kind == "quadrants":
            c = d.get("channels", 3)
            arrays = S.make_quadrant_images(n, channels=c, size=size, seed=seed, **kw)
            info.update(num_classes=4, channels=c, input_size=size)
        else:
            arrays = S.make_shapes(n, size=size, seed=seed, **kw)
            info.update(num_classes=3, channels=1, input_size=size)
    elif kind in ("captions", "detection"):
        from ._scenes import scene_data
        arrays, scene_info = scene_data(d, split)
        info.update(scene_info)
    elif kind == "steps":                              # one dummy sample per optimisation step
        arrays = (np.zeros((n, 1), np.float32),)
        info.update(num_classes=1, features=1)
    elif kind == "patterns":
        # the test split holds the *same* patterns as the train split (the memory), with bits flipped
        nu = d.get("n_units", 100)
        patterns = S.make_binary_patterns(n_train, n_units=nu, seed=base)
        arrays = ((patterns, patterns) if train else
                  (S.flip_bits(patterns, float(d.get("corrupt", 0.2)), seed=base + 1), patterns))
        info.update(num_classes=2, features=nu)
    else:
        if "margin" in d:                                   # xor: a gap around both axes
            kw["margin"] = float(d["margin"])
        arrays = getattr(S, f"make_{kind}")(n, seed=seed, **kw)
        info.update(num_classes=2, features=2)
    return _tensor_dataset(arrays), info


def _tensor_dataset(arrays):
    from .. import from_numpy
    from ..backend import np
    from ..data import TensorDataset
    return TensorDataset(*(from_numpy(np.ascontiguousarray(a)) for a in arrays))


def build_model(cfg: dict, info: dict):
    """The config's model, with size arguments the data implies filled in when not given.  The name must be in
    ember's registry or code the user named (see ``config.resolve_model``); an explicit class count smaller than
    the data's (``num_classes = 3`` on 10 classes) is a ``CLIError`` naming both."""
    m = dict(cfg["model"])
    name = m.pop("name")
    try:
        factory = resolve_model(name)
    except (TypeError, ValueError) as e:
        raise CLIError(str(e)) from None
    low = name.lower()
    if is_classification(cfg) and "vocab" not in info and info.get("num_classes", 0) > 1:
        for key in ("num_classes", "out_features"):
            given = m.get(key)
            if isinstance(given, int) and not isinstance(given, bool) and given < info["num_classes"]:
                raise CLIError(f"model.{key} = {given}, but the data has {info['num_classes']} classes (labels 0.."
                               f"{info['num_classes'] - 1}): the model needs {info['num_classes']} outputs; remove "
                               f"'{key}' from [model] to take it from the data")
    if low in ("lenet5", "lenet"):
        m.setdefault("num_classes", info["num_classes"])
        m.setdefault("input_size", info.get("input_size", 28))
    elif low == "mlp":
        m.setdefault("in_features",
                     info.get("features") or info.get("channels", 1) * info.get("input_size", 28) ** 2)
        m.setdefault("out_features", info["num_classes"])
        if "hidden" in m and isinstance(m["hidden"], list):
            m["hidden"] = tuple(m["hidden"])
    else:
        # fill the sizes the data implies into any zoo model (or Python-path class) that takes them
        import inspect
        try:
            params = inspect.signature(factory).parameters
        except (TypeError, ValueError):
            params = {}
        text = "vocab" in info
        image = info.get("features") or info.get("channels", 1) * info.get("input_size", 28) ** 2
        implied = {"vocab_size": info["num_classes"] if text else info.get("vocab_size"),
                   "grid": info.get("grid"), "heads": head_sizes(cfg, info),
                   "max_len": info.get("seq_len") if text else None,
                   "num_classes": None if text else info["num_classes"],
                   "in_channels": None if text else info.get("channels", 1),
                   "in_features": None if text else image, "data_dim": None if text else image,
                   "n_visible": None if text else image,
                   "num_labels": info["num_classes"] if "features" in info else None,
                   "out_features": info["num_classes"] if "features" in info else None,
                   "num_units": info.get("features"),
                   "image_size": None if text or "features" in info else info.get("input_size")}
        for key, value in implied.items():
            if key in params and value is not None:
                m.setdefault(key, value)
        for key, value in list(m.items()):
            if isinstance(value, list):
                m[key] = tuple(value)
    try:
        return factory(**m)
    except TypeError as e:
        raise CLIError(f"model {name!r}: bad arguments {sorted(m)}: {e}") from None
    except ValueError as e:
        raise CLIError(str(e)) from None
    except MemoryError:
        raise CLIError(f"model {name!r}: not enough memory to build it with {m}") from None


def head_sizes(cfg: dict, info: dict):
    """``{head: outputs}`` for one loss per head (a class head: the data's class count; binary and regression
    heads: 1), or None."""
    loss = cfg.get("loss")
    if not isinstance(loss, dict):
        return None
    return {h: info["num_classes"] if h in ("digit", "class") else 1 for h in loss}


def build_loss(cfg: dict):
    """The loss module named by the config's ``loss`` (None for models with their own training_step); with one
    loss per head, a dict ``{head: loss module}`` in the data's target order."""
    if uses_training_step(cfg):
        return None
    from .. import nn
    name = cfg.get("loss", "cross_entropy")
    if isinstance(name, dict):
        return {h: getattr(nn, LOSSES[spec["name"]])() for h, spec in name.items()}
    if name == "cross_entropy":
        return nn.CrossEntropyLoss(label_smoothing=float(cfg.get("label_smoothing", 0.0)))
    return getattr(nn, LOSSES[name])()


def build_metrics(cfg: dict):
    """The Trainer's ``metrics``: a list, or with one loss per head ``{head: [metrics]}``."""
    loss = cfg.get("loss")
    if isinstance(loss, dict):
        return {h: [build_metric(m) for m in spec.get("metrics", [])] for h, spec in loss.items()}
    return [build_metric(m) for m in cfg["metrics"]]


def build_loss_weighting(cfg: dict):
    """The Trainer's ``loss_weights`` for one loss per head: ``{head: weight}`` (fixed), or an
    ``UncertaintyWeighting`` module (``loss_weighting = "uncertainty"``; its parameters go into the optimizer);
    None for a single loss."""
    loss = cfg.get("loss")
    if not isinstance(loss, dict):
        return None
    if cfg.get("loss_weighting", "fixed") == "uncertainty":
        from ..models.multitask import UncertaintyWeighting
        return UncertaintyWeighting(list(loss), kinds={h: "regression" if spec["name"] in REGRESSION_LOSSES else
                                                       "classification" for h, spec in loss.items()})
    return {h: float(spec.get("weight", 1.0)) for h, spec in loss.items()}


def build_optimizer(cfg: dict, model, loss_weighting=None):
    """The config's optimizer over the model's parameters and a learned loss weighting's (None for a model
    that updates itself)."""
    from .. import optim
    if cfg.get("optimizer") is None:
        return None
    o = dict(cfg["optimizer"])
    cls = getattr(optim, OPTIMIZERS[str(o.pop("name")).lower()])
    params = list(model.parameters())
    if hasattr(loss_weighting, "parameters"):
        params += list(loss_weighting.parameters())
    try:
        if "betas" in o:
            o["betas"] = tuple(o["betas"])
        return cls(params, **o)
    except (TypeError, ValueError) as e:
        raise CLIError(f"optimizer: {e}") from None


def build_scheduler(cfg: dict, optimizer, steps_per_epoch: int):
    """``(scheduler, interval)`` for the config's ``scheduler`` table, or ``(None, "epoch")``.

    ``interval`` ("epoch" or "step": when the scheduler steps) defaults to "step" for ``onecycle`` and "epoch"
    for the others.  Lengths default to the run's: ``T_max`` (cosine) and ``total_steps`` (onecycle) count
    epochs or optimizer steps as the interval says; ``max_lr`` (onecycle) defaults to the optimizer's lr."""
    if cfg.get("scheduler") is None:
        return None, "epoch"
    from ..optim import lr_scheduler
    s = dict(cfg["scheduler"])
    name = s.pop("name")
    interval = s.pop("interval", "step" if name == "onecycle" else "epoch")
    if interval not in ("epoch", "step"):
        raise CLIError(f"scheduler '{name}': interval must be 'epoch' or 'step', got {interval!r}")
    length = cfg["epochs"] if interval == "epoch" else cfg["epochs"] * -(-steps_per_epoch // cfg["accumulate"])
    if name == "cosine":
        s.setdefault("T_max", length)
    if name == "onecycle":
        s.setdefault("total_steps", length)
        s.setdefault("max_lr", optimizer.param_groups[0]["lr"])
    try:
        return getattr(lr_scheduler, SCHEDULERS[name])(optimizer, **s), interval
    except (TypeError, ValueError) as e:
        raise CLIError(f"scheduler '{name}': {e}") from None


def _first_inputs(ds, limit: int = 4096):
    """The inputs (first element of each sample) of up to ``limit`` samples, as one NumPy array: all of a
    TensorDataset's, else evenly spaced samples."""
    from ..backend import np
    base = ds
    tensors = getattr(base, "tensors", None)
    if tensors:
        return tensors[0].numpy()
    n = len(ds)
    picks = sorted(set(np.linspace(0, n - 1, num=min(n, limit)).astype(int).tolist())) if n else []
    xs = []
    for i in picks:
        item = ds[i]
        x = item[0] if isinstance(item, (tuple, list)) else item
        xs.append(np.asarray(x.numpy() if hasattr(x, "numpy") else x))
    return np.stack(xs) if xs else None


def input_spec(model, ds, cfg: dict, info: dict) -> dict:
    """What ``ember predict``/``evaluate`` check inputs against, saved in the run config as ``input_spec``: the
    per-sample ``shape`` (None for a dimension that varies, e.g. sequence length), ``dtype``, and the ``min``/``max``
    of the training inputs.  Called before training, it also runs one dry step on two samples of in-memory data
    (``loss(model(*inputs), target)`` and each metric, in eval mode without gradients, touching no random state)
    so that a model with fewer outputs than the data has classes, a loss or metric that does not fit the outputs,
    or a model that does not take the inputs fails with one ``CLIError`` before the first epoch."""
    x = _first_inputs(ds)
    if x is None or x.dtype.kind not in "biuf":
        return {}
    d = cfg["data"]
    shape = list(x.shape[1:])
    if d["name"] == "text" or d.get("kind") == "sequence_sum":
        shape[0] = None                 # sequence models take any length
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    if "vocab" in info:
        lo, hi = 0.0, float(len(info["vocab"]) - 1)
    tensors = getattr(ds, "tensors", None)
    if tensors is not None and len(tensors) >= 2 and len(ds) and not uses_training_step(cfg):
        _dry_step(model, tensors, cfg)
    return {"shape": shape, "dtype": str(x.dtype), "min": lo, "max": hi}


def _dry_heads(model, tensors, cfg: dict) -> None:
    """``_dry_step`` with one loss per head: the Trainer's own split, outputs, losses and metrics."""
    from ..train._heads import Heads
    name = cfg["model"]["name"]
    heads = Heads(build_loss(cfg), None, build_metrics(cfg))
    inputs, target = heads.split([t[:2] for t in tensors], "fit")
    shapes = " and ".join(str(tuple(t.shape[1:])) for t in inputs)
    try:
        raw = model(*inputs)
    except (ValueError, TypeError, RuntimeError, IndexError) as e:
        raise CLIError(f"model {name!r} does not accept the data's inputs of shape {shapes} per sample ({e})") \
            from None
    try:
        out = heads.outputs(raw, "fit")
        heads.loss(out, target, "fit")
    except (ValueError, TypeError, RuntimeError, IndexError) as e:
        raise CLIError(f"the losses per head do not fit model {name!r}: {e}") from None
    for m in heads.metrics:
        try:
            heads.update_metrics([m], out, target)
        except (ValueError, TypeError, RuntimeError, IndexError) as e:
            raise CLIError(f"metric {m.name!r} does not fit head {str(m._ember_head)!r}'s outputs of shape "
                           f"{tuple(out[m._ember_head].shape)} and targets of shape "
                           f"{tuple(target[m._ember_head].shape)} ({e})") from None


def _dry_step(model, tensors, cfg: dict) -> None:
    from ..autograd import no_grad
    name = cfg["model"]["name"]
    if isinstance(cfg.get("loss"), dict):
        was_training = model.training
        model.eval()
        try:
            with no_grad():
                _dry_heads(model, tensors, cfg)
        finally:
            model.train(was_training)
        return
    inputs, target = tuple(t[:2] for t in tensors[:-1]), tensors[-1][:2]
    shapes = " and ".join(str(tuple(t.shape[1:])) for t in inputs)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            try:
                out = model(*inputs)
            except (ValueError, TypeError, RuntimeError, IndexError) as e:
                raise CLIError(f"model {name!r} does not accept the data's inputs of shape {shapes} per sample "
                               f"({e})") from None
            labels = tensors[-1].numpy()
            if is_classification(cfg) and getattr(out, "ndim", 0) >= 2 and labels.dtype.kind in "iu" and labels.size:
                n_out, n_classes = out.shape[1], int(labels.max()) + 1
                if n_out < n_classes:
                    raise CLIError(f"model {name!r} outputs {n_out} class scores, but the data has {n_classes} classes "
                                   f"(labels 0..{n_classes - 1}); give the model {n_classes} outputs (e.g. "
                                   f"num_classes = {n_classes}, or leave it out to take it from the data)")
            what = f"the model's outputs of shape {tuple(getattr(out, 'shape', ()))} and targets of shape " \
                   f"{tuple(target.shape)}"
            try:
                build_loss(cfg)(out, target)
            except (ValueError, TypeError, RuntimeError, IndexError) as e:
                raise CLIError(f"loss {cfg.get('loss', 'cross_entropy')!r} does not fit {what} ({e})") from None
            for spec in cfg["metrics"]:
                try:
                    build_metric(spec).update(out, target)
                except (ValueError, TypeError, RuntimeError, IndexError) as e:
                    label = spec.get("name") if isinstance(spec, dict) else spec
                    raise CLIError(f"metric {label!r} does not fit {what} ({e})") from None
    finally:
        model.train(was_training)


def evaluation_heads(cfg: dict, checkpoint_path: str) -> dict:
    """For ``ember evaluate`` of a run with one loss per head: the Trainer's ``metrics`` and ``loss_weights``
    (a learned weighting restored from the checkpoint), so that its numbers are the run's test numbers; ``{}``
    for a single loss."""
    if not isinstance(cfg.get("loss"), dict):
        return {}
    weighting = build_loss_weighting(cfg)
    if hasattr(weighting, "load_state_dict"):
        from ..train import load_checkpoint
        state = load_checkpoint(checkpoint_path).get("loss_weighting")
        if state is not None:
            try:
                weighting.load_state_dict(state)
            except (RuntimeError, ValueError, KeyError, TypeError) as e:
                raise CLIError(f"{checkpoint_path}: the saved loss weighting does not fit the config's heads ({e})") \
                    from None
    return {"metrics": build_metrics(cfg), "loss_weights": weighting}


def head_predictions(cfg: dict, outs: dict) -> list:
    """``ember predict`` for one loss per head: per input a line ``head=value ...``: a class head's argmax, a
    ``bce``/``bce_with_logits`` head's 0/1 (probability or logit past 0.5 or 0), a regression head's value."""
    from ..backend import np
    cols = []
    for head, spec in cfg["loss"].items():
        o = outs[head].numpy()
        if spec["name"] == "cross_entropy" and o.ndim >= 2:
            cols.append([str(int(v)) for v in o.argmax(axis=1).reshape(len(o), -1)[:, 0]] if o.ndim == 2 else
                        [" ".join(map(str, r)) for r in o.argmax(axis=1).reshape(len(o), -1)])
        elif spec["name"] in ("bce", "bce_with_logits"):
            cut = 0.5 if spec["name"] == "bce" else 0.0
            cols.append([" ".join(str(int(v)) for v in np.ravel(r > cut)) for r in o])
        else:
            cols.append([" ".join(f"{float(v):.6g}" for v in np.ravel(r)) for r in o])
    heads = list(cfg["loss"])
    return [" ".join(f"{h}={c[i]}" for h, c in zip(heads, cols)) for i in range(len(cols[0]))]
