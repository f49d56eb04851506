"""``ember.onnx``: PyTorch's ``torch.onnx`` namespace.  The module imports so that scripts which mention it
load; exporting needs a static graph of the model, which ember does not record yet (the static-graph
issue), so ``export`` raises ``NotImplementedError`` saying so."""
from __future__ import annotations

__all__ = ["export", "is_in_onnx_export", "OnnxExporterError", "TrainingMode", "OperatorExportTypes"]


class OnnxExporterError(RuntimeError):
    pass


class TrainingMode:
    EVAL, PRESERVE, TRAINING = 0, 1, 2


class OperatorExportTypes:
    ONNX, ONNX_ATEN, ONNX_ATEN_FALLBACK, ONNX_FALLTHROUGH = 0, 1, 2, 3


def export(model, args=(), f=None, *pargs, **kwargs):
    raise NotImplementedError(
        f"ember.onnx.export({type(model).__name__}): ONNX export is not implemented: it needs a static graph "
        f"of the model, which ember does not record yet (the static-graph issue). Save the weights with "
        f"ember.save(model.state_dict(), path) instead.")


def is_in_onnx_export() -> bool:
    return False
