"""``ember.vision``: torchvision's layout and names (``datasets``, ``transforms``, ``models``, ``utils``), so that
``import ember.vision as torchvision`` serves programs written for torchvision.

>>> from ember.vision import datasets, transforms, models, utils
"""
from . import datasets, models, transforms, utils  # noqa: F401
from . import metrics, ops, scenes  # noqa: F401,E402  (captioning and detection helpers)

__all__ = ["datasets", "models", "transforms", "utils"]
__version__ = "0.1.0"
