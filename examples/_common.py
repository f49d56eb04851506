"""Shared command-line handling for the examples: every example takes --quick and --out DIR."""
from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

# examples run from a checkout without installing: make `import ember` find the package
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

SHARED_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"


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
