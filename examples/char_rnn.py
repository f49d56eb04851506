"""Character-level language models on Tiny Shakespeare: an LSTM and a GRU (Karpathy's char-rnn).
Reports validation loss in nats per character and prints a sample.  Target: validation loss <= 1.7.

Run:  python examples/char_rnn.py [--cell lstm|gru] [--steps 3000] [--quick]
"""
from _common import parse_args, SHARED_DATA, Timer

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F


class CharRNN(nn.Module):
    def __init__(self, vocab, hidden=256, layers=2, cell="lstm", dropout=0.2):
        super().__init__()
        self.embed = nn.Embedding(vocab, 64)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(64, hidden, num_layers=layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.rnn(self.embed(x), state)
        return self.head(out), state


def load_text():
    text = (SHARED_DATA / "tinyshakespeare" / "input.txt").read_text()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], np.int64)
    split = int(0.9 * len(data))
    return data[:split], data[split:], chars


def batches(data, rng, batch, seq):
    idx = rng.integers(0, len(data) - seq - 1, batch)
    x = np.stack([data[i:i + seq] for i in idx])
    y = np.stack([data[i + 1:i + seq + 1] for i in idx])
    return ember.tensor(x), ember.tensor(y)


def evaluate(model, data, seq=128, max_chars=100_000):
    model.eval()
    data = data[:max_chars]
    n = (len(data) - 1) // seq
    x = ember.tensor(data[:n * seq].reshape(-1, seq))
    y = ember.tensor(data[1:n * seq + 1].reshape(-1, seq))
    with ember.no_grad():
        losses = [F.cross_entropy(model(xb)[0].reshape(-1, model.head.out_features), yb.reshape(-1)).item()
                  for xb, yb in zip(x.split(64), y.split(64))]
    model.train()
    return float(np.mean(losses))


def sample(model, chars, prompt="ROMEO:", n=300, temperature=0.8):
    stoi = {c: i for i, c in enumerate(chars)}
    model.eval()
    with ember.no_grad():
        x = ember.tensor([[stoi[c] for c in prompt]])
        logits, state = model(x)
        out = list(prompt)
        for _ in range(n):
            p = F.softmax(logits[0, -1] / temperature, dim=-1)
            c = int(ember.multinomial(p, 1))
            out.append(chars[c])
            logits, state = model(ember.tensor([[c]]), state)
    model.train()
    return "".join(out)


def main():
    args = parse_args(__doc__, steps=(int, 3000, "training steps"), cell=(str, "lstm", "lstm or gru"))
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, val, chars = load_text()
    model = CharRNN(len(chars), cell=args.cell)
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    steps = 5 if args.quick else args.steps
    sched = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=1e-4)
    with Timer() as t:
        for step in range(steps):
            x, y = batches(train, rng, 64, 100)
            opt.zero_grad()
            logits, _ = model(x)
            loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
            loss.backward()
            ember.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            if (step + 1) % 500 == 0:
                print(f"step {step + 1}: train loss {loss.item():.3f}, val loss {evaluate(model, val):.3f}")
    v = evaluate(model, val, max_chars=10_000 if args.quick else 100_000)
    print(sample(model, chars, n=60 if args.quick else 300))
    print(f"char-RNN ({args.cell.upper()}): validation loss {v:.3f} nats/char "
          f"({'meets' if v <= 1.7 else 'above'} the 1.7 target), {steps} steps in {t.seconds:.0f}s")


if __name__ == "__main__":
    main()
