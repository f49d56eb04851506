"""``ember train CONFIG --nproc N``: the same run on N processes (data-parallel, ``ember.distributed`` on MPI).

The ``ember`` process checks the command line, the config and any ``--resume`` checkpoint as usual, then starts
itself N times under ``mpiexec`` (the mpich wheel's, as ``python -m ember.distributed.run`` does; ``--hostfile``
spreads the ranks over machines) with ``EMBER_TRAIN_NPROC`` set and ``OMP_NUM_THREADS=1`` unless set, relays
their output, and exits with their status.  Each rank trains on its ``DistributedSampler`` share of every global
batch (``batch_size`` stays the global batch: each rank takes ``batch_size / N``), through
``DistributedDataParallel``; rank 0 alone prints and writes the run folder; the logged numbers are sums over all
ranks (``ember.distributed._train.TrainSync``).  Checkpoints hold the un-wrapped model, so a run resumes with
any number of processes.  A rank that fails prints one line and stops every rank (``MPI_Abort``): no rank is
left waiting in a collective.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from .config import CLIError, learns_by_gradient, uses_training_step

ENV = "EMBER_TRAIN_NPROC"
RUN_FILE_ENV = "EMBER_TRAIN_RUN_FILE"      # where rank 0 writes the path of its run folder for the launcher
# where rank 0 also writes its closing "ember: ..." line before MPI_Abort: the launcher's output forwarding may
# be torn down by the abort before it passes that line on (seen under load: the run then ended "without a
# message"); the supervising process prints it from here when the relay did not see it
MSG_FILE_ENV = "EMBER_TRAIN_MSG_FILE"

# what MPICH's launcher adds around an aborted or killed rank: the ranks' own line says what happened
_NOISE = ("application called MPI_Abort", "BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES",
          "YOUR APPLICATION TERMINATED WITH THE EXIT STRING", "This typically refers to a problem with your",
          "Please see the FAQ page for debugging", "CLEANING UP REMAINING PROCESSES",
          "YOU CAN IGNORE THE BELOW CLEANUP MESSAGES", "RUNNING AT ", "EXIT CODE:", "[proxy:", "[mpiexec@")


def add_arguments(parser, positive_int) -> None:
    """``ember train``'s ``--nproc`` and ``--hostfile``."""
    parser.add_argument("--nproc", type=positive_int, default=1, metavar="N",
                        help="train on N processes (data-parallel over MPI; batch_size stays the global batch; "
                             "needs ember[distributed]); see docs/distributed.md")
    parser.add_argument("--hostfile", metavar="FILE", help="with --nproc: spread the processes over the machines "
                                                           "of this MPICH host file (host[:processes] a line)")


def is_child() -> bool:
    """True inside a rank started by ``ember train --nproc N``."""
    return bool(os.environ.get(ENV))


def start(args, cfg: dict):
    """``ember train --nproc N`` (N > 1) outside the ranks: check, start the ranks, return their exit status;
    None when this process trains itself (one process, or one of the ranks)."""
    if args.hostfile is not None and args.nproc == 1:
        raise CLIError("--hostfile needs --nproc N (the number of processes to spread over its machines)")
    if args.nproc == 1 or is_child():
        return None
    check(cfg, args.nproc, args.config)
    return launch(args, args.argv)


def check(cfg: dict, nproc: int, src: str) -> None:
    """Before starting any process: what ``--nproc`` cannot do with this config, as one line."""
    from ..distributed import is_available
    from ..distributed.run import find_mpiexec
    if nproc == 1:
        return
    if not is_available() or find_mpiexec() is None:
        raise CLIError("--nproc needs mpi4py and an MPI launcher: pip install 'ember[distributed]' (mpi4py + the "
                       "mpich wheel)")
    if uses_training_step(cfg) or not learns_by_gradient(cfg) or isinstance(cfg.get("loss"), dict):
        raise CLIError(f"--nproc {nproc}: {src} trains a model through its own training_step, update rule or "
                       f"several heads; data-parallel training supports models trained as loss(model(x), y); "
                       f"train it with one process")
    if cfg["batch_size"] % nproc:
        raise CLIError(f"--nproc {nproc}: batch_size {cfg['batch_size']} of {src} is the global batch and must "
                       f"divide evenly among the {nproc} processes (e.g. batch_size = "
                       f"{max(nproc, cfg['batch_size'] // nproc * nproc)})")


