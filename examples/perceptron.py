"""Rosenblatt's perceptron and logistic regression on linearly separable data, then XOR.

The perceptron rule converges on separable data and cannot solve XOR (no line separates it); a 2-layer
MLP trained with backpropagation solves XOR.  Run:  python examples/perceptron.py
"""
from _common import parse_args

import ember
import ember.nn.functional as F
from ember.data.datasets.synthetic import make_separable, make_xor
from ember.metrics import accuracy
from ember.models import MLP, LogisticRegression, Perceptron


def fit(model, X, y, steps, opt):
    """Full-batch gradient descent on the binary cross-entropy of the logits (N, 1) against {0, 1} labels."""
    target = y.float().reshape(-1, 1)
    for _ in range(steps):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(X), target)
        loss.backward()
        opt.step()
    return loss.item()


def main():
    args = parse_args(__doc__)
    ember.manual_seed(args.seed)
    n = 100 if args.quick else 400

    # separable data: points of [-1, 1]^2 on either side of a random line, none within 0.1 of it
    X, y = (ember.tensor(a) for a in make_separable(n, n_features=2, margin=0.1, seed=args.seed))
    perceptron = Perceptron(2)
    converged, epochs = perceptron.fit_rosenblatt(X, y)          # labels {0, 1} count as -1/+1
    print(f"perceptron on separable data: converged={converged} after {epochs} epochs, "
          f"accuracy {accuracy(perceptron.predict(X) > 0, y):.1%}")

    logreg = LogisticRegression(2)
    loss = fit(logreg, X, y, 20 if args.quick else 300, ember.optim.SGD(logreg.parameters(), lr=2.0))
    print(f"logistic regression: loss {loss:.4f}, accuracy {accuracy(logreg(X).squeeze(1) > 0, y):.1%}")

    # XOR: label 1 where exactly one coordinate is positive, no point within 0.1 of an axis; no line separates
    # the classes
    X, y = (ember.tensor(a) for a in make_xor(n, margin=0.1, seed=args.seed + 1))
    Xt, yt = (ember.tensor(a) for a in make_xor(1000, margin=0.1, seed=args.seed + 2))
    perceptron = Perceptron(2)
    converged, _ = perceptron.fit_rosenblatt(X, y, epochs=100)
    print(f"perceptron on XOR: converged={converged}, test accuracy {accuracy(perceptron.predict(Xt) > 0, yt):.0%} "
          f"(a single line cannot separate XOR)")

    mlp = MLP(2, hidden=(16,), out_features=1, activation="tanh")
    loss = fit(mlp, X, y, 50 if args.quick else 1000, ember.optim.Adam(mlp.parameters(), lr=0.05))
    corners = ember.tensor([[-.5, -.5], [-.5, .5], [.5, -.5], [.5, .5]])
    print(f"2-layer MLP on XOR: loss {loss:.4f}, test accuracy {accuracy(mlp(Xt).squeeze(1) > 0, yt):.1%}, "
          f"truth table {(mlp(corners).squeeze(1) > 0).long().tolist()} (XOR: [0, 1, 1, 0])")


if __name__ == "__main__":
    main()
