"""Training checkpoints: everything needed to continue a run exactly where it stopped, in one ember.io file.

A checkpoint is a plain nested dict saved with ``ember.save`` (safetensors + JSON metadata, never pickle)::

    {"ember_checkpoint": 1,
     "model": state_dict, "optimizer": state_dict | None, "scheduler": state_dict | None,
     "epoch": completed epochs, "batch": batches done in the unfinished epoch (0 at an epoch boundary),
     "step": optimizer steps so far,
     "rng": {"ember": ..., "numpy": ..., "loader": ...},          # at the moment of saving
     "epoch_rng": {...} | None,                                   # at the start of the unfinished epoch
     "running": partial epoch sums, "grads": accumulated gradients | None,
     "history": History.state_dict(), "callbacks": {...}, "config": {...}}

Restoring the RNG states (ember's global generator, NumPy's legacy one and the DataLoader's generator) is what
makes a resumed run match an uninterrupted one bit for bit: the next epoch draws the same shuffle and the same
dropout masks.  ``load_checkpoint`` checks the file is one of these and says what is missing otherwise.
"""
from __future__ import annotations

from ..backend import np
from ..backend import random as _random
from ..io import save, load, CheckpointError

__all__ = ["save_checkpoint", "load_checkpoint", "rng_state", "set_rng_state", "loader_generators",
           "CHECKPOINT_VERSION"]

CHECKPOINT_VERSION = 1
_REQUIRED = ("model", "epoch", "step", "rng", "history")


def loader_generators(loader) -> list:
    """The distinct ``ember.Generator`` objects a DataLoader shuffles with (its own, its sampler's)."""
    gens = []
    for obj in (loader, getattr(loader, "sampler", None), getattr(loader, "batch_sampler", None),
                getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
        g = getattr(obj, "generator", None)
        if isinstance(g, _random.Generator) and all(g is not h for h in gens):
            gens.append(g)
    return gens


def rng_state(loader=None) -> dict:
    """Every random state a training run depends on, as plain values."""
    legacy = np.random.get_state()
    return {
        "ember": _random.get_rng_state(),
        # NumPy's legacy global generator: user transforms may draw from it, and manual_seed seeds it
        "numpy": {"key": legacy[1].astype(np.uint32), "pos": int(legacy[2]), "has_gauss": int(legacy[3]),
                  "cached_gaussian": float(legacy[4])},
        "loader": [g.get_state() for g in loader_generators(loader)] if loader is not None else [],
    }


def set_rng_state(state: dict, loader=None) -> None:
    """Restore ``rng_state()``'s result (the loader's generators only when a loader is given)."""
    _random.set_rng_state(state["ember"])
    n = state.get("numpy")
    if n is not None:
        np.random.set_state(("MT19937", np.asarray(n["key"], dtype=np.uint32), int(n["pos"]), int(n["has_gauss"]),
                             float(n["cached_gaussian"])))
    if loader is not None:
        gens = loader_generators(loader)
        saved = state.get("loader") or []
        if len(saved) != len(gens):
            raise ValueError(f"resume: the checkpoint has {len(saved)} DataLoader generator state(s) but this "
                             f"train loader has {len(gens)} generator(s); build the loader as in the original run")
        for g, s in zip(gens, saved):
            g.set_state(s)


def save_checkpoint(path, *, model, optimizer=None, scheduler=None, epoch: int = 0, step: int = 0,
                    history=None, loader=None, extra: dict | None = None) -> None:
    """Save a resumable checkpoint at an epoch boundary (what ``Trainer.save_checkpoint`` writes, minus the
    mid-epoch fields).  ``extra`` adds entries such as ``config``."""
    ck = {
        "ember_checkpoint": CHECKPOINT_VERSION,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": int(epoch), "batch": 0, "step": int(step),
        "rng": rng_state(loader), "epoch_rng": None, "running": None, "grads": None,
        "history": history.state_dict() if history is not None else {"epoch": [], "history": {}},
        "callbacks": {}, "config": {},
    }
    ck.update(extra or {})
    save(ck, path)


def load_checkpoint(path) -> dict:
    """Load and check a training checkpoint; raises ``CheckpointError`` naming the file if it is not one."""
    ck = load(path)
    if not isinstance(ck, dict):
        raise CheckpointError(f"'{path}' is not a training checkpoint: it holds a {type(ck).__name__}, not a dict")
    if "ember_checkpoint" not in ck:
        raise CheckpointError(f"'{path}' is not an ember training checkpoint (no 'ember_checkpoint' entry); "
                              f"if it is a plain state_dict, load it with model.load_state_dict(ember.load(path))")
    if ck["ember_checkpoint"] != CHECKPOINT_VERSION:
        raise CheckpointError(f"'{path}': training checkpoint version {ck['ember_checkpoint']!r} is not supported "
                              f"(expected {CHECKPOINT_VERSION})")
    missing = [k for k in _REQUIRED if k not in ck]
    if missing:
        raise CheckpointError(f"'{path}': training checkpoint is missing {', '.join(missing)}")
    return ck
