"""``ember.nn.parallel.distributed``: where PyTorch defines ``DistributedDataParallel``."""
from . import DistributedDataParallel  # noqa: F401
