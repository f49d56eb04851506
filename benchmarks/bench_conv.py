"""Convolution and pooling, ember vs PyTorch CPU in one process (float32, same thread count).

Rows: forward+backward of ``F.conv2d`` (batch 64, 1->6 5x5 on 28x28 as LeNet's first layer; 32->64 3x3 on
26x26 as the PyTorch MNIST example's second layer), of ``F.max_pool2d`` (2x2 on 64x64x24x24) and of a
training-mode ``F.batch_norm``; then whole training steps (forward, cross-entropy, backward, SGD) of LeNet-5 and
of the PyTorch MNIST example CNN at batch 64.  The two libraries' calls alternate so that machine noise hits
both alike; medians are compared and the ratio is ember time / torch time (issue 3 targets: LeNet-5 and the
example CNN <= 1.5).

    python benchmarks/bench_conv.py [--threads 2] [--repeat 9] [--quick]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ember  # noqa: E402
import ember.nn as enn  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
from _common import set_threads, header, fmt_row  # noqa: E402

TF = torch.nn.functional


def _alternate(fe, ft, repeat):
    fe(), ft()          # warm-up
    te, tt = [], []
    for _ in range(repeat):
        t = time.perf_counter(); fe(); te.append(time.perf_counter() - t)
        t = time.perf_counter(); ft(); tt.append(time.perf_counter() - t)
    return statistics.median(te), statistics.median(tt)


def _pair(shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    return ([ember.tensor(a, requires_grad=True) for a in arrs], [torch.tensor(a, requires_grad=True) for a in arrs])


def _fb(fn, xs):
    def run():
        for x in xs:
            x.grad = None
        fn(*xs).sum().backward()
    return run


def kernel_rows(repeat):
    rows = []
    for name, shapes in [("conv2d fwd+bwd 64x1x28x28, 6x1x5x5", [(64, 1, 28, 28), (6, 1, 5, 5), (6,)]),
                         ("conv2d fwd+bwd 64x32x26x26, 64x32x3x3", [(64, 32, 26, 26), (64, 32, 3, 3), (64,)])]:
        e, t = _pair(shapes)
        rows.append((name, *_alternate(_fb(EF.conv2d, e), _fb(TF.conv2d, t), repeat)))
    e, t = _pair([(64, 64, 24, 24)])
    rows.append(("max_pool2d(2) fwd+bwd 64x64x24x24",
                 *_alternate(_fb(lambda x: EF.max_pool2d(x, 2), e), _fb(lambda x: TF.max_pool2d(x, 2), t), repeat)))
    e, t = _pair([(64, 32, 26, 26), (32,), (32,)])
    rows.append(("batch_norm(train) fwd+bwd 64x32x26x26",
                 *_alternate(_fb(lambda x, w, b: EF.batch_norm(x, None, None, w, b, True), e),
                             _fb(lambda x, w, b: TF.batch_norm(x, None, None, w, b, True), t), repeat)))
    return rows


def lenet(nn):
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def mnist_cnn(nn):
    """The PyTorch examples' MNIST network: conv32-conv64-maxpool-dropout-fc128-dropout-fc10."""
    return nn.Sequential(nn.Conv2d(1, 32, 3, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(128, 10))


def _step(model, x, y, lib, F):
    params = list(model.parameters())

    def run():
        loss = F.cross_entropy(model(x), y)
        for p in params:
            p.grad = None
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= 0.01 * p.grad
    return run


def model_rows(repeat):
    rows = []
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    for name, make in [("LeNet-5 train step, batch 64", lenet), ("MNIST example CNN train step, batch 64", mnist_cnn)]:
        tm = make(torch.nn)
        em = make(enn)
        em.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
        fe = _step(em, ember.tensor(x), ember.tensor(y), ember, EF)
        ft = _step(tm, torch.tensor(x), torch.tensor(y), torch, TF)
        rows.append((name, *_alternate(fe, ft, repeat)))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="3 repeats, kernels only")
    a = ap.parse_args(argv)
    n = set_threads(a.threads)
    repeat = 3 if a.quick else a.repeat
    print(f"threads: {n}, float32, median of {repeat}\n")
    print(header())
    rows = kernel_rows(repeat) + ([] if a.quick else model_rows(repeat))
    for name, te, tt in rows:
        print(fmt_row(name, te, tt))


if __name__ == "__main__":
    main()
