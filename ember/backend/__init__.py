"""The backend seam: the only place in ember that imports NumPy (or, later, CuPy) for tensor math.

Everything above this package asks for ``xp`` (the array module), dtypes and the random generator here, so
that a GPU backend can be slotted in by changing one module instead of every op.
"""
from __future__ import annotations

import numpy as np

from .dtypes import (
    bool_, uint8, int8, int16, int32, int64, float16, float32, float64,
    get_default_dtype, set_default_dtype, to_dtype, promote_types, result_type, is_floating, is_integer,
    default_int,
)
from .random import Generator, default_generator, manual_seed, seed, initial_seed, get_rng_state, set_rng_state
from . import memory

memory.tune_allocator()          # keep freed step temporaries for the next step (glibc; EMBER_MALLOC_TUNING=0: off)

#: the array module every op is written against (NumPy on CPU)
xp = np

__all__ = [
    "xp", "np", "bool_", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
    "get_default_dtype", "set_default_dtype", "to_dtype", "promote_types", "result_type", "is_floating",
    "is_integer", "default_int", "Generator", "default_generator", "manual_seed", "seed", "initial_seed",
    "get_rng_state", "set_rng_state",
]
