"""A small causal transformer language model on Tiny Shakespeare (characters).  Reports validation loss in
nats per character and prints a sample.  Target: validation loss <= 1.7.

Pre-norm encoder blocks with a causal mask (GPT-style decoder-only), learned positional embeddings, AdamW with
a one-cycle schedule.  The defaults are sized for a 2-core CPU: d_model 128, 3 layers, 4 heads, context 64,
batch 32.  The feed-forward activation defaults to ReLU: the exact GELU's erf is a NumPy polynomial in ember
and took ~60% of the step time in a profile (--activation gelu / gelu_tanh to compare).

Run:  python examples/transformer_lm.py [--steps 2000] [--d-model 128] [--layers 3] [--ctx 64] [--quick]
"""
from _common import parse_args

import numpy as np

import ember
from ember.models import TransformerLM
from char_rnn import load_text, train_and_report


def main():
    args = parse_args(__doc__, steps=(int, 2000, "training steps"), d_model=(int, 128, "model width"),
                      layers=(int, 3, "transformer blocks"), heads=(int, 4, "attention heads"),
                      ctx=(int, 64, "context length (characters per window)"), batch=(int, 32, "windows per batch"),
                      lr=(float, 2e-3, "peak AdamW learning rate"), dropout=(float, 0.0, "dropout"),
                      activation=(str, "relu", "feed-forward activation: relu, gelu or gelu_tanh"),
                      eval_every=(int, 250, "steps between evals"), threads=(int, 1, "BLAS threads"))
    ember.set_num_threads(args.threads)
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, val, chars = load_text()
    # logits as (N, T, vocab) (vocab_dim=-1); max_len = the context: positions 0..ctx-1 are learned
    model = TransformerLM(len(chars), d_model=args.d_model, nhead=args.heads, num_layers=args.layers,
                          dim_feedforward=4 * args.d_model, max_len=args.ctx, dropout=args.dropout,
                          activation=args.activation, vocab_dim=-1)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"transformer: {args.layers} blocks, d_model {args.d_model}, {args.heads} heads, context {args.ctx}, "
          f"{args.activation}, {n_params:,} parameters; batch {args.batch}")
    opt = ember.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    steps = 5 if args.quick else args.steps
    sched = ember.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=0.1)
    train_and_report(model, opt, sched, steps, "transformer LM", args.ctx, args.ctx, args, rng, (train, val, chars),
                     args.out / "transformer_lm.log")


if __name__ == "__main__":
    main()
