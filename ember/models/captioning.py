"""Image captioning: a convolutional encoder and an LSTM decoder ("we can combine!"), with or without
additive attention over the encoder's feature map (Show and Tell, Vinyals et al. 2015; Show, Attend and Tell,
Xu et al. 2015).

    model = CaptionNet(vocab_size=len(vocab), attention=True)
    logits = model(images, tokens)              # teacher forcing: (N, vocab, T - 1) for targets tokens[:, 1:]
    loss = F.cross_entropy(logits, tokens[:, 1:], ignore_index=0)
    ids = model.greedy(images, max_len=16)      # (N, max_len) int64, EOS-terminated, PAD after
    best = model.beam_search(images, beam_size=3, max_len=16)     # one id list per image

Token ids follow ``ember.vision.scenes.Vocabulary``: PAD 0, BOS 1, EOS 2.
"""
from __future__ import annotations

import ember
from .. import nn
import ember.nn.functional as F
from ..backend import np

__all__ = ["CaptionEncoder", "CaptionNet"]

PAD, BOS, EOS = 0, 1, 2


class CaptionEncoder(nn.Module):
    """Three 3x3 conv blocks (two 2x2 max-pools) and two coordinate channels: ``(N, C_in, S, S)`` ->
    ``(N, channels + 2, S/4, S/4)``; the coordinates let the decoder say where things are."""

    def __init__(self, in_channels: int = 3, channels: int = 32) -> None:
        super().__init__()
        self.in_channels, self.channels = in_channels, channels
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU())

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"CaptionEncoder expected images of shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        f = self.body(x)
        n, _, h, w = f.shape
        ys = ember.linspace(-1, 1, h).reshape(1, 1, h, 1).expand(n, 1, h, w)
        xs = ember.linspace(-1, 1, w).reshape(1, 1, 1, w).expand(n, 1, h, w)
        return ember.cat([f, xs.to(f.dtype), ys.to(f.dtype)], dim=1)


