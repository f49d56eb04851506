"""``History``: what ``Trainer.fit`` returns, one row of logs per epoch (Keras' ``History`` object).

``history.history`` maps each logged name (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``,
``time``) to its list of per-epoch values; ``history.epoch`` lists the epoch numbers.  It saves to CSV/JSON,
reloads from JSON, travels inside training checkpoints (``state_dict``) and draws its learning curves
(``plot``), where a validation loss that turns up while the training loss keeps falling shows overfitting.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os

from ..io.serialization import atomic_open

__all__ = ["History"]


def _atomic_write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: readers never see half a file."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def _num(v):
    """Logged values as plain floats/ints (tensors and NumPy scalars included)."""
    if isinstance(v, (bool, int)):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


class History:
    """Per-epoch training logs.

    >>> h = trainer.fit(train_loader, val_data=val_loader, epochs=5)
    >>> h.history["val_accuracy"][-1]
    >>> h.to_csv("history.csv"); h.plot("curves.png")
    """

    def __init__(self) -> None:
        self.epoch: list[int] = []
        self.history: dict[str, list] = {}

    def record(self, epoch: int, logs: dict) -> None:
        """Append one epoch's logs; names missing from this row (or new ones) are padded with NaN."""
        n = len(self.epoch)
        for key, value in logs.items():
            self.history.setdefault(key, [math.nan] * n).append(_num(value))
        for key, values in self.history.items():
            if len(values) == n:
                values.append(math.nan)
        self.epoch.append(int(epoch))

    def __len__(self) -> int:
        return len(self.epoch)

    def __getitem__(self, key: str) -> list:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def last(self) -> dict:
        """The logs of the latest epoch."""
        return {k: v[-1] for k, v in self.history.items()} if self.epoch else {}

    def best(self, monitor: str = "val_loss", mode: str = "min") -> tuple[int, float]:
        """``(epoch, value)`` of the best ``monitor`` value (``mode``: ``'min'`` or ``'max'``); NaNs skipped."""
        if monitor not in self.history:
            raise KeyError(f"History.best: '{monitor}' was not logged; logged names: {', '.join(self.history)}")
        pairs = [(e, v) for e, v in zip(self.epoch, self.history[monitor]) if isinstance(v, float) and v == v]
        if not pairs:
            raise ValueError(f"History.best: no finite values of '{monitor}'")
        pick = min if mode == "min" else max
        return pick(pairs, key=lambda p: p[1])

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, keys={list(self.history)})"

    # -- files --------------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Plain values, for checkpoints."""
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    def load_state_dict(self, state: dict) -> None:
        """Restore from ``state_dict()``."""
        try:
            epochs = [int(e) for e in state["epoch"]]
            hist = {str(k): [_num(x) for x in v] for k, v in state["history"].items()}
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            raise ValueError(f"History.load_state_dict: malformed state ({e!r}); expected "
                             f"{{'epoch': [...], 'history': {{name: [...]}}}}") from None
        bad = [k for k, v in hist.items() if len(v) != len(epochs)]
        if bad:
            raise ValueError(f"History.load_state_dict: columns {bad} do not have one value per epoch "
                             f"({len(epochs)})")
        self.epoch, self.history = epochs, hist

    def to_csv(self, path=None) -> str:
        """Write ``epoch,<names...>`` rows to ``path`` (atomically) and return the CSV text."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        keys = list(self.history)
        w.writerow(["epoch", *keys])
        for i, e in enumerate(self.epoch):
            w.writerow([e, *(self.history[k][i] for k in keys)])
        text = buf.getvalue()
        if path is not None:
            _atomic_write_text(path, text)
        return text

    def to_json(self, path=None) -> str:
        """Write the logs as JSON (NaN/inf as null/strings-free numbers) to ``path`` and return the text."""
        def clean(v):
            return None if isinstance(v, float) and not math.isfinite(v) else v
        state = {"epoch": self.epoch, "history": {k: [clean(x) for x in v] for k, v in self.history.items()}}
        text = json.dumps(state, indent=1)
        if path is not None:
            _atomic_write_text(path, text)
        return text

    @classmethod
    def from_json(cls, path_or_text) -> "History":
        """A History from ``to_json``'s file (or text); nulls come back as NaN."""
        text = path_or_text
        if not str(path_or_text).lstrip().startswith("{"):
            with open(path_or_text, encoding="utf-8") as f:
                text = f.read()
        try:
            state = json.loads(text)
        except ValueError as e:
            raise ValueError(f"History.from_json: {path_or_text!r} is not valid JSON ({e})") from None
        if isinstance(state, dict) and isinstance(state.get("history"), dict):
            state["history"] = {k: [math.nan if x is None else x for x in v] for k, v in state["history"].items()}
        h = cls()
        h.load_state_dict(state)
        return h

    # -- plots --------------------------------------------------------------------------------------------
    def plot(self, path, title: str | None = None) -> str:
        """Save learning curves to ``path`` (PNG): one panel for the loss and one per metric, training and
        validation side by side, the best validation epoch marked.  Needs matplotlib (``pip install
        ember[plot]``)."""
        try:
            import matplotlib
            matplotlib.use("Agg", force=False)      # files only: never needs a display
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("History.plot needs matplotlib, an optional extra: pip install 'ember[plot]'") from None
        if not self.epoch:
            raise ValueError("History.plot: nothing to plot (no epoch recorded)")
        skip = {"lr", "time"}
        names = [k for k in self.history if not k.startswith("val_") and k not in skip]
        names += [k[4:] for k in self.history if k.startswith("val_") and k[4:] not in names]
        names.sort(key=lambda k: k != "loss")           # loss first
        has_lr = "lr" in self.history and len(set(self.history["lr"])) > 1
        n = len(names) + has_lr
        cols = n if n <= 5 else 4                        # several heads: rows of four panels
        rows = -(-n // cols)
        fig, grid = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.8 * rows), squeeze=False)
        axes = [list(grid.flat)]
        for ax in axes[0][n:]:
            ax.axis("off")
        xs = [e + 1 for e in self.epoch]                 # epochs numbered from 1 on the axis, like the bar
        for ax, name in zip(axes[0], names):
            for key, label, style in ((name, "training", "-o"), ("val_" + name, "validation", "-s")):
                if key in self.history:
                    ax.plot(xs, self.history[key], style, label=label, markersize=3)
            if "val_" + name in self.history:
                try:
                    lower = _lower_is_better(name)
                    be, bv = self.best("val_" + name, "min" if lower else "max")
                    ax.axvline(be + 1, color="grey", linestyle=":", linewidth=1)
                    right = be + 1 > (xs[0] + xs[-1]) / 2      # keep the label inside the axes
                    ax.annotate(f"best {bv:.4g}", (be + 1, bv), textcoords="offset points",
                                xytext=(-4 if right else 4, 6), ha="right" if right else "left", fontsize=8)
                except ValueError:
                    pass
            ax.set_title(name)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            ax.legend()
        if has_lr:
            ax = axes[0][n - 1]
            ax.plot(xs, self.history["lr"], "-o", markersize=3, color="tab:green")
            ax.set_yscale("log")
            ax.set_title("learning rate")
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        path = os.fspath(path)
        try:
            with atomic_open(path, "wb") as fh:
                fig.savefig(fh, format="png", dpi=110)
        finally:
            plt.close(fig)
        return path


# quantities that improve upwards; everything else logged (losses, errors, deviances, a VAE's recon/kl) improves
# downwards.  One rule for the plots here and for the callbacks' mode="auto".
_HIGHER_BETTER = ("acc", "accuracy", "precision", "recall", "f1", "r2", "auc")


def metric_mode(monitor: str) -> str:
    """"max" for accuracy-like quantities (also ``val_`` and ``knn_accuracy``-style names, and a head's
    ``digit/accuracy``), else "min"."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    name = name.rsplit("/", 1)[-1]                       # one loss per head: "<head>/<metric>"
    if name in ("hamming_loss",):
        return "min"
    return "max" if any(name == h or name.endswith("_" + h) or name.startswith(h) for h in _HIGHER_BETTER) \
        else "min"


def _lower_is_better(name: str) -> bool:
    return metric_mode(name) == "min"
