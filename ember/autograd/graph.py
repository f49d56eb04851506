"""``torch.autograd.graph``: ``Node`` (every ``grad_fn`` and ``AccumulateGrad`` is one), ``GradientEdge`` /
``get_gradient_edge``, ``increment_version`` and ``save_on_cpu`` (a no-op: saved tensors are on the CPU
already).  ``saved_tensors_hooks`` (pack/unpack of saved tensors) is not implemented and says so."""
from __future__ import annotations

import abc
import contextlib
from typing import NamedTuple

from .function import AccumulateGrad, Function

__all__ = ["Node", "GradientEdge", "get_gradient_edge", "increment_version", "save_on_cpu", "saved_tensors_hooks"]


class Node(abc.ABC):
    """The type of graph nodes: ``isinstance(t.grad_fn, Node)`` is True for every recorded op and for the
    ``AccumulateGrad`` nodes of leaves."""

    @classmethod
    def __subclasshook__(cls, C):
        if cls is Node and issubclass(C, (Function, AccumulateGrad)):
            return True
        return NotImplemented


class GradientEdge(NamedTuple):
    node: object
    output_nr: int


def get_gradient_edge(tensor) -> GradientEdge:
    """The (node, output index) through which gradients reach ``tensor``."""
    if not tensor.requires_grad:
        raise RuntimeError("get_gradient_edge: it is not possible to get the gradient edge for a Tensor that "
                           "does not require gradients")
    if tensor.grad_fn is None:
        return GradientEdge(tensor._accumulator(), 0)
    return GradientEdge(tensor.grad_fn, tensor._oi)


def increment_version(tensor) -> None:
    """Mark ``tensor`` as modified in place (backward then refuses stale saved copies of it)."""
    tensors = tensor if isinstance(tensor, (list, tuple)) else [tensor]
    for t in tensors:
        t._version[0] += 1


@contextlib.contextmanager
def save_on_cpu(pin_memory: bool = False, device_type: str = "cuda"):
    """Saved tensors live on the CPU in ember already: nothing to move."""
    yield


class saved_tensors_hooks:
    """Not implemented: ember does not route saved tensors through pack/unpack hooks."""

    def __init__(self, pack_hook, unpack_hook) -> None:
        raise NotImplementedError("ember.autograd.graph.saved_tensors_hooks: pack/unpack hooks for saved "
                                  "tensors are not implemented in ember (save_on_cpu is accepted: ember's "
                                  "saved tensors are on the CPU already)")
