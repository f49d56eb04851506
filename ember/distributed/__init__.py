"""``ember.distributed``: PyTorch's ``torch.distributed`` interface on MPI (through ``mpi4py``).

Start N processes with ``python -m ember.distributed.run -n N script.py`` (or ``mpiexec -n N python script.py``);
in the script, ``init_process_group(backend="mpi")`` reads the rank and size from the MPI launcher.  The
collectives work in place on ember tensors, as PyTorch's do, and each has an ``async_op=True`` form that returns a
:class:`Work` handle (MPI non-blocking collectives).  ``backend="gloo"`` is accepted as well (PyTorch's CPU
backend name; it runs over MPI here), ``"nccl"`` raises (ember has no GPU).  Needs ``pip install ember[distributed]``
(``mpi4py`` and the ``mpich`` wheel); without it ``is_available()`` is False.  ``ember train CONFIG --nproc N``
trains a config on N processes without a script (``ember.cli._nproc``, ``ember.distributed._train``).  See
docs/distributed.md.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from enum import Enum

__all__ = ["is_available", "is_initialized", "init_process_group", "destroy_process_group", "get_rank",
           "get_world_size", "get_backend", "barrier", "ReduceOp", "Work", "ProcessGroup", "GroupMember",
           "group", "new_group", "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor",
           "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter", "send", "recv", "isend", "irecv",
           "all_gather_object", "broadcast_object_list", "gather_object", "scatter_object_list",
           "is_mpi_available", "is_gloo_available", "is_nccl_available", "is_torchelastic_launched",
           "all_to_all", "all_to_all_single", "get_process_group_ranks", "get_global_rank", "get_group_rank"]


class ReduceOp(Enum):
    """The reductions of ``all_reduce``, ``reduce`` and ``reduce_scatter`` (PyTorch's names)."""
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self) -> str:
        return f"<ReduceOp.{self.name}>"


