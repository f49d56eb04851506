"""A small causal transformer language model on Tiny Shakespeare (characters).  Reports validation loss in
nats per character and prints a sample.  Target: validation loss <= 1.7.

Run:  python examples/transformer_lm.py [--steps 3000] [--quick]
"""
from _common import parse_args, Timer

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F
from char_rnn import load_text, batches


class TransformerLM(nn.Module):
    def __init__(self, vocab, d_model=128, nhead=4, layers=3, ff=512, max_len=256, dropout=0.1):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, ff, dropout, batch_first=True, norm_first=True,
                                           activation="gelu")
        self.blocks = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, x):
        L = x.shape[1]
        h = self.tok(x) + self.pos(ember.arange(L))
        mask = nn.Transformer.generate_square_subsequent_mask(L)
        return self.head(self.norm(self.blocks(h, mask=mask, is_causal=True)))


def evaluate(model, data, seq=128, max_chars=100_000):
    model.eval()
    data = data[:max_chars]
    n = (len(data) - 1) // seq
    x = ember.tensor(data[:n * seq].reshape(-1, seq))
    y = ember.tensor(data[1:n * seq + 1].reshape(-1, seq))
    with ember.no_grad():
        losses = [F.cross_entropy(model(xb).reshape(-1, model.head.out_features), yb.reshape(-1)).item()
                  for xb, yb in zip(x.split(64), y.split(64))]
    model.train()
    return float(np.mean(losses))


def sample(model, chars, prompt="ROMEO:", n=300, temperature=0.8, ctx=128):
    stoi = {c: i for i, c in enumerate(chars)}
    ids = [stoi[c] for c in prompt]
    model.eval()
    with ember.no_grad():
        for _ in range(n):
            logits = model(ember.tensor([ids[-ctx:]]))
            p = F.softmax(logits[0, -1] / temperature, dim=-1)
            ids.append(int(ember.multinomial(p, 1)))
    model.train()
    return "".join(chars[i] for i in ids)


def main():
    args = parse_args(__doc__, steps=(int, 3000, "training steps"))
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, val, chars = load_text()
    model = TransformerLM(len(chars))
    opt = ember.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    steps = 5 if args.quick else args.steps
    sched = ember.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    with Timer() as t:
        for step in range(steps):
            x, y = batches(train, rng, 32, 128)
            opt.zero_grad()
            loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
            loss.backward()
            ember.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            if (step + 1) % 500 == 0:
                print(f"step {step + 1}: train loss {loss.item():.3f}, val loss {evaluate(model, val):.3f}")
    v = evaluate(model, val, max_chars=10_000 if args.quick else 100_000)
    print(sample(model, chars, n=60 if args.quick else 300))
    print(f"transformer LM: validation loss {v:.3f} nats/char ({'meets' if v <= 1.7 else 'above'} the 1.7 target), "
          f"{steps} steps in {t.seconds:.0f}s")


if __name__ == "__main__":
    main()
