"""Character-level language models on Tiny Shakespeare: an LSTM and a GRU (Karpathy's char-rnn).
Reports validation loss in nats per character and prints a sample.  Target: validation loss <= 1.7.

The defaults are sized for a 2-core CPU: one recurrent layer of 256 units, batches of 64 windows of 64
characters, Adam at 3e-3 with a cosine decay, 1500 steps.  The recurrence is a chain of small GEMMs
((64, 256) @ (256, 4*256) per time step), for which one BLAS thread is the fastest setting on a shared
machine (--threads; measured ~6x faster than OpenBLAS's default under load).

Run:  python examples/char_rnn.py [--cell lstm|gru] [--steps 1500] [--hidden 256] [--layers 1] [--quick]
"""
from _common import parse_args, read_tiny_shakespeare, Timer

import time

import numpy as np

import ember
import ember.nn.functional as F
from ember.models import CharRNN


def load_text():
    """Tiny Shakespeare as int64 character ids: (train 90%, validation 10%, sorted vocabulary)."""
    text = read_tiny_shakespeare()
    chars = sorted(set(text))
    lut = np.zeros(max(map(ord, chars)) + 1, np.int64)
    lut[[ord(c) for c in chars]] = np.arange(len(chars))
    data = lut[np.frombuffer(text.encode("utf-32-le"), np.uint32)]
    split = int(0.9 * len(data))
    return data[:split], data[split:], chars


def batches(data, rng, batch, seq):
    """`batch` random windows of `seq` characters and the same windows shifted by one (the targets)."""
    idx = rng.integers(0, len(data) - seq - 1, batch)[:, None] + np.arange(seq)
    return ember.tensor(data[idx]), ember.tensor(data[idx + 1])


def evaluate(model, data, seq=128, max_chars=100_000, batch=64):
    """Mean cross-entropy (nats/char) over the first `max_chars` characters, in non-overlapping windows of
    `seq` (each from a zero state for an RNN; the context for a transformer)."""
    model.eval()
    data = data[:max_chars]
    n = (len(data) - 1) // seq
    x = ember.tensor(data[:n * seq].reshape(-1, seq))
    y = ember.tensor(data[1:n * seq + 1].reshape(-1, seq))
    total = 0.0
    with ember.no_grad():
        for xb, yb in zip(x.split(batch), y.split(batch)):
            logits = model(xb)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1), reduction="sum").item()
    model.train()
    return total / (n * seq)


def sample_text(model, chars, prompt="ROMEO:", n=300, temperature=0.8) -> str:
    """The model's continuation of `prompt`, sampled character by character."""
    stoi = {c: i for i, c in enumerate(chars)}
    return "".join(chars[i] for i in model.sample([stoi[c] for c in prompt], n=n, temperature=temperature))


def train_and_report(model, opt, sched, steps, name, seq, eval_seq, args, rng, data, log_path):
    """The loop both language-model examples share: ``steps`` updates on random windows of ``seq`` characters
    (cross-entropy on the flattened (N*T, vocab) logits, gradient norm clipped to 1, the schedule stepped
    every update), a validation line every ``args.eval_every`` steps; then the validation loss over the whole
    validation text (windows of ``eval_seq``) and a sample, printed and logged."""
    train, val, chars = data
    log = open(log_path, "w")
    with Timer() as t:
        for step in range(steps):
            x, y = batches(train, rng, args.batch, seq)
            opt.zero_grad()
            loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
            loss.backward()
            ember.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            if (step + 1) % args.eval_every == 0 and step + 1 < steps:
                line = (f"step {step + 1}: train loss {loss.item():.3f}, val loss "
                        f"{evaluate(model, val, seq=eval_seq):.3f} (100k chars), {time.perf_counter() - t.t0:.0f}s")
                print(line, flush=True)
                log.write(line + "\n")
    n_val = 10_000 if args.quick else len(val)
    v = evaluate(model, val, seq=eval_seq, max_chars=n_val)
    text = sample_text(model, chars, n=60 if args.quick else 300)
    print(text)
    line = (f"{name}: validation loss {v:.3f} nats/char on {n_val:,} validation chars "
            f"({'meets' if v <= 1.7 else 'above'} the 1.7 target), {steps} steps in {t.seconds:.0f}s")
    print(line)
    log.write(text + "\n" + line + "\n")
    log.close()


def main():
    args = parse_args(__doc__, steps=(int, 1500, "training steps"), cell=(str, "lstm", "lstm or gru"),
                      hidden=(int, 256, "hidden units"), layers=(int, 1, "recurrent layers"),
                      batch=(int, 64, "windows per batch"), seq=(int, 64, "characters per window"),
                      lr=(float, 3e-3, "peak Adam learning rate"), eval_every=(int, 250, "steps between evals"),
                      threads=(int, 1, "BLAS threads"))
    if args.cell not in ("lstm", "gru"):
        raise SystemExit(f"--cell must be lstm or gru, got {args.cell!r}")
    ember.set_num_threads(args.threads)
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, val, chars = load_text()
    # logits as (N, T, vocab) (vocab_dim=-1): flattened below for the cross-entropy
    model = CharRNN(len(chars), embed_dim=64, hidden_size=args.hidden, num_layers=args.layers, cell=args.cell,
                    vocab_dim=-1)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{args.cell.upper()}: {args.layers} layer(s) x {args.hidden} units, {n_params:,} parameters; "
          f"batch {args.batch} x {args.seq} chars")
    opt = ember.optim.Adam(model.parameters(), lr=args.lr)
    steps = 5 if args.quick else args.steps
    sched = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=args.lr / 30)
    train_and_report(model, opt, sched, steps, f"char-RNN ({args.cell.upper()})", args.seq, 128, args, rng,
                     (train, val, chars), args.out / f"char_rnn_{args.cell}.log")


if __name__ == "__main__":
    main()
