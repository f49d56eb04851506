"""The autograd graph behind a loss, as torchviz draws it: a small CNN on one 8x8 digit batch.  Blue: the
parameters by name; grey: backward nodes (PyTorch's names, with the shape and dtype they produced); orange: the
tensors backward saved; green: the loss.  Graphviz's dot lays it out when installed, else ember's own layout.

Writes docs/viz/graph_cnn.png.
Run:  python examples/viz_graph.py [--out docs/viz] [--no-saved]
"""
import argparse
import os

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.viz import draw_graph


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "viz"))
    ap.add_argument("--no-saved", action="store_true", help="leave out the saved tensors")
    ap.add_argument("--quick", action="store_true", help="(the same: it is quick)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ember.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 10))
    x, y = ember.randn(2, 1, 8, 8), ember.tensor([3, 7])
    loss = F.cross_entropy(model(x), y)
    g = draw_graph(loss, params=dict(model.named_parameters()), show_saved=not args.no_saved)
    print(g, "-", ", ".join(g.labels("op")))
    g.save(os.path.join(args.out, "graph_cnn.png"), dpi=80)      # .svg or .dot work the same way


if __name__ == "__main__":
    main()
