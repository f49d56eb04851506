"""Poisson regression MLP with an exp link and an exposure offset, on synthetic claim counts.

Counts ~ Poisson(exposure * exp(f(x))).  The network predicts log-rate f(x); log(exposure) is added as an
offset, and PoissonNLLLoss(log_input=True) is minimized.  Target: mean Poisson deviance on held-out data
within 5% of the deviance of the true model.   Run:  python examples/poisson_regression.py
"""
from _common import parse_args, Timer

import numpy as np

import ember
import ember.nn as nn
from ember.data import DataLoader, TensorDataset


def mean_poisson_deviance(y, mu):
    y, mu = np.asarray(y, np.float64), np.asarray(mu, np.float64)
    term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0)
    return float(np.mean(2 * (term - (y - mu))))


def make_claims(n, rng):
    x = rng.standard_normal((n, 6)).astype(np.float32)
    exposure = rng.uniform(0.1, 1.0, n).astype(np.float32)
    # a non-linear true log-rate: the MLP has something to learn beyond a GLM
    log_rate = -1.5 + 0.4 * x[:, 0] - 0.3 * x[:, 1] + 0.25 * x[:, 2] * x[:, 3] + 0.3 * np.sin(2 * x[:, 4])
    mu = exposure * np.exp(log_rate)
    return x, exposure, rng.poisson(mu).astype(np.float32), mu


def main():
    args = parse_args(__doc__, epochs=(int, 30, "training epochs"))
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    n = 4000 if args.quick else 60000
    x, expo, y, _ = make_claims(n, rng)
    xt, expot, yt, mut = make_claims(20000, rng)

    model = nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
    loss_fn = nn.PoissonNLLLoss(log_input=True, full=False)
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(TensorDataset(ember.tensor(x), ember.tensor(np.log(expo)), ember.tensor(y)),
                        batch_size=512, shuffle=True)
    epochs = 2 if args.quick else args.epochs
    with Timer() as t:
        for epoch in range(epochs):
            for xb, log_e, yb in loader:
                opt.zero_grad()
                log_mu = model(xb).squeeze(1) + log_e          # exposure offset
                loss = loss_fn(log_mu, yb)
                loss.backward()
                opt.step()
    with ember.no_grad():
        mu_hat = (model(ember.tensor(xt)).squeeze(1).exp() * ember.tensor(expot)).numpy()
    d_model = mean_poisson_deviance(yt, mu_hat)
    d_true = mean_poisson_deviance(yt, mut)
    d_null = mean_poisson_deviance(yt, np.full_like(yt, yt.sum() / expot.sum()) * expot)
    rel = d_model / d_true - 1
    print(f"mean Poisson deviance on held-out data: model {d_model:.4f}, true model {d_true:.4f}, "
          f"exposure-only baseline {d_null:.4f}")
    print(f"model is {rel:+.2%} from the true model ({'within' if abs(rel) <= 0.05 else 'NOT within'} 5%), "
          f"{epochs} epochs in {t.seconds:.0f}s")


if __name__ == "__main__":
    main()
