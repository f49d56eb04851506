"""Unit and gradient health: why a network does not learn, measured per layer.

Plain objects and functions usable in any training loop::

    stats = ActivationStats(model)          # forward hooks on every ReLU / Sigmoid / Tanh module
    for x, y in loader: loss_fn(model(x), y).backward(); opt.step(); opt.zero_grad()
    stats.report()   # {'2': {'kind': 'relu', 'dead_fraction': 0.5, 'mean': ..., 'std': ...}, ...}
    gradient_norms(model)                   # {'0': 0.31, '3': 1.2e-09, ...} (L2 norm per layer)
    check_gradients(model)                  # warns "layer '3': gradient norm 1.2e-09 ... vanishing"

and the same as ``Trainer`` callbacks that keep one record per epoch: ``UnitHealth`` and ``GradientHealth``
(``plot_gradient_flow``, ``plot_activation_histograms`` and ``plot_health`` draw them).

Definitions (each is what the number means, tested on networks built to have a known answer):
- a ReLU unit is *dead* when its output was never positive for any sample seen since the last ``reset()``
  (in an epoch).  A unit is one feature of a (N, F) output, one channel of a (N, C, ...) output.
- a sigmoid output is *saturated* below ``eps`` or above ``1 - eps``, a tanh output when ``|y| > 1 - eps``
  (``eps=0.01``: the local slope is then under 1% of its largest); the fraction is over all outputs seen.
- activation mean/std: over every output element seen (training-mode forwards only: evaluation is skipped).
- a layer's gradient norm is the L2 norm of all its parameters' gradients together; the update-to-weight ratio
  is ||w_after - w_before|| / ||w_before|| over one optimizer step (around 1e-3 is the usual healthy value).
- a gradient *vanishes* when its norm is below ``vanish`` (1e-7) and *explodes* above ``explode`` (1e3) or when
  it is not finite; ``check_gradients`` and ``GradientHealth`` warn with the layer's name.
"""
from __future__ import annotations

import math
import warnings

from .callbacks import Callback

__all__ = ["ActivationStats", "gradient_norms", "weight_norms", "snapshot_weights", "update_ratios",
           "check_gradients", "UnitHealth", "GradientHealth", "HealthRecorder", "plot_gradient_flow",
           "plot_activation_histograms", "plot_health", "GradientWarning"]

_KINDS = {"ReLU": "relu", "ReLU6": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}


class GradientWarning(UserWarning):
    """A layer's gradient vanished, exploded or is not finite."""


def _np():
    from ..backend import np
    return np


def _arr(t):
    return getattr(t, "_data", t)


def _layer_of(param_name: str) -> str:
    return param_name.rsplit(".", 1)[0] if "." in param_name else param_name


class _Acc:
    """Running statistics of one hooked module."""
    __slots__ = ("kind", "ever", "count", "saturated", "total", "sum", "sumsq", "sample", "batches")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.reset()

    def reset(self) -> None:
        self.ever = None        # per-unit "was positive at least once" (ReLU)
        self.count = 0          # elements seen
        self.saturated = 0
        self.total = 0.0
        self.sum = 0.0
        self.sumsq = 0.0
        self.sample = None      # a few values of the last batch, for histograms
        self.batches = 0


