"""``ember.nn.parallel.data_parallel``: where PyTorch defines ``DataParallel``."""
from . import DataParallel, data_parallel  # noqa: F401