def is_available() -> bool:
    """True when ``mpi4py`` is installed (``pip install ember[distributed]``)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    return is_available()


def is_gloo_available() -> bool:
    return is_available()      # "gloo" runs over MPI in ember


def is_nccl_available() -> bool:
    return False


def is_torchelastic_launched() -> bool:
    return False


def _mpi():
    if not is_available():
        raise RuntimeError("ember.distributed needs mpi4py and an MPI library: pip install 'ember[distributed]' "
                           "(mpi4py + the mpich wheel)")
    from mpi4py import MPI
    return MPI


class ProcessGroup:
    """A set of ranks and its MPI communicator.  ``ranks`` are the global ranks of its members."""

    def __init__(self, comm, ranks, backend: str = "mpi") -> None:
        self.comm = comm
        self.ranks = list(ranks)
        self._backend = backend

    def rank(self) -> int:
        return self.comm.Get_rank()

    def size(self) -> int:
        return self.comm.Get_size()

    def name(self) -> str:
        return self._backend

    def __repr__(self) -> str:
        return f"ProcessGroup(backend={self._backend!r}, ranks={self.ranks})"


class GroupMember:
    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = object()


class group:                    # noqa: N801 - PyTorch's name (torch.distributed.group.WORLD)
    WORLD = None


_state = {"excepthook": None}


def is_initialized() -> bool:
    """Whether ``init_process_group`` has been called (and ``destroy_process_group`` not since)."""
    return GroupMember.WORLD is not None


def _default():
    if GroupMember.WORLD is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return GroupMember.WORLD


def _group(g) -> ProcessGroup:
    if g is None or g is group.WORLD:
        return _default()
    if g is GroupMember.NON_GROUP_MEMBER:
        raise ValueError("ember.distributed: this rank is not a member of the group")
    if not isinstance(g, ProcessGroup):
        raise TypeError(f"ember.distributed: group must be a ProcessGroup from new_group() or None, got "
                        f"{type(g).__name__}")
    _default()
    return g


def _abort_excepthook(exc_type, exc, tb):
    """An uncaught exception on one rank: print it and abort every rank (no rank waits forever in a collective)."""
    prev = _state["excepthook"] or sys.__excepthook__
    prev(exc_type, exc, tb)
    try:
        sys.stderr.flush()
        sys.stdout.flush()
    finally:
        if GroupMember.WORLD is not None and GroupMember.WORLD.comm.Get_size() > 1:
            from ._bootstrap import ABORT_GRACE
            import time
            time.sleep(ABORT_GRACE)         # (let the launcher forward the traceback before the abort)
            _mpi().COMM_WORLD.Abort(1)


def init_process_group(backend: str | None = None, init_method: str | None = None, timeout=None,
                       world_size: int = -1, rank: int = -1, store=None, group_name: str = "",
                       pg_options=None, device_id=None) -> None:
    """Join the process group of the processes started by ``mpiexec`` (or ``python -m ember.distributed.run``).

    ``backend``: ``"mpi"`` (default) or ``"gloo"`` (run over MPI); ``"nccl"`` raises.  ``world_size``/``rank``,
    when given, and the ``RANK``/``WORLD_SIZE`` environment variables, when set, must agree with MPI's.  Sets
    ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` as torchrun does.  An uncaught exception on
    any rank afterwards aborts all ranks (MPI_Abort), so no rank hangs in a collective."""
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    b = "mpi" if backend is None else str(backend).lower()
    if b in ("cpu:gloo", "cpu:mpi"):
        b = b[4:]
    if b not in ("mpi", "gloo"):
        hint = " needs CUDA GPUs, which ember has not" if "nccl" in b else " is not known"
        raise RuntimeError(f"ember.distributed.init_process_group: backend {backend!r}{hint}; use backend='mpi' "
                           f"(or 'gloo', which runs over MPI in ember)")
    if init_method not in (None, "env://") and not str(init_method).startswith(("tcp://", "file://")):
        raise ValueError(f"ember.distributed.init_process_group: init_method {init_method!r} is not supported; "
                         f"ranks come from the MPI launcher (use env://, tcp:// or leave it out)")
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    r, n = comm.Get_rank(), comm.Get_size()
    for what, given, env, real in (("rank", rank, "RANK", r), ("world_size", world_size, "WORLD_SIZE", n)):
        if given is not None and int(given) >= 0 and int(given) != real:
            raise ValueError(f"ember.distributed.init_process_group: {what}={given} but the MPI launcher started "
                             f"this process as {what} {real}")
        if os.environ.get(env) not in (None, "") and int(os.environ[env]) != real and n > 1:
            raise ValueError(f"ember.distributed.init_process_group: environment variable {env}="
                             f"{os.environ[env]} but the MPI launcher started this process as {what} {real}")
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    os.environ.update(RANK=str(r), WORLD_SIZE=str(n), LOCAL_RANK=str(local.Get_rank()),
                      LOCAL_WORLD_SIZE=str(local.Get_size()))
    local.Free()
    GroupMember.WORLD = group.WORLD = ProcessGroup(comm, range(n), b)
    if sys.excepthook is not _abort_excepthook:
        _state["excepthook"] = sys.excepthook
        sys.excepthook = _abort_excepthook


def destroy_process_group(group=None) -> None:
    """Leave the process group (the default group when ``group`` is None)."""
    if group is not None and group is not GroupMember.WORLD:
        if isinstance(group, ProcessGroup) and group.comm is not None:
            group.comm.Free()
            group.comm = None
        return
    if GroupMember.WORLD is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    GroupMember.WORLD = globals()["group"].WORLD = None
    if sys.excepthook is _abort_excepthook:
        sys.excepthook = _state["excepthook"] or sys.__excepthook__


def get_rank(group=None) -> int:
    """This process's rank in ``group`` (the default group when None); -1 when not a member."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).rank()


def get_world_size(group=None) -> int:
    """The number of processes in ``group`` (the default group when None)."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).size()


def get_backend(group=None) -> str:
    return _group(group).name()


def get_process_group_ranks(group) -> list:
    """The global ranks of ``group``'s members."""
    return list(_group(group).ranks)


def get_global_rank(group, group_rank: int) -> int:
    """The global rank of ``group``'s member ``group_rank``."""
    ranks = _group(group).ranks
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"ember.distributed.get_global_rank: group rank {group_rank} is not in the group "
                         f"(size {len(ranks)})")
    return ranks[group_rank]


def get_group_rank(group, global_rank: int) -> int:
    """``global_rank``'s rank within ``group``."""
    ranks = _group(group).ranks
    if global_rank not in ranks:
        raise ValueError(f"ember.distributed.get_group_rank: global rank {global_rank} is not part of the group")
    return ranks.index(global_rank)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False):
    """A sub-group of the given global ``ranks`` (all ranks when None).  Every rank must call it, as in PyTorch;
    on a non-member it returns ``GroupMember.NON_GROUP_MEMBER``."""
    world = _default()
    n = world.size()
    ranks = list(range(n)) if ranks is None else sorted(int(r) for r in ranks)
    bad = [r for r in ranks if not 0 <= r < n]
    if bad or len(set(ranks)) != len(ranks):
        raise ValueError(f"ember.distributed.new_group: ranks must be distinct and in [0, {n - 1}], got {ranks}")
    me = world.rank()
    MPI = _mpi()
    sub = world.comm.Split(0 if me in ranks else MPI.UNDEFINED, ranks.index(me) if me in ranks else 0)
    if me not in ranks:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(sub, ranks, world.name())


from ._collectives import (Work, all_reduce, reduce, broadcast, all_gather, all_gather_into_tensor,  # noqa: E402
                           reduce_scatter, reduce_scatter_tensor, gather, scatter, send, recv, isend, irecv,
                           barrier, all_gather_object, broadcast_object_list, gather_object,
                           scatter_object_list, all_to_all, all_to_all_single)
