"""What every model builder shares: the weights argument (torchvision's enums, names and the deprecated
``pretrained=True``, see ``_weights``), checked once around the builder."""
from __future__ import annotations

import functools


def no_pretrained_weights(weights, kwargs: dict) -> None:
    """Inside a builder wrapped by ``with_weights`` the weights are already handled; a direct call with weights
    is refused with a message saying how to load weights instead."""
    pretrained = kwargs.pop("pretrained", False)
    if weights is not None or pretrained:
        raise ValueError(f"ember.vision.models: pretrained weights ({weights or 'pretrained=True'}) are not "
                         f"known for this builder; build the model with weights=None and load a state_dict: "
                         f"model.load_state_dict(ember.load('weights.safetensors'))")


def with_weights(name: str):
    """Give builder ``name`` torchvision's ``weights=``/``pretrained=`` handling: the weights are resolved (and
    ``num_classes`` checked) first, the model built, then the state dict loaded from PyTorch's hub cache."""
    def deco(builder):
        @functools.wraps(builder)
        def build(*, weights=None, progress: bool = True, **kwargs):
            from ._weights import handle_weights, load_weights
            w = handle_weights(name, weights, kwargs)
            return load_weights(builder(weights=None, progress=progress, **kwargs), w, progress)
        return build
    return deco
