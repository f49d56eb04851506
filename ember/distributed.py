"""``ember.distributed``: ember has no process groups (no collective communication backend), so
``is_available()`` is False, ``is_initialized()`` False, and ``init_process_group`` explains.  Scripts that
check ``dist.is_available() and dist.is_initialized()`` before using it run in one process."""
from __future__ import annotations

__all__ = ["is_available", "is_initialized", "init_process_group", "get_rank", "get_world_size",
           "destroy_process_group", "barrier"]


def is_available() -> bool:
    return False


def is_initialized() -> bool:
    return False


def _none(what: str):
    return RuntimeError(f"ember.distributed.{what}: ember has no distributed process groups (torch.distributed "
                        f"is not implemented); run in one process, or share parameters between processes with "
                        f"model.share_memory() and ember.multiprocessing")


def init_process_group(*args, **kwargs) -> None:
    raise _none("init_process_group")


def get_rank(group=None) -> int:
    raise _none("get_rank")


def get_world_size(group=None) -> int:
    raise _none("get_world_size")


def destroy_process_group(group=None) -> None:
    raise _none("destroy_process_group")


def barrier(*args, **kwargs) -> None:
    raise _none("barrier")
