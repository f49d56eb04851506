"""Neural style transfer by optimisation (Gatys, Ecker and Bethge, 2016): an image is optimised so that its
VGG features match a content image's (feature maps) and a style image's (Gram matrices of feature maps).

It needs pretrained VGG weights, which ember does not ship: load torchvision's VGG-19 state dict (a ``.pt``
or safetensors file you supply) into ``ember.vision.models.vgg19()``; with random weights the losses still
decrease but the picture means nothing.

    vgg = ember.vision.models.vgg19()
    vgg.load_state_dict(ember.load("vgg19.pth"))                # your file
    image, history = style_transfer(content, style, vgg.features, steps=300)

Images are ``(1, 3, H, W)`` float tensors in [0, 1]; they are normalised with ImageNet's mean and std inside.
"""
from __future__ import annotations

import ember
from .. import nn

__all__ = ["gram_matrix", "StyleLoss", "style_transfer", "VGG19_STYLE_LAYERS", "VGG19_CONTENT_LAYERS"]

# indices into torchvision's vgg19().features of the ReLUs after conv1_1, conv2_1, conv3_1, conv4_1, conv5_1
VGG19_STYLE_LAYERS = (1, 6, 11, 20, 29)
VGG19_CONTENT_LAYERS = (22,)                     # the ReLU after conv4_2
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


def gram_matrix(features):
    """``(N, C, H, W)`` -> ``(N, C, C)``: channel inner products divided by ``C * H * W``."""
    if features.ndim != 4:
        raise ValueError(f"gram_matrix expected features of shape (N, C, H, W), got {tuple(features.shape)}")
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


class StyleLoss(nn.Module):
    """The content and style losses of an image against fixed targets, read from layers of ``features`` (an
    ``nn.Sequential`` such as ``vgg19().features``, frozen here).  Name ReLU layers (or any layer whose output
    the next layer does not modify in place) in ``style_layers`` and ``content_layers``."""

    def __init__(self, features: nn.Sequential, content, style, style_layers=VGG19_STYLE_LAYERS,
                 content_layers=VGG19_CONTENT_LAYERS) -> None:
        super().__init__()
        self.style_layers, self.content_layers = tuple(style_layers), tuple(content_layers)
        last = max(self.style_layers + self.content_layers)
        if last >= len(features):
            raise ValueError(f"StyleLoss: layer index {last} out of range for features with {len(features)} layers")
        self.features = nn.Sequential(*list(features)[:last + 1])
        for p in self.features.parameters():
            p.requires_grad_(False)
        self.features.eval()
        with ember.no_grad():
            self.content_targets = [t.detach() for t in self._taps(content, self.content_layers)]
            self.style_targets = [gram_matrix(t).detach() for t in self._taps(style, self.style_layers)]

    def _taps(self, image, layers):
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"StyleLoss expected an image of shape (N, 3, H, W), got {tuple(image.shape)}")
        mean = ember.tensor(_MEAN, dtype=image.dtype).reshape(1, 3, 1, 1)
        std = ember.tensor(_STD, dtype=image.dtype).reshape(1, 3, 1, 1)
        x, out, wanted = (image - mean) / std, {}, set(layers)
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in wanted:
                out[i] = x
        return [out[i] for i in layers]

    def forward(self, image):
        """``(content_loss, style_loss)``: mean squared feature differences, summed over the layers."""
        taps = self._taps(image, self.content_layers + self.style_layers)
        k = len(self.content_layers)
        content = sum(((a - t) ** 2).mean() for a, t in zip(taps[:k], self.content_targets))
        style = sum(((gram_matrix(a) - g) ** 2).sum() for a, g in zip(taps[k:], self.style_targets))
        return content, style


def style_transfer(content, style, features, steps: int = 300, content_weight: float = 1.0,
                   style_weight: float = 1e5, lr: float = 0.01, style_layers=VGG19_STYLE_LAYERS,
                   content_layers=VGG19_CONTENT_LAYERS, init=None, callback=None):
    """Optimise an image (starting from ``init``, default the content image) with Adam for ``steps`` steps on
    ``content_weight * content_loss + style_weight * style_loss``, keeping pixels in [0, 1].  Returns the
    image (detached) and the per-step history ``[(total, content, style), ...]``; ``callback(step, image,
    losses)`` is called after each step."""
    loss_fn = StyleLoss(features, content, style, style_layers, content_layers)
    image = (content if init is None else init).detach().clone().requires_grad_(True)
    opt = ember.optim.Adam([image], lr=lr)
    history = []
    for step in range(steps):
        opt.zero_grad()
        c, s = loss_fn(image)
        total = content_weight * c + style_weight * s
        total.backward()
        opt.step()
        with ember.no_grad():
            image.clamp_(0, 1)
        history.append((float(total), float(c), float(s)))
        if callback is not None:
            callback(step, image, history[-1])
    return image.detach(), history
