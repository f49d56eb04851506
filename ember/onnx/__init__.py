"""``ember.onnx``: PyTorch's ``torch.onnx`` namespace.  ``export`` traces the model (``ember.jit``) and writes
the graph as an ONNX model that ``onnx.checker`` accepts and onnxruntime runs; ``load_model`` reads an ONNX
model back as an ember ``Module`` with trainable parameters (ember's own addition).  Needs the ``onnx`` package
(``pip install ember[onnx]``)."""
from __future__ import annotations

from ._export import OnnxExporterError, MIN_OPSET, MAX_OPSET, DEFAULT_OPSET, CONVERTERS  # noqa: F401

__all__ = ["export", "load_model", "is_in_onnx_export", "OnnxExporterError", "TrainingMode", "OperatorExportTypes",
           "MIN_OPSET", "MAX_OPSET", "DEFAULT_OPSET"]

_EXPORTING = [False]


class TrainingMode:
    EVAL, PRESERVE, TRAINING = 0, 1, 2


class OperatorExportTypes:
    ONNX, ONNX_ATEN, ONNX_ATEN_FALLBACK, ONNX_FALLTHROUGH = 0, 1, 2, 3


def _need_onnx(who):
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ImportError(f"ember.onnx.{who} needs the 'onnx' package: pip install onnx (or ember[onnx])") from None


def export(model, args=(), f=None, kwargs=None, export_params=True, verbose=False, input_names=None,
           output_names=None, opset_version=None, dynamic_axes=None, keep_initializers_as_inputs=False,
           dynamo=False, external_data=False, dynamic_shapes=None, training=TrainingMode.EVAL,
           do_constant_folding=True, **unused):
    """``torch.onnx.export``: trace ``model(*args)`` and write it as ONNX to ``f`` (a path or a binary file
    object); returns the ``onnx.ModelProto``.  The model runs in eval mode during export (``training=EVAL``,
    PyTorch's default) and is put back in its mode afterwards.  ``dynamic_axes``: ``{name: {axis: label}}``
    or ``{name: [axes]}`` for inputs and outputs (e.g. ``{"input": {0: "batch"}, "output": {0: "batch"}}``).
    ``opset_version``: 13 to 21 (default 18).  An op without an ONNX form raises ``OnnxExporterError`` naming it
    and the opset."""
    _need_onnx("export")
    from ._export import build
    from ..nn.module import Module
    if kwargs:
        raise OnnxExporterError("ember.onnx.export: keyword arguments to the model (kwargs=) are not supported; "
                                "pass them positionally in args")
    was = model.training if isinstance(model, Module) else None
    if was is not None and training != TrainingMode.PRESERVE:
        model.train(training == TrainingMode.TRAINING)
    _EXPORTING[0] = True
    try:
        proto = build(model, args, input_names, output_names, dynamic_axes, opset_version, do_constant_folding)
    finally:
        _EXPORTING[0] = False
        if was is not None:
            model.train(was)
    if f is not None:
        data = proto.SerializeToString()
        if hasattr(f, "write"):
            f.write(data)
        else:
            import os
            with open(os.fspath(f), "wb") as fh:
                fh.write(data)
    return proto


def load_model(path):
    """Read an ONNX model (path, bytes, file object or ``onnx.ModelProto``) as an ember ``Module`` whose float
    initializers are trainable parameters; call it with the graph's inputs in order."""
    _need_onnx("load_model")
    from ._import import load_model as _load
    return _load(path)


def is_in_onnx_export() -> bool:
    return _EXPORTING[0]
