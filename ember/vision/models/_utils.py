"""What every model builder shares: pretrained weights are not downloaded (ember reaches no model hub)."""
from __future__ import annotations


def no_pretrained_weights(weights, kwargs: dict) -> None:
    """Refuse ``weights=...`` / ``pretrained=True`` with a message saying how to load weights instead."""
    pretrained = kwargs.pop("pretrained", False)
    if weights is not None or pretrained:
        raise ValueError(f"ember.vision.models: pretrained weights ({weights or 'pretrained=True'}) are not "
                         f"downloaded by ember; build the model with weights=None and load a state_dict from a "
                         f"safetensors file: model.load_state_dict(ember.load('weights.safetensors'))")