def _relay(src, dst, seen: dict) -> None:
    """Copy a rank stream line by line, dropping MPICH's abort banners and any error line after the first."""
    for line in iter(src.readline, ""):
        text = line.strip()
        if any(n in text for n in _NOISE) or (text and set(text) <= {"="}):
            continue
        if text.startswith("ember: error:"):
            with seen["lock"]:
                if seen["error"]:
                    continue
                seen["error"] = True
        if text.startswith("ember: "):
            seen["said"] = True
        if not seen.get(id(dst)):
            try:
                dst.write(line)
                dst.flush()
            except (OSError, ValueError):       # our reader went away (| head): keep draining the ranks
                seen[id(dst)] = True


def report_run_dir(run_dir: str) -> None:
    """Rank 0: write the run folder's path where the launching process will read it."""
    path = os.environ.get(RUN_FILE_ENV)
    if path:
        with open(path, "w", encoding="utf-8") as f:
            f.write(os.path.abspath(run_dir))


def _tidy(folder: str) -> None:
    """After a failure: remove a new run folder that holds nothing to continue from (what a one-process run
    removes itself; here rank 0 was stopped before it could)."""
    names = os.listdir(folder)
    if all(n == "config.toml" or n.endswith(".tmp") for n in names):
        for n in names:
            os.remove(os.path.join(folder, n))
        os.rmdir(folder)


def launch(args, argv: list) -> int:
    """Start ``ember`` + ``argv`` on ``args.nproc`` MPI ranks; returns their exit status (a new run folder
    left without a checkpoint by a failure is removed)."""
    import tempfile
    from ..distributed.run import find_mpiexec
    if args.hostfile is not None and not os.path.isfile(args.hostfile):
        raise CLIError(f"--hostfile {args.hostfile}: no such file (one host[:processes] a line)")
    cmd = [find_mpiexec(), "-n", str(args.nproc)]
    if args.hostfile:
        cmd += ["-f", args.hostfile]
    cmd += [sys.executable, "-u", "-m", "ember.cli"] + list(argv)
    env = dict(os.environ)
    env[ENV] = str(args.nproc)
    env.setdefault("OMP_NUM_THREADS", "1")
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        env.pop(k, None)
    fd, env[RUN_FILE_ENV] = tempfile.mkstemp(prefix="ember-run-", suffix=".txt")
    os.close(fd)
    fd, env[MSG_FILE_ENV] = tempfile.mkstemp(prefix="ember-msg-", suffix=".txt")
    os.close(fd)
    try:
        return _supervise(cmd, env, args)
    finally:
        os.remove(env[RUN_FILE_ENV])
        os.remove(env[MSG_FILE_ENV])


