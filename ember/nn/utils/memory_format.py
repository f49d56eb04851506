"""``torch.nn.utils.memory_format``: store the weights of the 2-D/3-D (transposed) convolutions of a module
tree in a memory format (``ember.channels_last`` / ``channels_last_3d`` / ``contiguous_format``); values and
dimension order are unchanged, only the strides."""
from __future__ import annotations

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module, memory_format, kinds):
    if isinstance(module, kinds):
        module.weight.data = module.weight.detach().clone(memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """Give every ``Conv2d`` / ``ConvTranspose2d`` weight in ``module`` (recursively) ``memory_format``;
    returns ``module``."""
    from ..layers.conv import Conv2d, ConvTranspose2d
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module, memory_format):
    """Give every ``Conv3d`` / ``ConvTranspose3d`` weight in ``module`` (recursively) ``memory_format``;
    returns ``module``."""
    from ..layers.conv import Conv3d, ConvTranspose3d
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
