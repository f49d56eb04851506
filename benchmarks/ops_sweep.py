"""Single ops, ember against PyTorch CPU: forward under ``no_grad`` and forward + backward, at a few sizes each.

``make bench`` times whole training steps; this sweep times the ops those steps are made of, and many that no
row of it uses (GELU, layer norm, top-k, embedding...), to find where ember is slow before a model shows it.
Each framework runs in a fresh process of its own (``--lib`` workers, one after the other, the same thread
count).  Each op is timed in blocks of calls for about a quarter of a second after a warm-up, and the fastest
block counts: the minimum is the stable measure of a short op on a noisy machine (medians here move by tens of
percent from run to run).  The backward is driven by a fixed random gradient of the output's shape (a
contiguous one, as a layer above would pass).  Rows come out worst ratio first; nothing asserts on time.

    python benchmarks/ops_sweep.py [--threads 1] [--only SUBSTRING] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _cases(T, np):
    F = T.nn.functional
    rng = np.random.default_rng(0)

    def R(*shape, grad=True):
        t = T.tensor(rng.standard_normal(shape).astype(np.float32))
        return t.requires_grad_() if grad else t

    cases = {}
    for size, shape in (("8K", (64, 128)), ("65K", (128, 512)), ("1.2M", (64, 32, 24, 24))):
        for name in ("relu", "sigmoid", "tanh", "gelu", "silu", "elu", "leaky_relu", "softplus"):
            cases[f"{name} {size}"] = (lambda a, n=name: getattr(F, n)(a), R(*shape))
        cases[f"softmax {size}"] = (lambda a: F.softmax(a, dim=1), R(*shape))
        cases[f"log_softmax {size}"] = (lambda a: F.log_softmax(a, dim=1), R(*shape))
        cases[f"exp {size}"] = (lambda a: T.exp(a), R(*shape))
        cases[f"add {size}"] = (lambda a, b: a + b, R(*shape), R(*shape))
        cases[f"add row-broadcast {size}"] = (lambda a, b: a + b, R(*shape), R(shape[-1]))
        cases[f"sum {size}"] = (lambda a: a.sum(), R(*shape))
        cases[f"mean {size}"] = (lambda a: a.mean(), R(*shape))
        cases[f"sum(1) {size}"] = (lambda a: a.sum(1), R(*shape))
        cases[f"clamp {size}"] = (lambda a: a.clamp(-0.5, 0.5), R(*shape))
    y10, y1k = T.tensor(rng.integers(0, 10, 128)), T.tensor(rng.integers(0, 1000, 256))
    idx = T.tensor(rng.integers(0, 1000, (32, 64)))
    targets = T.tensor(rng.random((64, 784)).astype(np.float32))
    cases.update({
        "cross_entropy 128x10": (lambda a: F.cross_entropy(a, y10), R(128, 10)),
        "cross_entropy 256x1000": (lambda a: F.cross_entropy(a, y1k), R(256, 1000)),
        "nll_loss(log_softmax) 128x10": (lambda a: F.nll_loss(F.log_softmax(a, 1), y10), R(128, 10)),
        "mse_loss 64x784": (lambda a, b: F.mse_loss(a, b), R(64, 784), R(64, 784, grad=False)),
        "bce_with_logits 64x784": (lambda a: F.binary_cross_entropy_with_logits(a, targets), R(64, 784)),
        "triplet_margin_loss 96x32": (lambda a, p, n: F.triplet_margin_loss(a, p, n), R(96, 32), R(96, 32),
                                      R(96, 32)),
        "layer_norm 64x128": (lambda a, w, b: F.layer_norm(a, (128,), w, b), R(64, 128), R(128), R(128)),
        "layer_norm 2048x128": (lambda a, w, b: F.layer_norm(a, (128,), w, b), R(2048, 128), R(128), R(128)),
        "batch_norm 64x16x16x16": (lambda a, w, b: F.batch_norm(a, None, None, w, b, training=True),
                                   R(64, 16, 16, 16), R(16), R(16)),
        "group_norm 32x64x8x8": (lambda a, w, b: F.group_norm(a, 8, w, b), R(32, 64, 8, 8), R(64), R(64)),
        "linear 128x784->512": (lambda a, w, b: F.linear(a, w, b), R(128, 784), R(512, 784), R(512)),
        "linear 64x128->128": (lambda a, w, b: F.linear(a, w, b), R(64, 128), R(128, 128), R(128)),
        "bmm 32x64x64": (lambda a, b: a @ b, R(32, 64, 64), R(32, 64, 64)),
        "conv2d 64x1x28x28 5x5 ->6": (lambda a, w, b: F.conv2d(a, w, b), R(64, 1, 28, 28), R(6, 1, 5, 5), R(6)),
        "conv2d 64x6x12x12 5x5 ->16": (lambda a, w, b: F.conv2d(a, w, b), R(64, 6, 12, 12), R(16, 6, 5, 5),
                                       R(16)),
        "conv2d 64x16x16x16 3x3 p1 ->32": (lambda a, w, b: F.conv2d(a, w, b, padding=1), R(64, 16, 16, 16),
                                           R(32, 16, 3, 3), R(32)),
        "conv2d 1x1 64x64x16x16": (lambda a, w: F.conv2d(a, w), R(64, 64, 16, 16), R(64, 64, 1, 1)),
        "conv_transpose2d 64x32x7x7 s2": (lambda a, w: F.conv_transpose2d(a, w, stride=2, padding=1,
                                                                          output_padding=1),
                                          R(64, 32, 7, 7), R(32, 16, 3, 3)),
        "max_pool2d 64x16x24x24": (lambda a: F.max_pool2d(a, 2), R(64, 16, 24, 24)),
        "avg_pool2d 64x16x24x24": (lambda a: F.avg_pool2d(a, 2), R(64, 16, 24, 24)),
        "adaptive_avg_pool2d 64x64x8x8": (lambda a: F.adaptive_avg_pool2d(a, 1), R(64, 64, 8, 8)),
        "interpolate nearest x2 64x16x16x16": (lambda a: F.interpolate(a, scale_factor=2), R(64, 16, 16, 16)),
        "pad 64x16x16x16": (lambda a: F.pad(a, (1, 1, 1, 1)), R(64, 16, 16, 16)),
        "dropout 65K": (lambda a: F.dropout(a, 0.5, training=True), R(128, 512)),
        "embedding 32x64 of 1000x64": (lambda w: F.embedding(idx, w), R(1000, 64)),
        "softmax attention scores 32x4x64x64": (lambda a: F.softmax(a, -1), R(32, 4, 64, 64)),
        "scaled_dot_product_attention 32x4x64x32": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
                                                    R(32, 4, 64, 32), R(32, 4, 64, 32), R(32, 4, 64, 32)),
        "cosine_similarity 128x64": (lambda a, b: F.cosine_similarity(a, b), R(128, 64), R(128, 64)),
        "normalize 128x64": (lambda a: F.normalize(a), R(128, 64)),
        "cat 4 x 64x128": (lambda a, b: T.cat([a, b, a, b], 1), R(64, 128), R(64, 128)),
        "stack 8 x 64x64": (lambda a: T.stack([a] * 8), R(64, 64)),
        "t().contiguous() 128x512": (lambda a: a.t().contiguous(), R(128, 512)),
        "where 65K": (lambda a, b: T.where(a > 0, a, b), R(128, 512), R(128, 512)),
        "var_mean 128x512 dim 1": (lambda a: T.var_mean(a, 1)[0], R(128, 512)),
        "cumsum 128x512": (lambda a: T.cumsum(a, 1), R(128, 512)),
        "topk 128x1000 k=5": (lambda a: T.topk(a, 5, 1)[0], R(128, 1000)),
    })
    return cases


def _best(f, budget=0.25):
    """The fastest block's time per call (us), blocks of ~1/10 of what runs in 50 ms, for ``budget`` seconds."""
    f()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.05:
        f()
        n += 1
    block, best, end = max(1, n // 10), float("inf"), time.perf_counter() + budget
    while time.perf_counter() < end:
        s = time.perf_counter()
        for _ in range(block):
            f()
        best = min(best, (time.perf_counter() - s) / block)
    return best * 1e6


def worker(lib, threads, only):
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(threads)
    import numpy as np
    if lib == "torch":
        import torch as T
        T.set_num_threads(threads)
    else:
        sys.path.insert(0, os.path.dirname(HERE))
        import ember as T
    out = {}
    for name, (f, *args) in _cases(T, np).items():
        if only and only not in name:
            continue
        with T.no_grad():
            fwd = _best(lambda: f(*args))
        y = f(*args)
        g = T.tensor(np.random.default_rng(9).standard_normal(tuple(y.shape)).astype(np.float32))

        def fwd_bwd():
            for a in args:
                a.grad = None
            f(*args).backward(g)
        out[name] = (fwd, _best(fwd_bwd))
    json.dump(out, sys.stdout)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--only", default="")
    p.add_argument("--json", help="also write the times here")
    p.add_argument("--lib", choices=("ember", "torch"), help=argparse.SUPPRESS)     # a worker's run
    a = p.parse_args(argv)
    if a.lib:
        return worker(a.lib, a.threads, a.only)
    times = {}
    for lib in ("ember", "torch"):
        cmd = [sys.executable, os.path.abspath(__file__), "--lib", lib, "--threads", str(a.threads),
               "--only", a.only]
        times[lib] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    rows = []
    for name, (ef, eb) in times["ember"].items():
        tf, tb = times["torch"][name]
        rows.append((max(ef / tf, eb / tb), name, ef, tf, eb, tb))
    print(f"{len(rows)} ops, {a.threads} thread(s); times in us, the fastest block; ratio ember / PyTorch\n")
    print("| op | no_grad ember / torch | ratio | fwd+bwd ember / torch | ratio |")
    print("|---|---:|---:|---:|---:|")
    for _, name, ef, tf, eb, tb in sorted(rows, reverse=True):
        print(f"| {name} | {ef:.1f} / {tf:.1f} | {ef / tf:.2f} | {eb:.1f} / {tb:.1f} | {eb / tb:.2f} |")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(times, fh, indent=1)


if __name__ == "__main__":
    main()
