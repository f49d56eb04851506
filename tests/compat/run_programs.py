"""Run PyTorch programs one after another in this process and write what each printed to a JSON file.

    python run_programs.py OUT.json prog1.py prog2.py ...                  # with the real torch
    python -m ember.compat run_programs.py OUT.json prog1.py ...           # with ember imported as torch

Each program runs as ``__main__`` (``runpy``) with ``sys.argv = [program]``, after the global state a program
may change is reset (default dtype, grad mode, seeds); its stdout is captured.  One interpreter for all the
programs pays the library's import once.  A program that raises records its traceback; one that runs past
``EMBER_COMPAT_PROGRAM_TIMEOUT`` seconds (default 120) is stopped with a timeout error.
"""
import contextlib
import io
import json
import os
import random
import runpy
import signal
import sys
import time
import traceback
import warnings

import numpy as np
import torch


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout(f"program ran past {os.environ.get('EMBER_COMPAT_PROGRAM_TIMEOUT', '120')} s")


def _reset() -> None:
    torch.set_default_dtype(torch.float32)
    torch.set_grad_enabled(True)
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    warnings.resetwarnings()


def run_one(path: str) -> dict:
    _reset()
    out = io.StringIO()
    err = None
    t0 = time.perf_counter()
    old_argv, old_path = sys.argv, list(sys.path)
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(os.environ.get("EMBER_COMPAT_PROGRAM_TIMEOUT", "120")))
    try:
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0):
            err = f"SystemExit({e.code!r})"
    except BaseException:  # noqa: BLE001 - recorded for the test to show
        err = traceback.format_exc(limit=-6)
    finally:
        signal.alarm(0)
        sys.argv, sys.path[:] = old_argv, old_path
    return {"stdout": out.getvalue(), "error": err, "seconds": round(time.perf_counter() - t0, 3)}


def main(argv) -> int:
    out_path, programs = argv[0], argv[1:]
    results = {os.path.basename(p): run_one(p) for p in programs}
    with open(out_path, "w") as fh:
        json.dump({"library": torch.__name__, "results": results}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
