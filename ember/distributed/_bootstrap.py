"""What ``python -m ember.distributed.run`` starts on each rank: initialise MPI, then run the user's script (or
``-m module``) as ``__main__``.  Any exception the script lets escape, or a non-zero ``sys.exit``, on any rank,
before or after ``init_process_group``, prints its traceback (or status) and calls ``MPI_Abort``, so every rank
stops at once instead of waiting for the failed one in a collective."""
from __future__ import annotations

import os
import runpy
import sys
import time
import traceback


# Seconds a failing rank waits between printing its error and MPI_Abort: the launcher forwards a rank's output
# through its proxies, and an abort can tear them down before the last lines are passed on (seen under load:
# the traceback never reached the terminal).  Only failures pay it.
ABORT_GRACE = 1.0


def _abort(comm, code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    time.sleep(ABORT_GRACE)
    comm.Abort(code)


def main() -> None:
    argv = sys.argv[1:]
    module = bool(argv) and argv[0] == "-m"
    if module:
        argv = argv[1:]
    if not argv:
        raise SystemExit("usage: python -m ember.distributed._bootstrap [-m] SCRIPT [ARGS...]")
    target, args = argv[0], argv[1:]
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    many = comm.Get_size() > 1
    sys.argv = [target] + args
    try:
        if module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        code = e.code
        if many and code not in (None, 0):
            if not isinstance(code, int):
                print(code, file=sys.stderr)
            print(f"ember.distributed.run: rank {comm.Get_rank()} exited with status {code}; stopping every rank",
                  file=sys.stderr)
            _abort(comm, code if isinstance(code, int) else 1)
        raise
    except BaseException:
        if not many:
            raise
        traceback.print_exc()
        print(f"ember.distributed.run: rank {comm.Get_rank()} failed; stopping every rank", file=sys.stderr)
        _abort(comm, 1)


if __name__ == "__main__":
    main()
