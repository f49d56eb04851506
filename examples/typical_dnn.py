"""The lectures' "typical DNN": conv/pool stacks with 1x1 convolutions and a fully connected head, on
3x32x32 synthetic images.  Prints every layer's parameter count next to the lecture's formula
(conv: (k*k*C_in + 1) * C_out; fully connected: (n_in + 1) * n_out) and trains a few epochs.

Run:  python examples/typical_dnn.py
"""
from _common import parse_args, Timer

import ember
import ember.nn.functional as F
from ember.data.datasets.synthetic import make_quadrant_images
from ember.models import TypicalDNN, format_parameter_table, parameter_table


def main():
    args = parse_args(__doc__, epochs=(int, 3, "training epochs"))
    ember.manual_seed(args.seed)
    model = TypicalDNN(in_channels=3, num_classes=4)
    rows = parameter_table(model, (3, 32, 32))
    print(format_parameter_table(rows))
    checked = [r for r in rows if r["formula_params"] is not None]
    print(f"{sum(r['params'] == r['formula_params'] for r in checked)} of {len(checked)} layers with parameters "
          f"match the formula")

    # four classes: a bright square in one of the four quadrants (in channel class % 3), on noise
    gen = ember.Generator().manual_seed(args.seed)
    x, y = make_quadrant_images(256 if args.quick else 4000, generator=gen)
    xt, yt = make_quadrant_images(500, generator=gen)
    opt = ember.optim.Adam(model.parameters(), lr=2e-3)
    X, Y = ember.tensor(x), ember.tensor(y)
    epochs = 1 if args.quick else args.epochs
    with Timer() as t:
        for epoch in range(epochs):
            perm = ember.randperm(len(x))
            for i in range(0, len(x), 64):
                idx = perm[i:i + 64]
                opt.zero_grad()
                loss = F.cross_entropy(model(X[idx]), Y[idx])
                loss.backward()
                opt.step()
            with ember.no_grad():
                acc = ember.metrics.accuracy(model(ember.tensor(xt)), yt)
            print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy {acc:.1%}")
    print(f"typical DNN trains: test accuracy {acc:.1%} in {t.seconds:.0f}s")


if __name__ == "__main__":
    main()
