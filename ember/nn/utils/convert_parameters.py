"""Flatten parameters into one vector and back, like ``torch.nn.utils.parameters_to_vector`` and
``vector_to_parameters`` (handy for second-order methods and for evolution strategies)."""
from __future__ import annotations

from ...tensor import Tensor
from ... import ops

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _params(parameters, who: str) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    ps = list(parameters)
    for p in ps:
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: expected an iterable of Tensors, got an element of type {type(p).__name__}")
    return ps


def parameters_to_vector(parameters) -> Tensor:
    """Concatenate the parameters, flattened, into one 1-D tensor (differentiable, a copy).

    >>> vec = nn.utils.parameters_to_vector(model.parameters())
    >>> vec.shape   # (total number of weights,)
    """
    ps = _params(parameters, "parameters_to_vector")
    if not ps:
        raise RuntimeError("parameters_to_vector: expected a non-empty list of Tensors")
    return ops.cat([p.reshape(-1) for p in ps], 0)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy slices of the 1-D tensor ``vec`` into the parameters, in order (as PyTorch, through ``.data``:
    each parameter then shares ``vec``'s memory, and no graph is recorded).

    >>> nn.utils.vector_to_parameters(vec * 0.5, model.parameters())
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, but got {type(vec).__name__}")
    ps = _params(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in ps)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vec must be 1-D with {total} elements (the parameters' total), "
                         f"got shape {tuple(vec.shape)}")
    arr = vec._data
    pointer = 0
    for p in ps:
        n = p.numel()
        p._data = arr[pointer:pointer + n].reshape(p._data.shape).astype(p._data.dtype, copy=False)
        p._version[0] += 1
        pointer += n
