"""Start ember scripts in 2 MPI processes (mpiexec from the mpich wheel) for the tests of tests/distributed."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

from ember.distributed.run import find_mpiexec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MPIEXEC = find_mpiexec()
HAVE_MPI = importlib.util.find_spec("mpi4py") is not None and MPIEXEC is not None
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="needs mpi4py and mpiexec: pip install 'ember[distributed]'")


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = ROOT + os.pathsep + e.get("PYTHONPATH", "")
    e["OMP_NUM_THREADS"] = "1"
    e.pop("RANK", None)
    e.pop("WORLD_SIZE", None)
    return e


def run_mpi(tmp_path, source: str, n: int = 2, timeout: float = 60, check: bool = True, args=()):
    """Run ``source`` in ``n`` processes; return the CompletedProcess (asserting exit status 0 when ``check``)."""
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(source))
    cmd = [MPIEXEC, "-n", str(n), sys.executable, "-u", str(script), *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env(), cwd=str(tmp_path))
    if check:
        assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p
