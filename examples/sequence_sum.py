"""Sequence-sum RNN: read a variable-length sequence such as (1, 3, 7) and output its sum (11).

Trained on lengths 2-10, tested on unseen lengths 11-15 (extrapolation).  A ReLU RNN can represent the
running sum exactly (h_t = h_{t-1} + x_t), and learns it.  Target: test MSE < 0.01.
Run:  python examples/sequence_sum.py
"""
from _common import parse_args, Timer

import numpy as np

import ember
import ember.nn as nn


class SumRNN(nn.Module):
    def __init__(self, hidden=8):
        super().__init__()
        self.rnn = nn.RNN(1, hidden, nonlinearity="relu", batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):                 # x: (B, L, 1)
        out, h = self.rnn(x)
        return self.head(h[-1]).squeeze(1)


def batch(rng, length, size=64):
    x = rng.integers(0, 10, (size, length, 1)).astype(np.float32) / 10.0   # digits 0-9, scaled
    return ember.tensor(x), ember.tensor(x.sum(axis=(1, 2)))


def main():
    args = parse_args(__doc__, steps=(int, 6000, "training steps"))
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = SumRNN()
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    steps = 50 if args.quick else args.steps
    sched = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=1e-5)
    with Timer() as t:
        for step in range(steps):
            x, y = batch(rng, int(rng.integers(2, 11)))
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
            if (step + 1) % 1000 == 0:
                print(f"step {step + 1}: train MSE {loss.item():.5f}")
    model.eval()
    with ember.no_grad():
        errs = []
        for length in range(11, 16):
            x, y = batch(rng, length, 256)
            errs.append(float(((model(x) - y) ** 2).mean()))
        x, y = batch(rng, 3, 1)
    print("example: digits", (x.numpy().reshape(-1) * 10).astype(int).tolist(),
          "-> predicted sum", round(model(x).item() * 10, 2), "(true", round(y.item() * 10, 2), ")")
    mse = float(np.mean(errs))
    print(f"sequence-sum RNN: test MSE on unseen lengths 11-15 = {mse:.5f} (sum of digits/10) "
          f"({'meets' if mse < 0.01 else 'misses'} the < 0.01 target), {steps} steps in {t.seconds:.0f}s")


if __name__ == "__main__":
    main()
