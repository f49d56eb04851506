"""``python -m ember.distributed.run -n N script.py [args...]``: torchrun's role on MPI.

Starts N copies of ``script.py`` (or ``-m module``) with ``mpiexec`` from the installed MPI (the ``mpich`` wheel
puts it next to the Python interpreter), each with ``OMP_NUM_THREADS=1`` unless set (as torchrun does when N > 1).
``--hostfile FILE`` spreads the processes over machines (MPICH's host file: one ``host[:slots]`` a line).  The
script calls ``ember.distributed.init_process_group("mpi")``.  Each rank runs the script through
``ember.distributed._bootstrap``, which stops every rank (``MPI_Abort``) when any rank raises or exits with a
non-zero status, before or after ``init_process_group``; the exit status is then non-zero."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys


def find_mpiexec() -> str | None:
    """``mpiexec`` next to this Python (the mpich wheel's), else on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return here
    return shutil.which("mpiexec")


def build_command(args) -> list:
    mpiexec = find_mpiexec()
    if mpiexec is None:
        raise SystemExit("ember.distributed.run: mpiexec not found; pip install 'ember[distributed]' (mpi4py + mpich)")
    cmd = [mpiexec, "-n", str(args.nproc)]
    if args.hostfile:
        cmd += ["-f", args.hostfile]
    cmd += [sys.executable, "-u", "-m", "ember.distributed._bootstrap"]
    if args.module:
        cmd += ["-m", args.script]
    else:
        cmd += [args.script]
    return cmd + list(args.script_args)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ember.distributed.run",
                                description="Start N ember processes under MPI (torchrun's role).")
    p.add_argument("-n", "--nproc", "--nproc-per-node", "--nproc_per_node", dest="nproc", type=int, default=1,
                   help="number of processes (default 1)")
    p.add_argument("--hostfile", "-f", default=None, help="MPICH host file (one host[:slots] per line)")
    p.add_argument("-m", "--module", action="store_true", help="run script as a module (python -m)")
    p.add_argument("script")
    p.add_argument("script_args", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    if args.nproc < 1:
        p.error(f"--nproc must be at least 1, got {args.nproc}")
    env = dict(os.environ)
    if args.nproc > 1:
        env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.call(build_command(args), env=env)


if __name__ == "__main__":
    sys.exit(main())