def _supervise(cmd, env, args) -> int:
    sys.stdout.flush()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    seen = {"lock": threading.Lock(), "error": False}
    threads = [threading.Thread(target=_relay, args=(s, d, seen), daemon=True)
               for s, d in ((proc.stdout, sys.stdout), (proc.stderr, sys.stderr))]
    for t in threads:
        t.start()
    # Ctrl-C reaches the ranks from the terminal (they finish the batch and stop together); SIGTERM sent to this
    # process is passed on to the launcher, which passes it to the ranks
    old = {}
    if threading.current_thread() is threading.main_thread():
        old[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        old[signal.SIGTERM] = signal.signal(signal.SIGTERM, lambda s, f: proc.send_signal(signal.SIGTERM))
    try:
        code = proc.wait()
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
    for t in threads:
        t.join(timeout=5)
    with open(env[RUN_FILE_ENV], encoding="utf-8") as f:
        run = f.read().strip() or None
    with open(env[MSG_FILE_ENV], encoding="utf-8") as f:
        said = f.read().strip()
    if code != 0 and not seen.get("said") and said:  # rank 0's line, lost by the launcher in the abort
        print(said, file=sys.stderr, flush=True)
    elif code != 0 and not seen.get("said"):       # a rank killed outright (SIGKILL, out of memory)
        keep = (f"; continue with: ember train --resume {run}" if run is not None and os.path.isfile(
            os.path.join(run, "last.safetensors")) else "")
        print(f"ember: error: a process of the run stopped without a message (MPI launcher exit status {code}: "
              f"killed by a signal or for lack of memory?); every rank was stopped{keep}", file=sys.stderr,
              flush=True)
    if code != 0 and run is not None and (args.resume is None or os.path.abspath(args.resume) != run):
        try:
            _tidy(run)
        except OSError:
            pass
    return code if code >= 0 else 128 - code


class _Said:
    """Rank 0's stderr: writes through, and keeps the lines that start with "ember: " (its closing words)."""

    def __init__(self, stream):
        self.stream = stream
        self.lines: list = []
        self._part = ""

    def write(self, text):
        # (carriage returns end a line too: a progress bar redraws one line with them, which would otherwise
        # grow the pending text for a whole epoch and be split again on every write)
        self._part += text
        *done, self._part = self._part.replace("\r", "\n").split("\n")
        self.lines += [ln for ln in done if ln.startswith("ember: ")]
        return self.stream.write(text)

    def flush(self):
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _leave_message(lines) -> None:
    """Before MPI_Abort: the rank's "ember: ..." lines into the launcher's message file, on disk."""
    path = os.environ.get(MSG_FILE_ENV)
    if not path or not lines:
        return
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        pass


def run_child(fn, args) -> int:
    """Run ``fn(args)`` as one rank: ranks > 0 print nothing; a rank that fails (an exception, a non-zero
    status) prints one ``ember: error:`` line and stops every rank with ``MPI_Abort``."""
    import ember.distributed as dist
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    rank, world = comm.Get_rank(), comm.Get_size()
    err = sys.stderr
    if rank:                                # rank 0 speaks for the run; the others' output would repeat it
        sys.stdout = sys.stderr = open(os.devnull, "w")
    else:
        sys.stderr = _Said(err)             # remembers its "ember: ..." lines for the launcher (MSG_FILE_ENV)
    msg, code = None, 0
    try:
        want = int(os.environ.get(ENV, "0"))
        if want != world:
            raise CLIError(f"--nproc {want}: the MPI launcher started {world} process(es)")
        dist.init_process_group("mpi")
        code = fn(args)
    except CLIError as e:
        msg, code = f"ember: error: {str(e).splitlines()[0] if str(e) else 'error'}", 2
    except KeyboardInterrupt:
        msg, code = "ember: interrupted", 130
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException as e:  # noqa: BLE001 - any failure must stop the other ranks
        text = " ".join(str(e).split())
        msg, code = f"ember: error: rank {rank} of {world} failed: {type(e).__name__}: {text[:1500]}", 1
    code = int(code or 0)
    if code == 0:
        if dist.is_initialized():
            dist.destroy_process_group()
        return 0
    if msg is not None:                     # (rank 0 through its _Said stream, which keeps the line)
        print(msg, file=err if rank else sys.stderr, flush=True)
    sys.stdout.flush()
    sys.stderr.flush()
    if not rank:
        _leave_message(sys.stderr.lines if isinstance(sys.stderr, _Said) else [])
    elif msg is not None:                   # a rank's own failure: its line is the run's
        _leave_message([msg])
    if rank and msg is None:
        # a shared outcome (interrupted, diverged): rank 0 says it and its Abort stops us.  Wait long enough for
        # that on a loaded machine (a 2 s wait once killed rank 0 before it had printed its line); the wait only
        # runs out if rank 0 never gets there
        time.sleep(30.0)
    else:
        from ..distributed._bootstrap import ABORT_GRACE
        time.sleep(ABORT_GRACE)             # (the launcher forwards the line before the abort tears it down)
    comm.Abort(code)
    return code
