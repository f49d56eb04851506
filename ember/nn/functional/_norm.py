"""``F.batch_norm``, ``F.layer_norm``, ``F.group_norm``, ``F.instance_norm``, ``F.normalize``: the functional
forms of the normalization layers.  The fused kernels (one Function per op with a hand-derived backward) and
the checks live in ``ember.ops.normalization``."""
from __future__ import annotations

from ...ops.normalization import batch_norm, layer_norm, group_norm, instance_norm, normalize

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "normalize"]
