"""``ember.jit``: ``trace`` records one run of a module or function into a static ``Graph`` (ember/jit/_graph.py)
and returns a callable that replays it; the graph prints as a table (``print_tabular``), feeds ``ember.compile``
and ``ember.onnx.export``.  TorchScript itself does not exist in ember: ``script`` returns what it is given, the
decorators (``ignore``, ``unused``, ``export``) are identity, and ``save``/``load`` of a scripted program raise
``NotImplementedError`` (use ``ember.save``, or ``ember.onnx.export`` for a graph)."""
from __future__ import annotations

__all__ = ["script", "trace", "ignore", "unused", "export", "is_scripting", "is_tracing", "save", "load",
           "Final", "annotate", "Graph", "Node", "Value", "TracingError", "TracedModule", "trace_graph",
           "compile_training_step", "TrainingStep"]

from typing import Final  # noqa: F401

from ._graph import Graph, Node, Value
from ._trace import TracingError, record as _record
from ._module import TracedModule, TracedFunction
from ._step import TrainingStep, compile_training_step


def script(obj=None, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    return obj


def trace_graph(func, example_inputs=(), example_kwarg_inputs=None):
    """Record one run of ``func(*example_inputs)`` (a Module or a function); returns ``(graph, output,
    parameter tensors by name)``."""
    from ..nn.module import Module
    from ..tensor import Tensor
    if isinstance(example_inputs, Tensor):
        example_inputs = (example_inputs,)
    elif isinstance(example_inputs, list):
        example_inputs = tuple(example_inputs)
    elif not isinstance(example_inputs, tuple):
        raise TypeError(f"ember.jit.trace: example_inputs must be a Tensor or a tuple of them, got "
                        f"{type(example_inputs).__name__}")
    module = func if isinstance(func, Module) else getattr(func, "__self__", None)
    module = module if isinstance(module, Module) else None
    g, out, tr = _record(func, example_inputs, example_kwarg_inputs, module)
    return g, out, tr.param_tensors


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
          strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None,
          example_kwarg_inputs=None, _store_inputs=True):
    """Run ``func(*example_inputs)`` once, recording every op into a ``Graph``, and return a callable that
    replays it (a ``TracedModule`` sharing the parameters when ``func`` is a Module).  As in PyTorch, Python
    control flow is frozen to the path the example took; reading a traced tensor's value in Python (``bool``,
    ``item``, ``tolist``) raises ``TracingError`` naming the line.  The replay accepts inputs of the traced shapes
    and dtypes only."""
    from ..nn.module import Module
    if example_inputs is None and example_kwarg_inputs is None:
        raise TypeError("ember.jit.trace: example_inputs is required (a Tensor or a tuple of Tensors)")
    before = {}
    if isinstance(func, Module):
        before = {n: (b, b._data.copy()) for n, b in func.named_buffers() if b is not None}
    g, _, params = trace_graph(func, () if example_inputs is None else example_inputs, example_kwarg_inputs)
    who = f"ember.jit.trace({getattr(func, '__name__', type(func).__name__)})"
    if g.random_draws:
        raise TracingError(f"{who}: the forward drew random numbers (dropout in training mode, randn, ...), which "
                           f"a replayed graph would freeze; trace the module in eval mode (model.eval())")
    if isinstance(func, Module):
        from .._compile import _side_effects
        counters, why = _side_effects(g, func, before)
        if why is not None:
            raise TracingError(f"{who}: {why}; the replay could not repeat it")
        traced = TracedModule(func, g, params, name=f"traced {type(func).__name__}")
        traced.__dict__["_counters"] = counters
        return traced
    return TracedFunction(func, g, params)


def ignore(drop=False, **kwargs):
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def annotate(the_type, the_value):
    return the_value


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    from ..autograd import function as _fn
    return _fn._tracer is not None


def save(m, f, _extra_files=None) -> None:
    raise NotImplementedError("ember.jit.save: TorchScript is not implemented in ember; save the weights with "
                              "ember.save(model.state_dict(), path) or the whole model with ember.save(model, path)")


def load(f, map_location=None, _extra_files=None):
    raise NotImplementedError("ember.jit.load: TorchScript archives cannot be loaded by ember; load a "
                              "state_dict with ember.load(path) instead")