class ActivationStats:
    """Forward hooks on a model's ReLU, ReLU6, Sigmoid and Tanh modules (or on ``modules``: names or a predicate
    ``fn(name, module)``, each counted by its ``kind``: 'relu', 'sigmoid', 'tanh' or None for mean/std only).

    ``report()`` -> ``{layer name: {kind, dead_fraction (relu), saturated_fraction (sigmoid/tanh), mean, std,
    units, samples}}`` since the last ``reset()``.  ``remove()`` detaches the hooks.  Only training-mode
    forwards count (a Trainer's validation passes are left out); ``sample_size`` values of each layer's last
    batch are kept for histograms (0: none)."""

    def __init__(self, model, modules=None, eps: float = 0.01, sample_size: int = 2048) -> None:
        if not 0 < eps < 0.5:
            raise ValueError(f"ActivationStats: eps must be in (0, 0.5), got {eps}")
        self.eps = float(eps)
        self.sample_size = int(sample_size)
        self.layers: dict = {}
        self._handles = []
        chosen = []
        for name, m in model.named_modules():
            if not name:
                continue
            kind = _KINDS.get(type(m).__name__)
            if modules is None:
                if kind is not None:
                    chosen.append((name, m, kind))
            elif callable(modules) and not isinstance(modules, (list, tuple, set)):
                if modules(name, m):
                    chosen.append((name, m, kind))
            elif name in modules:
                chosen.append((name, m, kind))
        if modules is not None and not callable(modules):
            missing = set(modules) - {n for n, _, _ in chosen}
            if missing:
                raise ValueError(f"ActivationStats: no modules named {sorted(missing)} in "
                                 f"{type(model).__name__}; its modules are "
                                 f"{[n for n, _ in model.named_modules() if n][:20]}")
        for name, m, kind in chosen:
            acc = _Acc(kind)
            self.layers[name] = acc
            self._handles.append(m.register_forward_hook(self._hook(acc)))

    def _hook(self, acc: _Acc):
        np = _np()
        eps = self.eps
        size = self.sample_size

        def hook(module, inputs, output):
            if not module.training:
                return None
            a = _arr(output)
            if not hasattr(a, "dtype") or a.dtype.kind not in "fc" or a.size == 0:
                return None
            acc.count += a.size
            acc.batches += 1
            acc.sum += float(a.sum(dtype=np.float64))
            acc.sumsq += _sqnorm(a)
            if acc.kind == "relu":
                pos = a > 0
                if a.ndim > 2:
                    pos = pos.reshape(a.shape[0], a.shape[1], -1).any(axis=2)
                fired = pos.any(axis=0) if a.ndim >= 2 else pos
                acc.ever = fired if acc.ever is None or acc.ever.shape != fired.shape else (acc.ever | fired)
            elif acc.kind == "sigmoid":
                acc.saturated += int(np.count_nonzero((a < eps) | (a > 1 - eps)))
            elif acc.kind == "tanh":
                acc.saturated += int(np.count_nonzero(np.abs(a) > 1 - eps))
            if size:
                flat = a.ravel()
                acc.sample = flat[:: max(1, flat.size // size)][:size].astype(np.float32)
            return None
        return hook

    def reset(self) -> None:
        """Forget what was seen (a new epoch)."""
        for acc in self.layers.values():
            acc.reset()

    def remove(self) -> None:
        """Detach the forward hooks."""
        for h in self._handles:
            h.remove()
        self._handles = []

    def report(self) -> dict:
        """Per hooked layer: kind, dead_fraction (ReLU), saturated_fraction (sigmoid/tanh), mean, std, units,
        samples (elements seen).  Layers that saw nothing report NaN."""
        out = {}
        for name, acc in self.layers.items():
            n = acc.count
            mean = acc.sum / n if n else math.nan
            var = max(acc.sumsq / n - mean * mean, 0.0) if n else math.nan
            r = {"kind": acc.kind, "mean": mean, "std": math.sqrt(var) if n else math.nan, "samples": n}
            if acc.kind == "relu":
                if acc.ever is None:
                    r["dead_fraction"], r["units"] = math.nan, 0
                else:
                    r["units"] = int(acc.ever.size)
                    r["dead_fraction"] = float(acc.ever.size - int(acc.ever.sum())) / acc.ever.size
            elif acc.kind in ("sigmoid", "tanh"):
                r["saturated_fraction"] = acc.saturated / n if n else math.nan
            out[name] = r
        return out

    def samples(self) -> dict:
        """``{layer: values}``: a few activation values of each layer's last batch (for histograms)."""
        return {k: a.sample for k, a in self.layers.items() if a.sample is not None}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _sqnorm(a) -> float:
    """Sum of squares, in the array's own floating type (BLAS dot: no float64 copy of a large gradient)."""
    np = _np()
    a = np.asarray(a)
    if a.dtype.kind != "f" or a.dtype.itemsize < 4:
        a = a.astype(np.float64)
    f = a.reshape(-1) if a.flags.c_contiguous else a.ravel()
    return float(np.dot(f, f))


def _group(model, values_of, by: str) -> dict:
    np = _np()
    if by not in ("layer", "parameter"):
        raise ValueError(f"expected by='layer' or by='parameter', got {by!r}")
    sq: dict = {}
    for name, p in model.named_parameters():
        a = values_of(name, p)
        if a is None:
            continue
        key = _layer_of(name) if by == "layer" else name
        sq[key] = sq.get(key, 0.0) + _sqnorm(a)
    return {k: math.sqrt(v) if math.isfinite(v) else v for k, v in sq.items()}


def gradient_norms(model, by: str = "layer") -> dict:
    """L2 norm of the gradients, per layer (all of a module's own parameters together; the layer's name is the
    parameter name without its last part) or per parameter (``by="parameter"``).  Parameters without a
    gradient are left out; a non-finite gradient gives inf or nan."""
    return _group(model, lambda n, p: None if p.grad is None else _arr(p.grad), by)


def weight_norms(model, by: str = "layer") -> dict:
    """L2 norm of the parameters, per layer or per parameter."""
    return _group(model, lambda n, p: _arr(p), by)


def snapshot_weights(model) -> dict:
    """A copy of every parameter's values (``{name: array}``), for ``update_ratios`` after a step."""
    return {n: _arr(p).copy() for n, p in model.named_parameters()}


def update_ratios(model, before: dict, by: str = "layer") -> dict:
    """||w_now - w_before|| / ||w_before|| per layer (or parameter) since ``before = snapshot_weights(model)``;
    inf where the weights were all zero and moved, 0.0 where nothing moved."""
    np = _np()
    if by not in ("layer", "parameter"):
        raise ValueError(f"update_ratios: expected by='layer' or by='parameter', got {by!r}")
    num: dict = {}
    den: dict = {}
    for name, p in model.named_parameters():
        if name not in before:
            continue
        old = np.asarray(before[name])
        now = _arr(p)
        if old.shape != now.shape:
            raise ValueError(f"update_ratios: parameter {name!r} has shape {now.shape}, the snapshot {old.shape}")
        key = _layer_of(name) if by == "layer" else name
        num[key] = num.get(key, 0.0) + _sqnorm(np.subtract(now, old, dtype=np.result_type(now, old, np.float32)))
        den[key] = den.get(key, 0.0) + _sqnorm(old)
    out = {}
    for k in num:
        if den[k] > 0:
            out[k] = math.sqrt(num[k] / den[k])
        else:
            out[k] = 0.0 if num[k] == 0 else math.inf
    return out


def check_gradients(model=None, vanish: float = 1e-7, explode: float = 1e3, norms: dict | None = None,
                    warn: bool = True) -> list:
    """Find layers whose gradient norm is below ``vanish``, above ``explode`` or not finite.  Returns
    ``[(layer, norm, 'vanishing' | 'exploding' | 'not finite')]`` and, with ``warn``, issues one
    ``GradientWarning`` per layer naming it.  ``norms``: check these instead of ``gradient_norms(model)``."""
    if not 0 <= vanish < explode:
        raise ValueError(f"check_gradients: need 0 <= vanish < explode, got vanish={vanish}, explode={explode}")
    if norms is None:
        if model is None:
            raise TypeError("check_gradients: pass a model or norms")
        norms = gradient_norms(model)
    found = []
    for layer, v in norms.items():
        if not math.isfinite(v):
            found.append((layer, v, "not finite"))
        elif v < vanish:
            found.append((layer, v, "vanishing"))
        elif v > explode:
            found.append((layer, v, "exploding"))
    if warn:
        for layer, v, what in found:
            bound = f"below {vanish:g}" if what == "vanishing" else f"above {explode:g}" if what == "exploding" else ""
            warnings.warn(f"layer {layer!r}: gradient norm {v:.3g} is {what}" + (f" ({bound})" if bound else ""),
                          GradientWarning, stacklevel=2)
    return found


# -- callbacks --------------------------------------------------------------------------------------------------

class UnitHealth(Callback):
    """Per-epoch unit health during ``Trainer.fit``: ``history[epoch] = ActivationStats.report()`` (dead ReLU,
    saturated sigmoid/tanh fractions, activation mean/std per layer), and ``hist_samples[epoch]`` = values for
    histograms.  ``log=True`` also puts ``dead_<layer>`` / ``saturated_<layer>`` into the epoch logs (and so the
    History).  ``warn_dead``: warn naming a layer when that fraction of its ReLUs or more is dead."""

    def __init__(self, modules=None, eps: float = 0.01, sample_size: int = 2048, log: bool = False,
                 warn_dead: float | None = 0.5) -> None:
        self.modules, self.eps, self.sample_size, self.log, self.warn_dead = modules, eps, sample_size, log, warn_dead
        self.stats = None
        self.history: dict = {}
        self.hist_samples: dict = {}

    def on_train_begin(self, logs=None):
        if self.stats is None:
            self.stats = ActivationStats(self.model, self.modules, self.eps, self.sample_size)

    def on_epoch_begin(self, epoch, logs=None):
        if self.stats is None:
            self.on_train_begin()
        self.stats.reset()

    def on_epoch_end(self, epoch, logs=None):
        rep = self.stats.report()
        self.history[epoch] = rep
        self.hist_samples[epoch] = self.stats.samples()
        for layer, r in rep.items():
            if self.log and logs is not None:
                if "dead_fraction" in r:
                    logs[f"dead_{layer}"] = r["dead_fraction"]
                if "saturated_fraction" in r:
                    logs[f"saturated_{layer}"] = r["saturated_fraction"]
            if self.warn_dead is not None and r.get("dead_fraction", 0.0) >= self.warn_dead:
                warnings.warn(f"epoch {epoch}: layer {layer!r} has {100 * r['dead_fraction']:.0f}% dead ReLUs "
                              f"(never active this epoch)", GradientWarning, stacklevel=2)

    def on_train_end(self, logs=None):
        if self.stats is not None:
            self.stats.remove()
            self.stats = None


class GradientHealth(Callback):
    """Per-layer gradient norms and update-to-weight ratios during ``Trainer.fit`` (hooks on the optimizer's
    step, so the gradients are seen before ``zero_grad``).  Every ``every`` steps it records the gradient norms
    (cheap), and every ``ratio_every`` steps the update ratio of that step (a copy of the weights before the step;
    0 turns it off); ``history[epoch][layer]`` then holds ``grad_norm`` (mean over the recorded steps),
    ``grad_norm_max``, ``update_ratio`` (mean) and ``weight_norm`` (epoch end).
    Warns (``GradientWarning``, naming the layer) at most once per layer and kind when a recorded norm
    vanishes (< ``vanish``), explodes (> ``explode``) or is not finite."""

    def __init__(self, every: int = 1, ratio_every: int = 10, vanish: float = 1e-7, explode: float = 1e3) -> None:
        if int(every) < 1 or int(ratio_every) < 0:
            raise ValueError(f"GradientHealth: every must be >= 1 and ratio_every >= 0, got {every}, {ratio_every}")
        self.every, self.ratio_every, self.vanish, self.explode = int(every), int(ratio_every), vanish, explode
        self.history: dict = {}
        self.steps: list = []         # (global step, {layer: grad norm}) of every recorded step
        self._handles = []
        self._acc: dict = {}
        self._count = 0
        self._before = None
        self._warned: set = set()

    def on_train_begin(self, logs=None):
        opt = getattr(self.trainer, "optimizer", None)
        if opt is None:
            raise TypeError("GradientHealth needs a Trainer with an optimizer (its step hooks see the gradients)")
        self._handles = [opt.register_step_pre_hook(self._pre), opt.register_step_post_hook(self._post)]

    def _pre(self, opt, args, kwargs):
        self._count += 1
        self._before = None
        if self.ratio_every and (self._count - 1) % self.ratio_every == 0:
            self._before = snapshot_weights(self.model)
        if (self._count - 1) % self.every:
            return
        norms = gradient_norms(self.model)
        self.steps.append((self._count - 1, norms))
        for layer, v in norms.items():
            a = self._acc.setdefault(layer, {"sum": 0.0, "n": 0, "max": 0.0, "rsum": 0.0, "rn": 0})
            a["sum"] += v
            a["n"] += 1
            a["max"] = max(a["max"], v) if math.isfinite(v) else v
        for layer, v, what in check_gradients(norms=norms, vanish=self.vanish, explode=self.explode, warn=False):
            if (layer, what) not in self._warned:
                self._warned.add((layer, what))
                warnings.warn(f"step {self._count - 1}: layer {layer!r}: gradient norm {v:.3g} is {what}",
                              GradientWarning, stacklevel=2)

    def _post(self, opt, args, kwargs):
        if self._before is None:
            return
        for layer, r in update_ratios(self.model, self._before).items():
            a = self._acc.setdefault(layer, {"sum": 0.0, "n": 0, "max": 0.0, "rsum": 0.0, "rn": 0})
            a["rsum"] += r
            a["rn"] += 1
        self._before = None

    def on_epoch_begin(self, epoch, logs=None):
        self._acc = {}

    def on_epoch_end(self, epoch, logs=None):
        w = weight_norms(self.model)
        rec = {}
        for layer, a in self._acc.items():
            rec[layer] = {"grad_norm": a["sum"] / a["n"] if a["n"] else math.nan,
                          "grad_norm_max": a["max"] if a["n"] else math.nan,
                          "update_ratio": a["rsum"] / a["rn"] if a["rn"] else math.nan,
                          "weight_norm": w.get(layer, math.nan)}
        self.history[epoch] = rec

    def on_train_end(self, logs=None):
        for h in self._handles:
            h.remove()
        self._handles = []


# -- plots ------------------------------------------------------------------------------------------------------

def _history_of(obj) -> dict:
    return obj.history if hasattr(obj, "history") and isinstance(obj.history, dict) else obj


def plot_gradient_flow(grad_health, path=None, key: str = "grad_norm", title: str | None = None):
    """The gradient flow: one line per epoch (numbered from 1, as the History plots) across the layers (input
    side on the left), log scale, of
    ``key`` ('grad_norm', 'grad_norm_max' or 'update_ratio') from a ``GradientHealth`` (or its history, or
    one ``{layer: norm}`` dict from ``gradient_norms``).  Saves to ``path`` or returns the Figure."""
    from ember.viz._plot import pyplot, save_or_return
    plt = pyplot("plot_gradient_flow")
    hist = _history_of(grad_health)
    if hist and all(isinstance(v, (int, float)) for v in hist.values()):
        hist = {0: {k: {key: v} for k, v in hist.items()}}
    if not hist:
        raise ValueError("plot_gradient_flow: nothing recorded yet")
    layers = list(next(iter(hist.values())))
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * len(layers) + 2), 3.6))
    cmap = plt.get_cmap("viridis")
    epochs = sorted(hist)
    for i, e in enumerate(epochs):
        ys = [hist[e].get(layer, {}).get(key, math.nan) for layer in layers]
        ax.plot(range(len(layers)), ys, marker="o", color=cmap(i / max(1, len(epochs) - 1)),
                label=f"epoch {e + 1}" if len(epochs) <= 8 or i in (0, len(epochs) - 1) else None)
    ax.set_yscale("log")
    ax.set_xticks(range(len(layers)))
    ax.set_xticklabels(layers, rotation=45, ha="right")
    ax.set_xlabel("layer (input -> output)")
    ax.set_ylabel(key.replace("_", " "))
    ax.set_title(title or "gradient flow")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return save_or_return(fig, path, "plot_gradient_flow")


