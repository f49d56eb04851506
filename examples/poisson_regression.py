"""Poisson regression MLP with an exp link and an exposure offset, on synthetic claim counts.

Counts ~ Poisson(exposure * exp(intercept + x . beta)).  The network predicts the log-rate f(x); log(exposure)
is added as an offset, and PoissonNLLLoss(log_input=True) is minimized.  Target: mean Poisson deviance on
held-out data within 5% of the deviance of the true model.   Run:  python examples/poisson_regression.py
"""
from _common import parse_args, Timer

import numpy as np

import ember
import ember.nn as nn
from ember.data import DataLoader
from ember.data.datasets.synthetic import make_poisson_counts
from ember.metrics import mean_poisson_deviance
from ember.models import PoissonMLP

BETA, INTERCEPT = [0.4, -0.3, 0.25, 0.0, 0.3, -0.2], -1.5      # the true log-rate, shared by train and test


def main():
    args = parse_args(__doc__, epochs=(int, 30, "training epochs"))
    ember.manual_seed(args.seed)
    n = 4000 if args.quick else 60000
    train = make_poisson_counts(n, 6, beta=BETA, intercept=INTERCEPT, seed=args.seed, as_dataset=True)
    test = make_poisson_counts(20000, 6, beta=BETA, intercept=INTERCEPT, seed=args.seed + 1)

    model = PoissonMLP(6, hidden=(32, 32), activation="tanh")
    loss_fn = nn.PoissonNLLLoss(log_input=True, full=False)
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(train, batch_size=512, shuffle=True)
    epochs = 2 if args.quick else args.epochs
    with Timer() as t:
        for epoch in range(epochs):
            for x, exposure, counts in loader:
                opt.zero_grad()
                log_mu = model(x, ember.log(exposure))         # f(x) + log(exposure)
                loss = loss_fn(log_mu, counts)
                loss.backward()
                opt.step()
            print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}")
    with ember.no_grad():
        log_mu = model(ember.tensor(test.X), ember.log(ember.tensor(test.exposure)))
    y = test.counts
    d_model = mean_poisson_deviance(log_mu, y, log_input=True)
    d_true = mean_poisson_deviance(test.exposure * np.exp(test.intercept + test.X @ test.beta), y)
    d_null = mean_poisson_deviance(test.exposure * y.sum() / test.exposure.sum(), y)   # one rate for all
    rel = d_model / d_true - 1
    print(f"mean Poisson deviance on held-out data: model {d_model:.4f}, true model {d_true:.4f}, "
          f"exposure-only baseline {d_null:.4f}")
    print(f"model is {rel:+.2%} from the true model ({'within' if abs(rel) <= 0.05 else 'NOT within'} 5%), "
          f"{epochs} epochs in {t.seconds:.0f}s")


if __name__ == "__main__":
    main()
