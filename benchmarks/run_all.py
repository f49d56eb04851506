"""Every speed comparison in one run: ember vs PyTorch CPU, float32, the same thread count for both (the
machine's cores unless EMBER_BENCH_THREADS says otherwise).  Prints one Markdown table of median times and
ratios (ember / torch; below 1 means ember is faster).  `make bench` runs this.

The targets (issues 2 and 3): per-op overhead <= 3x; MLP step <= 1.1x; LeNet-5 and the MNIST example CNN
<= 1.5x; GRU/LSTM <= 1.5x; the transformer encoder <= 1.5x.  They are reported, never asserted.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import fmt_row, header, set_threads  # noqa: E402
import bench_core  # noqa: E402
import bench_conv  # noqa: E402
import bench_mlp  # noqa: E402
import bench_rnn  # noqa: E402


def main() -> None:
    n = set_threads()
    print(f"ember vs PyTorch {__import__('torch').__version__}, float32, {n} threads; medians; ratio = ember / torch\n")
    print(header())
    rows = bench_core.run() + bench_mlp.run() + bench_conv.model_rows(9) + bench_rnn.run(11) + bench_conv.kernel_rows(9)
    for r in rows:
        print(fmt_row(*r), flush=True)


if __name__ == "__main__":
    main()
