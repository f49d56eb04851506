"""``torch.utils.checkpoint``: activation checkpointing trades compute for memory by recomputing a segment in
backward.  ember records the segment normally instead (same values and gradients, no memory saving), so
scripts that use it run unchanged."""
from __future__ import annotations

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``; the graph is kept (no recomputation), so results and gradients equal
    PyTorch's."""
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    mods = list(functions.children()) if hasattr(functions, "children") else list(functions)
    for m in mods:
        input = m(input)
    return input
