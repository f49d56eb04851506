"""Linear regression two ways: the closed form (normal equations) and gradient descent with ember.

Both must find the same coefficients to 1e-4.  Run:  python examples/linear_regression.py
"""
from _common import parse_args, Timer

import numpy as np

import ember
import ember.nn as nn
from ember.data.datasets.synthetic import make_linear_regression
from ember.models import LinearRegression


def main():
    args = parse_args(__doc__)
    ember.manual_seed(args.seed)
    (X, y), (true_w, _) = make_linear_regression(500, n_features=5, noise=0.1, bias=0.5, seed=args.seed,
                                                 return_coef=True)
    X, y = X.astype(np.float64), y[:, 0].astype(np.float64)      # float64: both methods to 1e-6

    # closed form: the normal equations (A^T A) theta = A^T y with A = [X, 1], solved in one step
    closed = LinearRegression(5).double().fit_closed_form(ember.tensor(X), ember.tensor(y))
    w_cf, b_cf = closed.linear.weight.detach().numpy()[0], closed.linear.bias.item()

    # gradient descent on the mean squared error, float64, full batch
    model = LinearRegression(5).double()
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    Xt, yt = ember.tensor(X), ember.tensor(y).reshape(-1, 1)
    steps = 50 if args.quick else 5000
    with Timer() as t:
        for step in range(steps):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(Xt), yt)
            loss.backward()
            opt.step()
            diff = max(np.abs(model.linear.weight.detach().numpy()[0] - w_cf).max(),
                       abs(model.linear.bias.item() - b_cf))
            if diff < 1e-5:
                break
    w_gd = model.linear.weight.detach().numpy()[0]
    print(f"true coefficients     {np.round(true_w.reshape(-1), 4)}")
    print(f"closed form           {np.round(w_cf, 6)}  bias {b_cf:.6f}")
    print(f"gradient descent      {np.round(w_gd, 6)}  bias {model.linear.bias.item():.6f}  ({step + 1} steps, {t.seconds:.2f}s)")
    diff = max(np.abs(w_gd - w_cf).max(), abs(model.linear.bias.item() - b_cf))
    print(f"max |difference| = {diff:.2e}  -> {'same to 1e-4' if diff < 1e-4 else 'NOT within 1e-4'}")


if __name__ == "__main__":
    main()
