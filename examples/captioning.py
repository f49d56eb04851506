"""Image captioning on generated scenes: a CNN encoder and an LSTM decoder, with and without attention over
the feature map, trained with teacher forcing; greedy and beam-search decoding scored with BLEU-1..4 and
exact-match on held-out scenes.  Target: BLEU-4 >= 0.5.

Run:  python examples/captioning.py [--attention 0|1|2] [--epochs N] [--train N] [--out DIR]
      (--attention 2 trains both models, one after the other)
"""
from _common import parse_args, savefig, Timer

import ember
import ember.nn.functional as F
from ember.models import CaptionNet
from ember.vision.datasets import CaptionedScenes
from ember.vision.metrics import bleu_scores

MAX_LEN = 12          # BOS + at most 10 words + EOS


def train_one(args, attention: bool, train, test):
    ember.manual_seed(args.seed)
    vocab = train.vocab
    model = CaptionNet(len(vocab), attention=attention)
    opt = ember.optim.Adam(model.parameters(), lr=2e-3)
    X, T = ember.tensor(train.scenes.images), ember.tensor(train.tokens)
    Xt = ember.tensor(test.scenes.images)
    refs = [[c.split()] for c in test.scenes.captions]
    epochs = 1 if args.quick else args.epochs
    name = "attention" if attention else "no attention"
    with Timer() as t:
        for epoch in range(epochs):
            model.train()
            perm = ember.randperm(len(X))
            for i in range(0, len(X), 32):
                idx = perm[i:i + 32]
                opt.zero_grad()
                loss = F.cross_entropy(model(X[idx], T[idx]), T[idx][:, 1:], ignore_index=vocab.PAD)
                loss.backward()
                opt.step()
            model.eval()
            greedy = [vocab.decode(ids) for ids in model.greedy(Xt, max_len=MAX_LEN)]
            b = bleu_scores([g.split() for g in greedy], refs)
            exact = sum(g == c for g, c in zip(greedy, test.scenes.captions)) / len(greedy)
            print(f"epoch {epoch + 1}: [{name}] loss {loss.item():.4f}, greedy BLEU-4 {b['bleu4']:.3f}, exact {exact:.2f}")
    beam = [vocab.decode(ids) for ids in model.beam_search(Xt, beam_size=3, max_len=MAX_LEN)]
    bb = bleu_scores([s.split() for s in beam], refs)
    bexact = sum(g == c for g, c in zip(beam, test.scenes.captions)) / len(beam)
    fmt = lambda d: " ".join(f"{d[k]:.3f}" for k in ("bleu1", "bleu2", "bleu3", "bleu4"))
    print(f"captioning [{name}]: {len(X)} train / {len(Xt)} held-out scenes, {epochs} epochs in {t.seconds:.0f}s; "
          f"greedy BLEU-1..4 {fmt(b)}, exact {exact:.2f}; beam-3 BLEU-1..4 {fmt(bb)}, exact {bexact:.2f} "
          f"({'meets' if bb['bleu4'] >= 0.5 else 'below'} the 0.5 BLEU-4 target)")
    return model, greedy, beam


def main():
    args = parse_args(__doc__, epochs=(int, 12, "training epochs"), train=(int, 6000, "training scenes"),
                      attention=(int, 1, "0: no attention, 1: attention, 2: both"))
    n_train = 64 if args.quick else args.train
    train = CaptionedScenes(n_train, max_len=MAX_LEN, seed=args.seed)
    test = CaptionedScenes(32 if args.quick else 300, max_len=MAX_LEN, seed=10_000 + args.seed)   # held out
    kinds = [False, True] if args.attention == 2 else [bool(args.attention)]
    for attention in kinds:
        model, greedy, beam = train_one(args, attention, train, test)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(3, 4, figsize=(11, 9))
    for j, ax in enumerate(axes.flat):
        ax.imshow(test.scenes.images[j].transpose(1, 2, 0))
        ok = beam[j] == test.scenes.captions[j]
        ax.set_title(beam[j].replace(" left of", "\nleft of").replace(" above", "\nabove"), fontsize=8,
                     color="black" if ok else "red")
        ax.axis("off")
    fig.suptitle("beam-3 captions of held-out scenes (red: differs from the true caption)", fontsize=10)
    savefig(fig, args.out / f"captioning{'_attention' if kinds[-1] else ''}.png")


if __name__ == "__main__":
    main()
