"""Linear and small fully connected models of the first lectures: ``LinearRegression`` (gradient descent or the
normal equations), ``LogisticRegression``, Rosenblatt's ``Perceptron``, the ``PoissonMLP`` (log link with an
exposure offset) and the ``MultiLabelMLP``.

    model = LinearRegression(5); model.fit_closed_form(X, y)   # least squares in one solve
    model = LogisticRegression(2)                  # logits; train with nn.BCEWithLogitsLoss
    p = Perceptron(2); p.fit_rosenblatt(X, y)      # labels +-1; returns (converged, epochs)
    log_mu = PoissonMLP(6)(x, log_exposure)        # train with nn.PoissonNLLLoss(log_input=True)
"""
from __future__ import annotations

import ember
from .. import nn
from .mlp import make_activation

__all__ = ["LinearRegression", "LogisticRegression", "Perceptron", "PoissonMLP", "MultiLabelMLP"]


def _check_features(x, n: int, who: str):
    if x.ndim != 2 or x.shape[1] != n:
        raise ValueError(f"{who} expected input of shape (N, {n}), got {tuple(x.shape)}")


class _LinearModel(nn.Module):
    """One ``Linear(in_features, out_features)`` layer (as ``self.linear``) with an input-shape check."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x):
        """(N, in_features) -> (N, out_features)."""
        _check_features(x, self.in_features, type(self).__name__)
        return self.linear(x)


class LinearRegression(_LinearModel):
    """``y = x @ W^T + b``: one ``Linear(in_features, out_features)`` layer, trained by gradient descent on
    ``nn.MSELoss`` or solved at once by ``fit_closed_form`` (the normal equations).

    >>> model = LinearRegression(3)
    >>> model.fit_closed_form(X, y)             # X (N, 3), y (N,) or (N, 1): sets weight and bias
    """

    def __init__(self, in_features: int = 1, out_features: int = 1) -> None:
        super().__init__(in_features, out_features)

    @ember.no_grad()
    def fit_closed_form(self, x, y):
        """Least squares by the normal equations: ``theta = (A^T A)^-1 A^T y`` with ``A = [x, 1]``, solved as a
        linear system (in float64) rather than by inverting; sets ``weight`` and ``bias`` and returns ``self``.
        ``y``: (N,) for one output or (N, out_features)."""
        from ..backend import np
        x = ember.as_tensor(x)
        _check_features(x, self.in_features, "LinearRegression.fit_closed_form")
        X = x.numpy().astype(np.float64)
        Y = ember.as_tensor(y).numpy().astype(np.float64).reshape(len(X), -1)
        if Y.shape[1] != self.out_features:
            raise ValueError(f"LinearRegression.fit_closed_form expected targets of shape ({len(X)}, "
                             f"{self.out_features}), got {tuple(ember.as_tensor(y).shape)}")
        A = np.hstack([X, np.ones((len(X), 1))])
        try:
            theta = np.linalg.solve(A.T @ A, A.T @ Y)            # (in_features + 1, out_features)
        except np.linalg.LinAlgError:
            raise ValueError("LinearRegression.fit_closed_form: A^T A is singular (collinear features or fewer "
                             "samples than features + 1); no unique least-squares solution") from None
        self.linear.weight.copy_(ember.tensor(theta[:-1].T))
        self.linear.bias.copy_(ember.tensor(theta[-1]))
        return self


class LogisticRegression(_LinearModel):
    """A single ``Linear(in_features, out_features)`` layer returning logits.

    The probability is ``sigmoid(logits)`` (binary, ``out_features=1``) or ``softmax`` (multinomial); train on
    the logits with ``nn.BCEWithLogitsLoss`` or ``nn.CrossEntropyLoss``, which fuse the link with the loss for
    numerical stability.  ``predict_proba`` applies the link.

    >>> LogisticRegression(2)(ember.randn(5, 2)).shape
    ember.Size([5, 1])
    """

    def __init__(self, in_features: int = 2, out_features: int = 1) -> None:
        super().__init__(in_features, out_features)             # forward returns the logits

    @ember.no_grad()
    def predict_proba(self, x):
        """Probabilities: sigmoid of the logits for one output, softmax over dim 1 otherwise."""
        z = self(x)
        return ember.sigmoid(z) if self.out_features == 1 else ember.softmax(z, 1)


class Perceptron(nn.Module):
    """Rosenblatt's perceptron: ``sign(w.x + b)`` with labels +-1.

    ``forward`` returns the score ``w.x + b`` (N,) so the model can also be trained by gradient descent (e.g. on
    a hinge loss); ``fit_rosenblatt`` applies the original rule ``w += y_i x_i, b += y_i`` for every misclassified
    sample, which converges in a finite number of epochs on linearly separable data and never on XOR.

    >>> p = Perceptron(2)
    >>> converged, epochs = p.fit_rosenblatt(X, y)      # y in {-1, +1}
    """

    def __init__(self, in_features: int = 2) -> None:
        super().__init__()
        self.in_features = in_features
        self.weight = nn.Parameter(ember.zeros(in_features))
        self.bias = nn.Parameter(ember.zeros(1))

    def forward(self, x):
        """(N, in_features) -> (N,) scores ``x @ w + b``."""
        _check_features(x, self.in_features, "Perceptron")
        return x @ self.weight + self.bias

    @ember.no_grad()
    def predict(self, x):
        """Labels +1 / -1."""
        return ember.where(self(x) > 0, 1.0, -1.0)

    @staticmethod
    def _signed(y):
        """Labels as +1/-1 floats from either convention, {0, 1} or {-1, +1} (0 and -1 both mean -1)."""
        y = ember.as_tensor(y)
        if bool(((y != 1) & (y != 0) & (y != -1)).any()):
            raise ValueError("Perceptron expected labels in {0, 1} or {-1, +1}")
        return ember.where(y > 0, 1.0, -1.0)

    def _criterion(self, batch):
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise TypeError("Perceptron.training_step expected batches (x, y)")
        x, y = batch
        s = self(x)
        y = self._signed(y)
        if tuple(y.shape) != tuple(s.shape):
            raise ValueError(f"Perceptron expected labels of shape ({x.shape[0]},), got {tuple(y.shape)}")
        wrong = (y * s.detach() <= 0).float()        # on the boundary counts as a mistake, as in the rule
        return -(y * s * wrong).mean(), wrong.mean()

    def training_step(self, batch):
        """Rosenblatt's rule as a loss, so that ``ember train`` and the ``Trainer`` can run it: the perceptron
        criterion ``mean over misclassified samples of -y (w.x + b)``, whose gradient ``-y x`` (and ``-y``),
        stepped by ``SGD(lr=1)`` on batches of one sample, is exactly ``w += y x, b += y``.  Larger batches give
        the batch perceptron; from zero weights the learning rate only scales ``w`` and ``b``, so it never
        changes a prediction.  Labels may be {0, 1} or {-1, +1}.  Logs ``error_rate``: the fraction of samples
        the rule had to correct this epoch (0 means converged; ``EarlyStopping(monitor="error_rate",
        stopping_threshold=0)`` stops there)."""
        loss, err = self._criterion(batch)
        return {"loss": loss, "error_rate": err}

    def validation_step(self, batch):
        """``loss`` (the perceptron criterion), ``accuracy`` and ``error_rate`` on held-out data."""
        loss, err = self._criterion(batch)
        return {"loss": loss, "accuracy": 1.0 - float(err), "error_rate": err}

    @ember.no_grad()
    def fit_rosenblatt(self, x, y, epochs: int = 100) -> tuple[bool, int]:
        """Rosenblatt's rule over ``epochs`` passes in order; returns ``(converged, epochs_run)``.

        ``x``: (N, in_features); ``y``: (N,) labels in {-1, +1} or {0, 1}.  Stops after the first pass without
        mistakes.
        """
        x, y = ember.as_tensor(x).float(), ember.as_tensor(y).float()
        _check_features(x, self.in_features, "Perceptron.fit_rosenblatt")
        if y.shape != (x.shape[0],):
            raise ValueError(f"Perceptron.fit_rosenblatt expected labels of shape ({x.shape[0]},), got "
                             f"{tuple(y.shape)}")
        y = self._signed(y)
        w = self.weight.detach().numpy().copy()
        b = float(self.bias.detach().numpy()[0])
        X, Y = x.numpy(), y.numpy()
        converged, run = False, 0
        for epoch in range(epochs):
            errors = 0
            for xi, yi in zip(X, Y):
                if yi * (float(xi @ w) + b) <= 0:
                    w += yi * xi
                    b += float(yi)
                    errors += 1
            run = epoch + 1
            if errors == 0:
                converged = True
                break
        self.weight.copy_(ember.tensor(w))
        self.bias.copy_(ember.tensor([b]))
        return converged, run


class PoissonMLP(nn.Module):
    """An MLP predicting the log-rate of a Poisson count: ``log mu = f(x) + log(exposure)``.

    The exp link makes the rate positive; the exposure (time at risk, number of policies...) enters as a fixed
    offset ``log_exposure`` with coefficient 1.  Train the output with ``nn.PoissonNLLLoss(log_input=True)``.

    >>> model = PoissonMLP(6, hidden=(32, 32))
    >>> log_mu = model(x, log_exposure=ember.log(exposure))     # (N,)
    """

    def __init__(self, in_features: int = 6, hidden=(32, 32), activation="tanh") -> None:
        super().__init__()
        if isinstance(hidden, int):
            hidden = (hidden,)
        self.in_features = in_features
        sizes = [in_features, *hidden]
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), make_activation(activation, "PoissonMLP")]
        layers.append(nn.Linear(sizes[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x, log_exposure=None):
        """(N, in_features) [and (N,) log-exposure] -> (N,) log-rate (log of the expected count)."""
        _check_features(x, self.in_features, "PoissonMLP")
        out = self.net(x).squeeze(1)
        if log_exposure is not None:
            if tuple(log_exposure.shape) != (x.shape[0],):
                raise ValueError(f"PoissonMLP expected log_exposure of shape ({x.shape[0]},), got "
                                 f"{tuple(log_exposure.shape)}")
            out = out + log_exposure
        return out

    @ember.no_grad()
    def predict_mean(self, x, exposure=None):
        """The expected count ``exposure * exp(f(x))``."""
        log_e = None if exposure is None else ember.log(ember.as_tensor(exposure).float())
        return self(x, log_e).exp()


class MultiLabelMLP(nn.Module):
    """An MLP with one logit per label (N, num_labels): several labels can be on at once.  Train with
    ``nn.BCEWithLogitsLoss``; predict ``logits > 0`` (probability > 0.5).

    >>> MultiLabelMLP(20, num_labels=5)(ember.randn(3, 20)).shape
    ember.Size([3, 5])
    """

    def __init__(self, in_features: int = 20, num_labels: int = 5, hidden=(64,), activation="relu",
                 dropout: float = 0.0) -> None:
        super().__init__()
        from .mlp import MLP
        self.in_features, self.num_labels = in_features, num_labels
        self.mlp = MLP(in_features, hidden=hidden, out_features=num_labels, activation=activation, dropout=dropout)

    def forward(self, x):
        """(N, in_features) -> (N, num_labels) logits."""
        if x.ndim < 2 or x[0].numel() != self.in_features:
            raise ValueError(f"MultiLabelMLP expected input of shape (N, {self.in_features}), got {tuple(x.shape)}")
        return self.mlp(x)

    @ember.no_grad()
    def predict(self, x):
        """0/1 label matrix (N, num_labels)."""
        return (self(x) > 0).float()