class CaptionNet(nn.Module):
    """CNN encoder + LSTM decoder.  ``attention=False``: the flattened feature map sets the LSTM's initial
    state, and a projection of it joins the word embedding at every step's input (a fixed image vector).  ``attention=True``: at every step additive attention
    over the feature map's positions gives a context vector that joins the word embedding at the LSTM's input
    and the hidden state at the output layer.  ``image_size`` is needed without attention (the flattened size).
    """

    def __init__(self, vocab_size: int, embed_dim: int = 24, hidden_size: int = 96, channels: int = 32,
                 attention: bool = False, attn_dim: int = 48, image_size: int = 32, in_channels: int = 3) -> None:
        super().__init__()
        if vocab_size < 4:
            raise ValueError(f"CaptionNet: vocab_size must be at least 4 (PAD, BOS, EOS and a word), got {vocab_size}")
        self.vocab_size, self.hidden_size, self.attention = vocab_size, hidden_size, bool(attention)
        self.encoder = CaptionEncoder(in_channels, channels)
        feat = channels + 2
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        if self.attention:
            self.init_h = nn.Linear(feat, hidden_size)
            self.init_c = nn.Linear(feat, hidden_size)
            self.att_f = nn.Linear(feat, attn_dim)
            self.att_h = nn.Linear(hidden_size, attn_dim)
            self.att_v = nn.Linear(attn_dim, 1)
            self.cell = nn.LSTMCell(embed_dim + feat, hidden_size)
            self.out = nn.Linear(hidden_size + feat, vocab_size)
        else:
            cells = feat * (image_size // 8) ** 2              # the map is average-pooled 2x2 before flattening
            self.init_h = nn.Linear(cells, hidden_size)
            self.init_c = nn.Linear(cells, hidden_size)
            self.image_in = nn.Linear(cells, embed_dim)
            self.cell = nn.LSTMCell(2 * embed_dim, hidden_size)
            self.out = nn.Linear(hidden_size, vocab_size)

    # --- the decoder, one step at a time -------------------------------------------------------------------
    def encode(self, images):
        """The decoder's initial state and what it attends to: ``(state, memory)``."""
        f = self.encoder(images)                                   # (N, C, h, w)
        if self.attention:
            mem = f.flatten(2).transpose(1, 2)                     # (N, L, C)
            mean = mem.mean(1)
            state = (ember.tanh(self.init_h(mean)), ember.tanh(self.init_c(mean)))
            return state, (mem, self.att_f(mem))
        v = F.avg_pool2d(f, 2).flatten(1)
        return (ember.tanh(self.init_h(v)), ember.tanh(self.init_c(v))), F.relu(self.image_in(v))

    def step(self, tokens, state, memory):
        """One word in (N,), logits (N, vocab), the new state and the attention weights (N, L) or None."""
        e = self.embed(tokens)
        if not self.attention:
            h, c = self.cell(ember.cat([e, memory], dim=1), state)
            return self.out(h), (h, c), None
        mem, mem_proj = memory
        scores = self.att_v(ember.tanh(mem_proj + self.att_h(state[0])[:, None, :])).squeeze(-1)   # (N, L)
        alpha = F.softmax(scores, dim=1)
        ctx = (alpha[:, :, None] * mem).sum(1)
        h, c = self.cell(ember.cat([e, ctx], dim=1), state)
        return self.out(ember.cat([h, ctx], dim=1)), (h, c), alpha

    def forward(self, images, tokens):
        """Teacher forcing: ``tokens (N, T)`` starting with BOS; returns logits ``(N, vocab, T - 1)`` predicting
        ``tokens[:, 1:]``."""
        if tokens.ndim != 2 or tokens.shape[0] != images.shape[0] or tokens.shape[1] < 2:
            raise ValueError(f"CaptionNet expected tokens of shape ({images.shape[0]}, T >= 2) for images "
                             f"{tuple(images.shape)}, got {tuple(tokens.shape)}")
        state, memory = self.encode(images)
        logits = []
        for t in range(tokens.shape[1] - 1):
            out, state, _ = self.step(tokens[:, t], state, memory)
            logits.append(out)
        return ember.stack(logits, dim=2)

    def training_step(self, batch):
        """For ``ember.train.Trainer``: ``batch = (images, tokens)`` (e.g. from ``CaptionedScenes``) -> teacher-forced
        cross-entropy over the non-PAD targets, and the fraction of those predicted right."""
        images, tokens = batch
        logits = self(images, tokens)
        target = tokens[:, 1:]
        loss = F.cross_entropy(logits, target, ignore_index=PAD)
        with ember.no_grad():
            mask = target != PAD
            acc = float(((logits.argmax(1) == target) & mask).sum()) / max(int(mask.sum()), 1)
        return {"loss": loss, "token_accuracy": acc}

    # --- decoding ------------------------------------------------------------------------------------------
    @ember.no_grad()
    def greedy(self, images, max_len: int = 16, return_attention: bool = False):
        """The most likely word (PAD and BOS excluded) at every step: ``(N, max_len)`` int64 ids (EOS, then PAD), and with
        ``return_attention`` the weights ``(N, max_len, L)`` (attention models only)."""
        state, memory = self.encode(images)
        n = images.shape[0]
        tok = ember.full((n,), BOS, dtype=ember.int64)
        out = np.full((n, max_len), PAD, np.int64)
        done = np.zeros(n, bool)
        alphas = []
        for t in range(max_len):
            logits, state, alpha = self.step(tok, state, memory)
            lg = logits.numpy().copy()
            lg[:, [PAD, BOS]] = -np.inf                                  # never generated
            nxt = lg.argmax(1)
            out[:, t] = np.where(done, PAD, nxt)
            done |= nxt == EOS
            if alpha is not None:
                alphas.append(alpha.numpy())
            if done.all():
                break
            tok = ember.tensor(nxt)
        ids = ember.tensor(out)
        if return_attention:
            if not alphas:
                raise ValueError("CaptionNet.greedy: return_attention needs attention=True")
            a = np.zeros((n, max_len, alphas[0].shape[1]), np.float32)
            a[:, :len(alphas)] = np.stack(alphas, 1)
            return ids, ember.tensor(a)
        return ids

    @ember.no_grad()
    def beam_search(self, images, beam_size: int = 3, max_len: int = 16, length_penalty: float = 0.0):
        """Beam search per image over summed log-probabilities (PAD and BOS never generated; EOS counts) (divided by ``length ** length_penalty`` when
        ranking finished captions); returns one list of word ids per image (without BOS/EOS)."""
        if beam_size < 1:
            raise ValueError(f"CaptionNet.beam_search: beam_size must be >= 1, got {beam_size}")
        n, k, v = images.shape[0], beam_size, self.vocab_size
        state, memory = self.encode(images)
        rep = ember.tensor(np.repeat(np.arange(n), k))                   # every image k times: (N*k,)
        state = tuple(s[rep] for s in state)
        memory = tuple(m[rep] for m in memory) if self.attention else memory[rep]
        scores = np.full((n, k), -np.inf)
        scores[:, 0] = 0.0                                               # start from one beam per image
        seqs = np.zeros((n, k, 0), np.int64)
        finished = np.zeros((n, k), bool)
        tok = ember.full((n * k,), BOS, dtype=ember.int64)
        for t in range(max_len):
            logits, state, _ = self.step(tok, state, memory)
            logp = F.log_softmax(logits, dim=1).numpy().astype(np.float64).reshape(n, k, v)
            logp[:, :, [PAD, BOS]] = -np.inf                             # never generated
            fin = finished[:, :, None]
            stay = np.full(v, -np.inf)
            stay[PAD] = 0.0                                              # a finished beam only extends with PAD
            logp = np.where(fin, stay, logp)
            total = (scores[:, :, None] + logp).reshape(n, k * v)
            best = np.argsort(-total, axis=1, kind="stable")[:, :k]
            src, word = best // v, best % v
            scores = np.take_along_axis(total, best, 1)
            seqs = np.concatenate([np.take_along_axis(seqs, src[:, :, None], 1), word[:, :, None]], 2)
            finished = np.take_along_axis(finished, src, 1) | (word == EOS)
            flat = ember.tensor((src + np.arange(n)[:, None] * k).reshape(-1))
            state = tuple(s[flat] for s in state)
            tok = ember.tensor(word.reshape(-1))
            if finished.all():
                break
        results = []
        for i in range(n):
            cands = []
            for j in range(k):
                words = [int(w) for w in seqs[i, j] if w != PAD]
                if EOS in words:
                    words = words[:words.index(EOS)]
                length = len(words) + 1
                cands.append((scores[i, j] / length ** length_penalty, words))
            results.append(max(cands, key=lambda c: c[0])[1])
        return results
