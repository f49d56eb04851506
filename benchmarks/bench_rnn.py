"""Recurrent and attention training steps, ember vs PyTorch CPU in one process (float32, same thread count):

* 1-layer GRU and LSTM, input 28, hidden 128, 40 steps, batch 64;
* the same LSTM on a PackedSequence of 64 sequences of lengths 10-40 (``pack_padded_sequence``,
  ``enforce_sorted=False``: the packing, the masked recurrence and the unpacking are all in the step);
* a 2-layer TransformerEncoder (d_model 128, 4 heads, feed-forward 256, seq 64, batch 32, dropout 0.1).

One step = forward, a mean-square loss, backward, a plain SGD update.  The two libraries' steps are timed
in alternation (so machine noise hits both alike) and the medians are compared; the ratio is
ember time / torch time.  Targets (issue 3): <= 1.5 for all three.

    python benchmarks/bench_rnn.py [--threads 2] [--repeat 15]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import ember


def _sgd(params, lr=0.01):
    with torch.no_grad() if isinstance(params[0], torch.Tensor) and not isinstance(params[0], ember.Tensor) \
            else ember.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad
                p.grad = None


def _rnn_step(model, x, lib_is_torch):
    def step():
        out = model(x)[0]
        loss = (out * out).mean()
        loss.backward()
        _sgd(list(model.parameters()))
    return step


def _packed_step(model, x, lengths, lib):
    pack, unpack = lib.nn.utils.rnn.pack_padded_sequence, lib.nn.utils.rnn.pad_packed_sequence

    def step():
        out, _ = unpack(model(pack(x, lengths, enforce_sorted=False))[0])
        loss = (out * out).mean()
        loss.backward()
        _sgd(list(model.parameters()))
    return step


def _encoder_step(model, x):
    def step():
        out = model(x)
        loss = (out * out).mean()
        loss.backward()
        _sgd(list(model.parameters()))
    return step


def _time_pair(f_e, f_t, repeat):
    f_e(), f_t()        # warm-up
    te, tt = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f_e()
        t1 = time.perf_counter()
        f_t()
        t2 = time.perf_counter()
        te.append(t1 - t0)
        tt.append(t2 - t1)
    return statistics.median(te), statistics.median(tt)


def _copy_weights(e_mod, t_mod):
    e_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})


def run(repeat: int = 15) -> list[tuple[str, float, float]]:
    rows = []
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 64, 28)).astype(np.float32)
    for name in ("GRU", "LSTM"):
        t_mod = getattr(torch.nn, name)(28, 128)
        e_mod = getattr(ember.nn, name)(28, 128)
        _copy_weights(e_mod, t_mod)
        te, tt = _time_pair(_rnn_step(e_mod, ember.tensor(x), False), _rnn_step(t_mod, torch.tensor(x), True),
                            repeat)
        rows.append((f"{name} 1 layer, in 28, hidden 128, 40 steps, batch 64", te, tt))
    lengths = rng.integers(10, 41, 64)
    t_mod, e_mod = torch.nn.LSTM(28, 128), ember.nn.LSTM(28, 128)
    _copy_weights(e_mod, t_mod)
    te, tt = _time_pair(_packed_step(e_mod, ember.tensor(x), lengths.tolist(), ember),
                        _packed_step(t_mod, torch.tensor(x), torch.tensor(lengths), torch), repeat)
    rows.append(("LSTM on a PackedSequence, lengths 10-40, batch 64", te, tt))
    xs = rng.standard_normal((32, 64, 128)).astype(np.float32)
    t_layer = torch.nn.TransformerEncoderLayer(128, 4, 256, dropout=0.1, batch_first=True)
    t_mod = torch.nn.TransformerEncoder(t_layer, 2, enable_nested_tensor=False)
    e_mod = ember.nn.TransformerEncoder(ember.nn.TransformerEncoderLayer(128, 4, 256, dropout=0.1,
                                                                         batch_first=True), 2)
    _copy_weights(e_mod, t_mod)
    te, tt = _time_pair(_encoder_step(e_mod, ember.tensor(xs)), _encoder_step(t_mod, torch.tensor(xs)),
                        max(5, repeat // 2))
    rows.append(("TransformerEncoder 2 x (128, 4 heads, ff 256), seq 64, batch 32", te, tt))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"threads={args.threads} (set OMP/OPENBLAS_NUM_THREADS too for NumPy's BLAS), float32, training step")
    print("| benchmark                                                        | ember (ms) | torch (ms) | ratio |")
    print("|------------------------------------------------------------------|------------|------------|-------|")
    for name, te, tt in run(args.repeat):
        print(f"| {name:<64} | {te * 1e3:>10.2f} | {tt * 1e3:>10.2f} | {te / tt:>5.2f} |")


if __name__ == "__main__":
    main()
