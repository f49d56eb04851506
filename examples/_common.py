"""Shared command-line handling for the examples: every example takes --quick and --out DIR."""
from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

# examples run from a checkout without installing: make `import ember` find the package
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

# every printed line reaches a pipe or a log file at once (`python examples/x.py | tee log`, `> log`), not
# when a 4 KiB buffer fills minutes later
try:
    sys.stdout.reconfigure(line_buffering=True)
except (AttributeError, ValueError):        # not a text stream that can be reconfigured
    pass


def progress(batches, epoch: int, epochs: int, total: int | None = None, log_every: float = 30.0):
    """Iterate over one epoch's ``batches`` with ember's training progress output (what ``ember train`` and
    ``Trainer.fit`` show): a tqdm bar on a terminal; otherwise a plain line every 30 s with the batch count, the
    time so far and the epoch's ETA (every ``log_every`` seconds).  The example prints its own line when the
    epoch ends."""
    from ember.train.callbacks import ProgressBar
    if total is None:
        try:
            total = len(batches)
        except TypeError:
            total = None
    bar = ProgressBar("auto", log_every=log_every)
    bar.set_params({"epochs": epochs, "steps": total})
    bar.on_train_begin()
    bar.on_epoch_begin(epoch)
    try:
        for i, batch in enumerate(batches):
            yield batch
            bar.on_batch_end(i, {})
    finally:
        bar.on_train_end()                  # closes the bar (the epoch line is the example's)


def parse_args(description: str, **extra) -> argparse.Namespace:
    """--quick (a few batches, for the smoke tests), --out DIR (PNGs and logs), --seed, plus ``extra``
    options given as name=(type, default, help)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="run a few batches only (smoke test)")
    p.add_argument("--out", default=None, help="folder for PNGs and logs (default: examples-out/<name>)")
    p.add_argument("--seed", type=int, default=0)
    for name, (typ, default, help_) in extra.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=typ, default=default, help=help_)
    args = p.parse_args()
    name = pathlib.Path(sys.argv[0]).stem
    args.out = pathlib.Path(args.out or os.path.join("examples-out", name))
    args.out.mkdir(parents=True, exist_ok=True)
    return args


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0


def savefig(fig, path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"saved {path}")


def load_mnist_arrays(kind: str = "mnist", quick: bool = False):
    """(X_train, y_train, X_test, y_test) as float32 arrays in [0, 1] of shape (N, 1, 28, 28) and int64 labels,
    read with ember's IDX reader from ember's data root ($EMBER_DATA, else the user's cache folder; downloaded
    there when missing).  Without the files and without a network it exits with one line naming them."""
    import numpy as np
    from ember.data.datasets import MNIST, FashionMNIST
    cls = MNIST if kind == "mnist" else FashionMNIST
    try:
        cls(train=True, download=True)
    except RuntimeError as e:
        sys.exit(f"{pathlib.Path(sys.argv[0]).name}: {e}")
    out = []
    for train in (True, False):
        ds = cls(train=train)
        x = np.asarray(ds.data, dtype=np.float32).reshape(-1, 1, 28, 28) / 255.0
        y = np.asarray(ds.targets, dtype=np.int64)
        if quick:
            x, y = x[:512], y[:512]
        out += [x, y]
    return tuple(out)


def evaluate(model, loader) -> float:
    """Classification accuracy of ``model`` over ``loader`` (eval mode, no graph)."""
    import ember
    model.eval()
    correct = total = 0
    with ember.no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(1) == y).sum())
            total += len(y)
    return correct / total


def read_tiny_shakespeare() -> str:
    """The text of Tiny Shakespeare from ember's data root (downloaded there when missing); without the file
    and without a network it exits with one line naming it."""
    from ember.data.datasets import TinyShakespeare
    try:
        return pathlib.Path(TinyShakespeare.find(download=True)).read_text()
    except RuntimeError as e:
        sys.exit(f"{pathlib.Path(sys.argv[0]).name}: {e}")
