"""``MLP``: a multi-layer perceptron (Linear -> activation -> dropout, repeated), the first model to try."""
from __future__ import annotations

from .. import nn

_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "gelu": "GELU", "leaky_relu": "LeakyReLU",
                "elu": "ELU", "silu": "SiLU", "identity": "Identity"}


def make_activation(activation, who: str):
    """An activation Module from a name (``'relu'``, ``'tanh'``, ...), a Module class or a Module instance."""
    if isinstance(activation, nn.Module):
        return activation
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation()
    cls_name = _ACTIVATIONS.get(str(activation).lower())
    if cls_name is None:
        raise ValueError(f"{who}: unknown activation {activation!r}; expected one of {', '.join(_ACTIVATIONS)} "
                         f"or an nn.Module")
    cls = getattr(nn, cls_name, None)
    if cls is None:
        raise ValueError(f"{who}: activation {activation!r} needs ember.nn.{cls_name}, which is not available")
    return cls()


class MLP(nn.Module):
    """``in_features -> hidden[0] -> ... -> hidden[-1] -> out_features``, with ``activation`` and ``dropout``
    after every hidden layer.  Inputs with more than two dims (images) are flattened from dim 1.

    >>> model = MLP(784, hidden=(256, 128), out_features=10, activation="relu", dropout=0.1)
    >>> model(ember.randn(32, 1, 28, 28)).shape
    ember.Size([32, 10])
    """

    def __init__(self, in_features: int = 784, hidden=(128,), out_features: int = 10, activation="relu",
                 dropout: float = 0.0) -> None:
        super().__init__()
        if isinstance(hidden, int):
            hidden = (hidden,)
        sizes = [in_features, *hidden, out_features]
        if not all(isinstance(s, int) and s > 0 for s in sizes):
            raise ValueError(f"MLP: layer sizes must be positive ints, got in_features={in_features}, "
                             f"hidden={tuple(hidden)}, out_features={out_features}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        self.in_features, self.out_features = in_features, out_features
        layers = [nn.Flatten()]
        for a, b in zip(sizes[:-2], sizes[1:-1]):
            layers += [nn.Linear(a, b), make_activation(activation, "MLP")]
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        """(N, in_features) or (N, ...) flattening to in_features -> (N, out_features)."""
        if x.ndim < 2 or x[0].numel() != self.in_features:
            raise ValueError(f"MLP expected input of shape (N, {self.in_features}) (or flattening to it), "
                             f"got {tuple(x.shape)}")
        return self.net(x)
