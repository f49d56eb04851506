"""``ember.multiprocessing``: PyTorch's ``torch.multiprocessing``, the standard library's ``multiprocessing``
plus what makes tensors shareable between processes.

Everything ``multiprocessing`` has (``Process``, ``Queue``, ``Pool``, ``get_context``, ``set_start_method``...)
is here under the same names.  ``Tensor.share_memory_()`` / ``Module.share_memory()`` move arrays into
shared memory: children made by ``fork`` write to the very same parameters (Hogwild training), and a shared
tensor sent to a ``spawn`` child or through a ``Queue`` arrives mapped onto the same memory (its file
descriptor travels, PyTorch's ``file_descriptor`` strategy).  ``spawn(fn, args, nprocs)`` starts
``fn(i, *args)`` in ``nprocs`` processes as ``torch.multiprocessing.spawn`` does.
"""
from __future__ import annotations

import multiprocessing as _mp
import sys as _sys
from multiprocessing import *  # noqa: F401,F403

__all__ = list(_mp.__all__) + ["spawn", "start_processes", "ProcessContext", "ProcessRaisedException",
                               "ProcessExitedException", "get_sharing_strategy", "set_sharing_strategy",
                               "get_all_sharing_strategies", "init_reductions"]

_STRATEGY = "file_descriptor"


def get_all_sharing_strategies() -> set:
    return {"file_descriptor"}


def get_sharing_strategy() -> str:
    return _STRATEGY


def set_sharing_strategy(new_strategy: str) -> None:
    if new_strategy not in ("file_descriptor", "file_system"):
        raise ValueError(f"ember.multiprocessing.set_sharing_strategy: unknown strategy {new_strategy!r}; "
                         f"expected 'file_descriptor' or 'file_system'")
    # both are served by passing file descriptors of anonymous shared memory: nothing is left on disk


def init_reductions() -> None:
    """Tensors pickle themselves (shared ones by file descriptor); nothing to register."""


class ProcessException(Exception):
    def __init__(self, msg: str, error_index: int, pid: int) -> None:
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A process started by ``spawn`` raised; the message carries its traceback."""


class ProcessExitedException(ProcessException):
    """A process started by ``spawn`` exited with a non-zero code (or a signal)."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int = 1, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _wrap(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:  # noqa: BLE001 - sent to the parent, which raises it
        import traceback
        error_queue.put(traceback.format_exc())
        _sys.exit(1)


class ProcessContext:
    """The processes started by ``spawn(..., join=False)``; ``join()`` waits and re-raises a child's error."""

    def __init__(self, processes, error_queues) -> None:
        self.processes = processes
        self.error_queues = error_queues

    def pids(self) -> list:
        return [p.pid for p in self.processes]

    def join(self, timeout=None) -> bool:
        """Wait for every process; True when all finished.  A failed child stops the others and is raised
        as ``ProcessRaisedException`` (with its traceback) or ``ProcessExitedException``."""
        for i, p in enumerate(self.processes):
            p.join(timeout)
            if p.exitcode not in (None, 0):
                for q in self.processes:
                    if q.is_alive():
                        q.terminate()
                tb = None
                if not self.error_queues[i].empty():
                    tb = self.error_queues[i].get()
                if tb is not None:
                    raise ProcessRaisedException(f"\n\n-- Process {i} terminated with the following error:\n{tb}",
                                                 i, p.pid)
                raise ProcessExitedException(f"process {i} terminated with exit code {p.exitcode}", i, p.pid,
                                             exit_code=p.exitcode)
        return all(p.exitcode is not None for p in self.processes)


def start_processes(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
                    start_method: str = "spawn"):
    ctx = _mp.get_context(start_method)
    procs, queues = [], []
    for i in range(nprocs):
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_wrap, args=(fn, i, tuple(args), q), daemon=daemon)
        p.start()
        procs.append(p)
        queues.append(q)
    pc = ProcessContext(procs, queues)
    if not join:
        return pc
    while not pc.join():
        pass
    return None


def spawn(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False, start_method: str = "spawn"):
    """Run ``fn(i, *args)`` for i in 0..nprocs-1, each in a new process (``torch.multiprocessing.spawn``)."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