def plot_activation_histograms(unit_health, path=None, epochs=None, bins: int = 40, title: str | None = None):
    """Histograms of each hooked layer's activations (one panel per layer, one outline per epoch) from a
    ``UnitHealth`` callback (or its ``hist_samples``)."""
    from ember.viz._plot import pyplot, save_or_return
    np = _np()
    plt = pyplot("plot_activation_histograms")
    samples = unit_health.hist_samples if hasattr(unit_health, "hist_samples") else unit_health
    if not samples:
        raise ValueError("plot_activation_histograms: nothing recorded yet")
    eps = sorted(samples) if epochs is None else list(epochs)
    layers = list(samples[eps[0]])
    fig, axes = plt.subplots(1, len(layers), figsize=(2.6 * len(layers) + 0.5, 2.6), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for j, layer in enumerate(layers):
        ax = axes[0, j]
        for i, e in enumerate(eps):
            v = samples[e].get(layer)
            if v is None or v.size == 0:
                continue
            ax.hist(np.asarray(v, dtype=np.float64), bins=bins, histtype="step", density=True,
                    color=cmap(i / max(1, len(eps) - 1)), label=f"epoch {e + 1}")
        ax.set_title(layer, fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0, -1].legend(fontsize=6)
    fig.suptitle(title or "activations per epoch", fontsize=10)
    fig.tight_layout()
    return save_or_return(fig, path, "plot_activation_histograms")


def plot_health(unit_health, path=None, title: str | None = None):
    """Dead-ReLU and saturated fractions per layer over the epochs (one line per layer)."""
    from ember.viz._plot import pyplot, save_or_return
    plt = pyplot("plot_health")
    hist = _history_of(unit_health)
    if not hist:
        raise ValueError("plot_health: nothing recorded yet")
    epochs = sorted(hist)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for layer in hist[epochs[0]]:
        for key, style in (("dead_fraction", "-"), ("saturated_fraction", "--")):
            ys = [hist[e].get(layer, {}).get(key) for e in epochs]
            if all(y is None for y in ys):
                continue
            ax.plot([e + 1 for e in epochs], [math.nan if y is None else y for y in ys], style, marker="o",
                    label=f"{layer} {key.split('_')[0]}")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("epoch")
    ax.set_ylabel("fraction of units")
    ax.set_title(title or "unit health")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return save_or_return(fig, path, "plot_health")


class HealthRecorder(Callback):
    """Records unit and gradient health into a run folder (what ``ember train --diagnose`` uses): after each
    epoch ``diagnostics.json`` holds ``{"units": {epoch: UnitHealth report}, "gradients": {epoch: GradientHealth
    record}}``; at the end of training ``gradient_flow.png``, ``unit_health.png`` and ``activations.png`` are
    drawn (when matplotlib is installed), and ``graph.png``, the autograd graph of the model's first training
    output, when ``graph`` is set.  ``ember report RUN_DIR`` puts them on one HTML page."""

    def __init__(self, folder, eps: float = 0.01, every: int = 1, ratio_every: int = 10, graph: bool = True) -> None:
        self.folder = str(folder)
        self.units = UnitHealth(eps=eps, warn_dead=None)
        self.grads = GradientHealth(every=every, ratio_every=ratio_every)
        self.graph = graph
        self._graph_hook = None

    def set_trainer(self, trainer) -> None:
        super().set_trainer(trainer)
        self.units.set_trainer(trainer)
        self.grads.set_trainer(trainer)

    def on_train_begin(self, logs=None):
        self.units.on_train_begin(logs)
        if getattr(self.trainer, "optimizer", None) is not None:
            self.grads.on_train_begin(logs)
        if self.graph and self._graph_hook is None:
            self._graph_hook = self.model.register_forward_hook(self._draw_graph)

    def _draw_graph(self, module, inputs, output):
        import os
        if self._graph_hook is not None:
            self._graph_hook.remove()
        self._graph_hook = None
        self.graph = False
        try:
            from ember.viz import draw_graph
            draw_graph(output, params=dict(module.named_parameters()), max_nodes=400).save(
                os.path.join(self.folder, "graph.png"), dpi=80)
        except (ImportError, ValueError, TypeError, OSError):   # too big, not a tensor, no matplotlib: no picture
            pass

    def on_epoch_begin(self, epoch, logs=None):
        self.units.on_epoch_begin(epoch, logs)
        self.grads.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        import json
        import os
        self.units.on_epoch_end(epoch, logs)
        self.grads.on_epoch_end(epoch, logs)

        def clean(v):
            if isinstance(v, dict):
                return {str(k): clean(x) for k, x in v.items()}
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return v
        data = {"units": clean(self.units.history), "gradients": clean(self.grads.history)}
        tmp = os.path.join(self.folder, "diagnostics.json.tmp")
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, os.path.join(self.folder, "diagnostics.json"))

    def on_train_end(self, logs=None):
        import os
        if self._graph_hook is not None:
            self._graph_hook.remove()
            self._graph_hook = None
        try:
            if self.grads.history:
                plot_gradient_flow(self.grads, os.path.join(self.folder, "gradient_flow.png"))
            if self.units.history:
                plot_health(self.units, os.path.join(self.folder, "unit_health.png"))
            if any(self.units.hist_samples.values()):
                plot_activation_histograms(self.units, os.path.join(self.folder, "activations.png"))
        except ImportError:
            pass
        finally:
            self.units.on_train_end(logs)
            self.grads.on_train_end(logs)
