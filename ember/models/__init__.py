"""The model zoo: ready-made networks, and a registry so configs can name them (``ember.models.get("lenet5")``).

    model = ember.models.LeNet5(activation="tanh")
    model = ember.models.get("mlp", in_features=64, hidden=(128,), out_features=10)
    model = ember.models.get("mypkg.nets:ResNet", depth=18)     # any importable "module:attr"

Other model files add themselves with ``register(name, factory)``.
"""
from __future__ import annotations

import importlib

from .mlp import MLP
from .lenet import LeNet5
from .linear import LinearRegression, LogisticRegression, Perceptron, PoissonMLP, MultiLabelMLP
from .cnn import TypicalDNN, FashionCNN, parameter_table, format_parameter_table, layer_formula
from .recurrent import SumRNN, CharRNN, TransformerLM
from .generative import DenseAutoencoder, ConvAutoencoder, VAE, Generator, Discriminator, GAN, RBM
from .metric import EmbeddingNet
from .segmentation import FCN
from .hopfield import HopfieldNetwork

__all__ = ["MLP", "LeNet5", "LinearRegression", "LogisticRegression", "Perceptron", "PoissonMLP", "MultiLabelMLP", "TypicalDNN",
           "FashionCNN", "SumRNN", "CharRNN", "TransformerLM", "DenseAutoencoder", "ConvAutoencoder", "VAE",
           "Generator", "Discriminator", "GAN", "RBM", "EmbeddingNet", "FCN", "HopfieldNetwork",
           "parameter_table", "format_parameter_table", "layer_formula", "get", "register", "available", "resolve"]


# ``RBM`` here is ember.models.rbm.RBM with MNIST defaults and a training_step (see generative.py)
_REGISTRY: dict = {
    "mlp": MLP, "lenet5": LeNet5, "lenet": LeNet5,
    "linear_regression": LinearRegression, "logistic_regression": LogisticRegression, "perceptron": Perceptron, "poisson_mlp": PoissonMLP,
    "multilabel_mlp": MultiLabelMLP, "typical_dnn": TypicalDNN, "fashion_cnn": FashionCNN,
    "sum_rnn": SumRNN, "char_rnn": CharRNN, "transformer_lm": TransformerLM,
    "dense_autoencoder": DenseAutoencoder, "conv_autoencoder": ConvAutoencoder, "vae": VAE,
    "generator": Generator, "discriminator": Discriminator, "gan": GAN, "rbm": RBM,
    "embedding_net": EmbeddingNet, "fcn": FCN, "hopfield": HopfieldNetwork,
}


def register(name: str, factory) -> None:
    """Make ``factory`` (a Module class or any callable returning a Module) available as ``get(name)``."""
    if not callable(factory):
        raise TypeError(f"ember.models.register: factory for {name!r} must be callable, got {type(factory).__name__}")
    _REGISTRY[name.lower()] = factory


def available() -> list[str]:
    """The registered model names."""
    return sorted(_REGISTRY)


def resolve(name: str):
    """The factory for a registered name or a ``"module:attr"`` Python path (not yet called)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"model name must be a non-empty string, got {name!r}")
    if ":" in name:
        mod_name, _, attr = name.partition(":")
        try:
            obj = importlib.import_module(mod_name)
        except ImportError as e:
            raise ValueError(f"model {name!r}: cannot import module '{mod_name}' ({e})") from None
        return attribute(obj, attr, name)
    factory = _REGISTRY.get(name.lower())
    if factory is None:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(available())} "
                         f"(or a Python path 'module:attr')")
    return factory


def attribute(module, attr: str, name: str):
    """``module.attr`` (``attr`` may be dotted) for the model path ``name``; ValueError if missing or not callable."""
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"model {name!r}: module '{module.__name__}' has no attribute '{attr}'")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"model {name!r} is not callable")
    return obj


def get(name: str, **kwargs):
    """Build the model registered as ``name`` (or at the Python path ``"module:attr"``) with ``kwargs``."""
    factory = resolve(name)
    try:
        return factory(**kwargs)
    except TypeError as e:
        raise TypeError(f"model {name!r}: bad arguments {sorted(kwargs)}: {e}") from None


from .captioning import CaptionNet, CaptionEncoder  # noqa: E402  (H13 zoo additions)
__all__ += ["CaptionNet", "CaptionEncoder"]
from .detection import GridDetector  # noqa: E402
__all__ += ["GridDetector"]
from .multitask import MultiTaskNet, UncertaintyWeighting, FixedWeighting, mnist_trunk, multitask_net  # noqa: E402
__all__ += ["MultiTaskNet", "UncertaintyWeighting", "FixedWeighting", "mnist_trunk", "multitask_net"]
from .resnet_small import SmallResNet  # noqa: E402
__all__ += ["SmallResNet"]
from .style_transfer import StyleTransfer  # noqa: E402
__all__ += ["StyleTransfer"]
_REGISTRY.update({"caption_net": CaptionNet, "grid_detector": GridDetector, "multitask_net": multitask_net,
                  "small_resnet": SmallResNet, "style_transfer": StyleTransfer})
