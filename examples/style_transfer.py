"""Neural style transfer (Gatys et al., 2016) against VGG-19 features.  Needs pretrained VGG-19 weights, which
ember does not ship: pass torchvision's state dict as a file (``--weights vgg19.pth`` or a .safetensors file).
Without --weights it runs with random weights, to show the mechanics only (the losses fall, the picture means
nothing).  Content and style default to a generated scene and a generated stripe pattern; give your own with
--content/--style (any image Pillow reads).

Run:  python examples/style_transfer.py --weights vgg19.pth [--content a.jpg --style b.jpg] [--steps N] [--out DIR]
"""
from _common import parse_args, savefig, Timer

import numpy as np

import ember
from ember.models.style_transfer import style_transfer
from ember.vision.models.vgg import CFGS, make_layers
from ember.vision.scenes import make_scenes


def load_image(path, size):
    from PIL import Image
    img = Image.open(path).convert("RGB").resize((size, size))
    return ember.tensor(np.asarray(img, np.float32).transpose(2, 0, 1)[None] / 255.0)


def stripes(size):
    yy, xx = np.mgrid[:size, :size]
    band = ((xx + yy) // max(size // 8, 1)) % 2
    img = np.stack([0.9 * band + 0.1, 0.3 + 0.4 * (1 - band), 0.8 * (1 - band) + 0.1]).astype(np.float32)
    return ember.tensor(img[None])


def main():
    args = parse_args(__doc__, weights=(str, None, "VGG-19 state dict (.pth/.pt/.safetensors)"),
                      content=(str, None, "content image"), style=(str, None, "style image"),
                      steps=(int, 200, "optimisation steps"), size=(int, 128, "image side in pixels"))
    ember.manual_seed(args.seed)
    size = 32 if args.quick else args.size
    steps = 3 if args.quick else args.steps
    features = make_layers(CFGS["E"])             # vgg19().features without the 120M-parameter classifier
    if args.weights:
        state = ember.load(args.weights)
        features.load_state_dict({k[len("features."):]: v for k, v in state.items() if k.startswith("features.")})
    else:
        print("style transfer: no --weights given: random VGG-19 weights, the result shows the mechanics only")
    if args.content:
        content = load_image(args.content, size)
    else:
        scene = make_scenes(1, size=max(size, 16), seed=args.seed).images
        content = ember.nn.functional.interpolate(ember.tensor(scene), size=(size, size), mode="bilinear")
    style = load_image(args.style, size) if args.style else stripes(size)
    with Timer() as t:
        image, hist = style_transfer(content, style, features, steps=steps,
                                     callback=lambda i, img, l: print(f"step {i + 1}: total {l[0]:.4g}, content "
                                                                      f"{l[1]:.4g}, style {l[2]:.4g}")
                                     if (i + 1) % 20 == 0 or i == 0 else None)
    print(f"style transfer: {steps} steps at {size}x{size} in {t.seconds:.0f}s; total loss {hist[0][0]:.4g} -> "
          f"{hist[-1][0]:.4g}{'' if args.weights else ' (random weights)'}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
    for ax, img, title in zip(axes, (content, style, image), ("content", "style", "result")):
        ax.imshow(img[0].numpy().transpose(1, 2, 0).clip(0, 1))
        ax.set_title(title)
        ax.axis("off")
    savefig(fig, args.out / "style_transfer.png")


if __name__ == "__main__":
    main()
