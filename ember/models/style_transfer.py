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

__all__ = ["gram_matrix", "StyleLoss", "style_transfer", "StyleTransfer", "vgg19_features", "load_image",
           "VGG19_STYLE_LAYERS", "VGG19_CONTENT_LAYERS"]

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


# -- the ``ember train`` model: the image being optimised is the only parameter -------------------------------

def stripes(size: int):
    """The default style image: diagonal bands of two colours, ``(1, 3, size, size)`` in [0, 1]."""
    from ..backend import np
    yy, xx = np.mgrid[:size, :size]
    band = ((xx + yy) // max(size // 8, 1)) % 2
    img = np.stack([0.9 * band + 0.1, 0.3 + 0.4 * (1 - band), 0.8 * (1 - band) + 0.1]).astype(np.float32)
    return ember.tensor(img[None])


def scene(size: int, seed: int = 0):
    """The default content image: a generated scene of coloured shapes (``ember.vision.scenes``), resized to
    ``(1, 3, size, size)``."""
    from ..vision.scenes import make_scenes
    img = ember.tensor(make_scenes(1, size=max(size, 16), seed=seed).images)
    if img.shape[-1] != size:
        img = nn.functional.interpolate(img, size=(size, size), mode="bilinear")
    return img.clamp(0, 1)


def load_image(path: str, size: int, what: str = "image"):
    """An image file (any format Pillow reads) as ``(1, 3, size, size)`` float32 in [0, 1]; ValueError naming
    the file when it cannot be read as an image."""
    from ..backend import np
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ValueError(f"style_transfer: reading the {what} {path} needs Pillow (pip install pillow)") from None
    try:
        with Image.open(path) as im:
            img = im.convert("RGB").resize((size, size))
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise ValueError(f"style_transfer: the {what} {path} is not an image Pillow can read ({e})") from None
    return ember.tensor(np.asarray(img, np.float32).transpose(2, 0, 1)[None] / 255.0)


def vgg19_features(weights: str | None = None):
    """``vgg19().features`` (an ``nn.Sequential`` of 37 layers) with the weights of the state-dict file
    ``weights`` (torchvision's VGG-19 state dict, keys ``features.N.weight``, or the features' own keys
    ``N.weight``; ``.pt``/``.pth`` or safetensors, read with ``ember.load``, which runs no code from the file),
    or torchvision's random initialisation when None.  ValueError naming the file for anything unusable."""
    from ..io import CheckpointError
    from ..nn import init
    from ..vision.models.vgg import CFGS, make_layers
    features = make_layers(CFGS["E"])
    if weights is None:
        for m in features:
            if isinstance(m, nn.Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                init.constant_(m.bias, 0)
        return features
    try:
        state = ember.load(weights)
    except (OSError, CheckpointError, ValueError, RuntimeError, TypeError) as e:
        raise ValueError(f"style_transfer: cannot read the VGG-19 weights {weights} ({e})") from None
    if not isinstance(state, dict) or not all(hasattr(v, "shape") for v in state.values()):
        raise ValueError(f"style_transfer: {weights} does not hold a state dict of tensors (got "
                         f"{type(state).__name__}); expected torchvision's VGG-19 state dict")
    if any(k.startswith("features.") for k in state):
        state = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    try:
        features.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError) as e:
        raise ValueError(f"style_transfer: the weights in {weights} are not VGG-19's features ({e})") from None
    return features


class StyleTransfer(nn.Module):
    """Style transfer as a model for ``ember train`` (``model.name = "style_transfer"``): its only parameter is
    the image being optimised, ``(1, 3, size, size)``, and ``training_step`` returns ``content_weight *
    content + style_weight * style`` against frozen VGG-19 features (logged with ``content`` and ``style``).
    Every batch is one optimisation step; the batch's values are not used.

    ``content``/``style``: image files (default: a generated scene and a stripe pattern); ``weights``: a VGG-19
    state-dict file (default: random weights, with a one-line warning: the losses fall but the picture shows
    only the mechanics); ``init``: start from the ``"content"`` image or from ``"noise"``.  The VGG-19 features
    are kept out of ``state_dict`` (a checkpoint holds the image only) and are rebuilt from ``weights``.
    Pixels are clamped to [0, 1] before each step; ``save_pictures(folder)`` writes ``stylized.png``."""

    path_keys = ("content", "style", "weights")         # file names the CLI resolves from the config's folder

    def __init__(self, content: str | None = None, style: str | None = None, weights: str | None = None,
                 size: int = 64, content_weight: float = 1.0, style_weight: float = 1e5, init: str = "content",
                 style_layers=VGG19_STYLE_LAYERS, content_layers=VGG19_CONTENT_LAYERS) -> None:
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 16:
            raise ValueError(f"style_transfer: size must be an integer >= 16 (pixels), got {size!r}")
        for name, w in (("content_weight", content_weight), ("style_weight", style_weight)):
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w < float("inf"):
                raise ValueError(f"style_transfer: {name} must be a finite number >= 0, got {w!r}")
        if init not in ("content", "noise"):
            raise ValueError(f"style_transfer: init must be 'content' or 'noise', got {init!r}")
        self.content_weight, self.style_weight = float(content_weight), float(style_weight)
        self.random_weights = weights is None
        if weights is None:
            import sys
            print("ember: warning: style_transfer: no model.weights given: random VGG-19 weights, so the result "
                  "shows the mechanics only (give torchvision's vgg19 state dict for a real picture)",
                  file=sys.stderr, flush=True)
        features = vgg19_features(weights)
        self.content_image = load_image(content, size, "content image") if content else scene(size)
        self.style_image = load_image(style, size, "style image") if style else stripes(size)
        loss = StyleLoss(features, self.content_image, self.style_image, style_layers, content_layers)
        self.__dict__["_loss"] = loss           # not a submodule: frozen, and out of state_dict and parameters()
        start = self.content_image if init == "content" else ember.rand(1, 3, size, size)
        self.image = nn.Parameter(start.detach().clone())

    def forward(self, *args):
        """The current image, clamped to [0, 1] (any inputs are ignored)."""
        return self.image.clamp(0, 1)

    def losses(self, image=None):
        """``(total, content, style)`` of ``image`` (default: the parameter as it is)."""
        c, s = self._loss(self.image if image is None else image)
        return self.content_weight * c + self.style_weight * s, c, s

    def training_step(self, batch) -> dict:
        """The weighted loss of the image after clamping it to [0, 1] (the batch is not used)."""
        with ember.no_grad():
            self.image.clamp_(0, 1)             # the previous step's update, kept to valid pixels
        total, c, s = self.losses()
        return {"loss": total, "content": float(c), "style": float(s)}

    def validation_step(self, batch) -> dict:
        """The losses of the image as ``stylized`` gives it (clamped to [0, 1])."""
        total, c, s = self.losses(self.image.clamp(0, 1))
        return {"loss": float(total), "content": float(c), "style": float(s)}

    def stylized(self):
        """The result as an ``(H, W, 3)`` float32 array in [0, 1]."""
        return self.image.detach().clamp(0, 1)[0].numpy().transpose(1, 2, 0).copy()

    def save_pictures(self, folder: str) -> list:
        """Write ``stylized.png`` (the image, at its size) and ``style_transfer.png`` (content, style and result
        side by side, 4x) into ``folder``; returns the file names."""
        import os
        from ..backend import np
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        out = self.stylized()
        plt.imsave(os.path.join(folder, "stylized.png"), out)
        side = out.shape[0]
        gap = np.ones((side, 2, 3), np.float32)
        row = np.concatenate([self.content_image[0].numpy().transpose(1, 2, 0), gap,
                              self.style_image[0].numpy().transpose(1, 2, 0), gap, out], axis=1).clip(0, 1)
        plt.imsave(os.path.join(folder, "style_transfer.png"), np.kron(row, np.ones((4, 4, 1), np.float32)))
        return ["stylized.png", "style_transfer.png"]
