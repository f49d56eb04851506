"""``ember.xpu``: Intel GPUs, which ember does not have; the same answers as ``ember.mps``."""
from .mps import device_count, empty_cache, is_available, manual_seed, synchronize  # noqa: F401

manual_seed_all = manual_seed
