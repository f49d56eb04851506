"""Sequence-sum RNN: read a variable-length sequence such as (1, 3, 7) and output its sum (11).

Trained on lengths 2-10 (zero-padded batches of mixed lengths), tested on unseen lengths 11-15
(extrapolation).  A ReLU RNN can represent the running sum exactly (h_t = h_{t-1} + x_t), and learns it.
Target: test MSE < 0.01.   Run:  python examples/sequence_sum.py
"""
from _common import parse_args, Timer

import numpy as np

import ember
import ember.nn as nn
from ember.data.datasets.synthetic import make_sequence_sum
from ember.models import SumRNN


def batch(gen, min_len, max_len, size=64):
    """Zero-padded digit sequences (size, max_len, 1) scaled by 1/10, their lengths and their sums / 10."""
    digits, lengths, sums = make_sequence_sum(size, min_len, max_len, low=0, high=10, padded=True, generator=gen)
    x = ember.tensor(digits[:, :, None] / 10.0, dtype=ember.float32)
    return x, ember.tensor(lengths), ember.tensor(sums / 10.0, dtype=ember.float32)


def main():
    args = parse_args(__doc__, steps=(int, 6000, "training steps"))
    ember.manual_seed(args.seed)
    gen = ember.Generator().manual_seed(args.seed)
    model = SumRNN(input_size=1, hidden_size=8)
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    steps = 50 if args.quick else args.steps
    sched = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=1e-5)
    with Timer() as t:
        for step in range(steps):
            x, lengths, y = batch(gen, 2, 10)
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x, lengths), y)   # each sum read after its sequence's last digit
            loss.backward()
            opt.step()
            sched.step()
            if (step + 1) % 1000 == 0:
                print(f"step {step + 1}: train MSE {loss.item():.5f}")
    model.eval()
    with ember.no_grad():
        errs = []
        for length in range(11, 16):
            x, _, y = batch(gen, length, length, 256)
            errs.append(float(((model(x) - y) ** 2).mean()))
        x, _, y = batch(gen, 3, 3, 1)
        print("example: digits", (x.numpy().reshape(-1) * 10).round().astype(int).tolist(),
              "-> predicted sum", round(model(x).item() * 10, 2), "(true", round(y.item() * 10, 2), ")")
    mse = float(np.mean(errs))
    print(f"sequence-sum RNN: test MSE on unseen lengths 11-15 = {mse:.5f} (sum of digits/10) "
          f"({'meets' if mse < 0.01 else 'misses'} the < 0.01 target), {steps} steps in {t.seconds:.0f}s")


if __name__ == "__main__":
    main()
