"""MLP training step, ember vs PyTorch CPU in one process: 784-512-256-10 with ReLU, batch 128, float32,
cross-entropy, backward and an SGD step (optimizer objects on both sides).  Target (issue 3): ratio <= 1.1.

    python benchmarks/bench_mlp.py
"""
from __future__ import annotations

import numpy as np
import torch

import ember
from _common import fmt_row, header, set_threads, time_pair


def _model(nn):
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def _step(lib, model, opt, x, y):
    F = lib.nn.functional

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def run(repeat: int = 21) -> list[tuple[str, float, float]]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    tm = _model(torch.nn)
    em = _model(ember.nn)
    em.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    fe = _step(ember, em, ember.optim.SGD(em.parameters(), lr=0.01, momentum=0.9), ember.tensor(x), ember.tensor(y))
    ft = _step(torch, tm, torch.optim.SGD(tm.parameters(), lr=0.01, momentum=0.9), torch.tensor(x), torch.tensor(y))
    te, tt = time_pair(fe, ft, repeat)
    return [("MLP 784-512-256-10, batch 128, train step", te, tt)]


if __name__ == "__main__":
    print(f"threads: {set_threads()}")
    print(header())
    for r in run():
        print(fmt_row(*r))
