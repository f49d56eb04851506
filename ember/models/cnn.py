"""Convolutional classifiers: the lectures' ``TypicalDNN`` (conv/pool stacks with 1x1 convolutions and a fully
connected head) with ``parameter_table`` (per-layer output shapes and parameter counts against the lecture's
formulas), and ``FashionCNN`` (conv-BN-ReLU-pool blocks with dropout for 1x28x28 images).
"""
from __future__ import annotations

import ember
from .. import nn

__all__ = ["TypicalDNN", "FashionCNN", "parameter_table", "layer_formula"]


class TypicalDNN(nn.Module):
    """The "typical DNN" of the lectures for (N, in_channels, 32, 32) images, returning (N, num_classes) logits.

    conv 3x3 (16) -> 1x1 conv (8) -> max-pool -> conv 3x3 (32) -> 1x1 conv (16) -> max-pool -> strided conv 3x3
    (32, stride 2) -> flatten -> fc 64 -> fc ``num_classes``, ReLU after every layer but the last.  The 1x1
    convolutions mix channels and shrink the depth cheaply; the strided convolution downsamples instead of a pool.
    Layers live in one ``nn.Sequential`` (``self.layers``) so that ``parameter_table`` can walk them.

    >>> TypicalDNN()(ember.randn(2, 3, 32, 32)).shape
    ember.Size([2, 4])
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 4, image_size: int = 32) -> None:
        super().__init__()
        if image_size % 8:
            raise ValueError(f"TypicalDNN: image_size must be a multiple of 8, got {image_size}")
        self.in_channels, self.image_size = in_channels, image_size
        s = image_size // 8
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 8, 1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 16, 1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(32 * s * s, 64), nn.ReLU(),
            nn.Linear(64, num_classes))

    def forward(self, x):
        """(N, in_channels, image_size, image_size) -> (N, num_classes)."""
        s = self.image_size
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, s, s):
            raise ValueError(f"TypicalDNN expected input of shape (N, {self.in_channels}, {s}, {s}), "
                             f"got {tuple(x.shape)}")
        return self.layers(x)


def layer_formula(layer) -> tuple[int, str] | None:
    """The lecture's parameter count of a layer and its formula as text, or None for layers it does not cover:
    convolution ``(k_h * k_w * C_in / groups + 1) * C_out`` (the +1 is the bias), fully connected
    ``(n_in + 1) * n_out``, batch norm ``2 * C`` (scale and shift)."""
    if isinstance(layer, (nn.Conv2d,)):
        kh, kw = layer.kernel_size
        cin = layer.in_channels // layer.groups
        b = 1 if layer.bias is not None else 0
        return (kh * kw * cin + b) * layer.out_channels, f"({kh}*{kw}*{cin}{'+1' if b else ''})*{layer.out_channels}"
    if isinstance(layer, nn.Linear):
        b = 1 if layer.bias is not None else 0
        return (layer.in_features + b) * layer.out_features, \
            f"({layer.in_features}{'+1' if b else ''})*{layer.out_features}"
    bn = getattr(nn, "BatchNorm2d", None)
    if bn is not None and isinstance(layer, bn) and layer.affine:
        return 2 * layer.num_features, f"2*{layer.num_features}"
    return None


def _leaf_layers(model):
    """(name, layer) for the layers to tabulate: the children of the first Sequential found (depth first), or
    the model's leaf modules."""
    seq = [m for m in model.modules() if isinstance(m, nn.Sequential)]
    if isinstance(model, nn.Sequential):
        return list(model.named_children())
    if len(seq) == 1:
        return list(seq[0].named_children())
    return [(n, m) for n, m in model.named_modules() if n and not list(m.children())]


@ember.no_grad()
def parameter_table(model, input_shape) -> list[dict]:
    """Per-layer rows ``{"name", "layer", "output_shape", "params", "formula", "formula_params"}`` for a model
    made of one ``nn.Sequential`` (such as ``TypicalDNN``) or any module run layer by layer on a zero input of
    ``input_shape`` (without the batch dim).  ``formula``/``formula_params`` are the lecture's formula and its
    value (None for layers without parameters or a formula); a last row ``name="total"`` sums the counts.

    >>> rows = parameter_table(TypicalDNN(), (3, 32, 32))
    >>> rows[0]["params"], rows[0]["formula"]
    (448, '(3*3*3+1)*16')
    """
    layers = _leaf_layers(model)
    h = ember.zeros(1, *input_shape)
    was_training = model.training
    model.eval()
    rows, total = [], 0
    try:
        for name, layer in layers:
            try:
                h = layer(h)
            except (ValueError, RuntimeError, TypeError) as e:
                raise ValueError(f"parameter_table: layer '{name}' ({type(layer).__name__}) failed on input of "
                                 f"shape {tuple(h.shape)} (from input_shape {tuple(input_shape)}): {e}") from None
            n = sum(p.numel() for p in layer.parameters())
            f = layer_formula(layer)
            total += n
            rows.append({"name": name, "layer": type(layer).__name__, "output_shape": tuple(h.shape[1:]),
                         "params": n, "formula": f[1] if f else None, "formula_params": f[0] if f else None})
    finally:
        model.train(was_training)
    rows.append({"name": "total", "layer": "", "output_shape": tuple(h.shape[1:]), "params": total,
                 "formula": None, "formula_params": None})
    return rows


def format_parameter_table(rows) -> str:
    """``parameter_table`` rows as an aligned text table with an ok/MISMATCH check column."""
    lines = [f"{'layer':<16} {'output shape':<16} {'params':>8}  {'formula':<24} check"]
    for r in rows:
        check = "" if r["formula_params"] is None else ("ok" if r["formula_params"] == r["params"] else "MISMATCH")
        lines.append(f"{(r['name'] + ' ' + r['layer']).strip():<16} {str(r['output_shape']):<16} "
                     f"{r['params']:>8}  {r['formula'] or '-':<24} {check}")
    return "\n".join(lines)


class FashionCNN(nn.Module):
    """A small CNN with batch norm and dropout for (N, in_channels, 28, 28) images (Fashion-MNIST):
    conv 3x3 (32) -> BN -> ReLU -> max-pool, conv 3x3 (64) -> BN -> ReLU -> max-pool, dropout, fc 128, ReLU,
    dropout, fc ``num_classes``.  The convolutions have no bias (the batch norm's shift replaces it).

    >>> FashionCNN()(ember.randn(2, 1, 28, 28)).shape
    ember.Size([2, 10])
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, channels=(32, 64), hidden: int = 128,
                 dropout: float = 0.3) -> None:
        super().__init__()
        c1, c2 = channels
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(c2 * 7 * 7, hidden), nn.ReLU(),
                                        nn.Dropout(dropout), nn.Linear(hidden, num_classes))

    def forward(self, x):
        """(N, in_channels, 28, 28) -> (N, num_classes) logits."""
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, 28, 28):
            raise ValueError(f"FashionCNN expected input of shape (N, {self.in_channels}, 28, 28), "
                             f"got {tuple(x.shape)}")
        return self.classifier(self.features(x))
