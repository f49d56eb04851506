"""Sequence models: ``SumRNN`` (reads a variable-length sequence and outputs its sum), ``CharRNN`` (a
character-level LSTM/GRU language model) and ``TransformerLM`` (a small causal, GPT-style transformer).

The language models return logits as (N, vocab, T) by default, PyTorch's layout for ``nn.CrossEntropyLoss``
over sequences (targets (N, T)), so they train with the plain ``Trainer`` and ``ember train``; pass
``vocab_dim=-1`` for (N, T, vocab), the layout for sampling.
"""
from __future__ import annotations

import ember
from .. import nn
import ember.nn.functional as F

__all__ = ["SumRNN", "CharRNN", "TransformerLM"]


def _check_tokens(x, vocab: int, who: str):
    if x.ndim != 2:
        raise ValueError(f"{who} expected token ids of shape (N, T), got {tuple(x.shape)}")
    if x.is_floating_point():
        raise TypeError(f"{who} expected integer token ids, got dtype {x.dtype}")


def _layout(logits, vocab_dim: int):
    return logits.transpose(1, 2) if vocab_dim == 1 else logits


class SumRNN(nn.Module):
    """A ReLU RNN reading (N, L, input_size) sequences and returning one number per sequence (N,).

    With ``h_t = h_{t-1} + x_t`` a ReLU RNN represents the running sum exactly, so it extrapolates to lengths
    it never saw in training (X = (1, 3, 7) -> 11).

    >>> SumRNN()(ember.rand(4, 5, 1)).shape
    ember.Size([4])
    """

    def __init__(self, input_size: int = 1, hidden_size: int = 8) -> None:
        super().__init__()
        self.input_size = input_size
        self.rnn = nn.RNN(input_size, hidden_size, nonlinearity="relu", batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x, lengths=None):
        """(N, L, input_size) -> (N,) predicted sums.

        ``lengths`` (N,) int: for zero-padded batches of sequences of different lengths, the sum is read from
        the hidden state after each sequence's own last element (step ``lengths[i] - 1``), so the padding never
        enters the result (what ``pack_padded_sequence`` achieves in PyTorch, for a one-directional RNN).
        """
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"SumRNN expected input of shape (N, L, {self.input_size}), got {tuple(x.shape)}")
        if lengths is None:
            _, h = self.rnn(x)
            return self.head(h[-1]).squeeze(1)
        lengths = ember.as_tensor(lengths)
        if tuple(lengths.shape) != (x.shape[0],) or lengths.is_floating_point():
            raise ValueError(f"SumRNN expected integer lengths of shape ({x.shape[0]},), got "
                             f"{lengths.dtype} {tuple(lengths.shape)}")
        if bool((lengths < 1).any()) or bool((lengths > x.shape[1]).any()):
            raise ValueError(f"SumRNN: lengths must be in [1, {x.shape[1]}] (the padded length), got "
                             f"min {int(lengths.min())}, max {int(lengths.max())}")
        out, _ = self.rnn(x)                                    # (N, L, hidden)
        last = out[ember.arange(x.shape[0]), lengths.long() - 1]  # (N, hidden): each sequence's final state
        return self.head(last).squeeze(1)


class CharRNN(nn.Module):
    """Character-level language model (Karpathy's char-rnn): Embedding -> LSTM or GRU -> Linear.

    ``forward(x)`` with token ids (N, T) returns logits (N, vocab, T) (``vocab_dim=1``, for
    ``nn.CrossEntropyLoss`` against targets (N, T)) or (N, T, vocab) (``vocab_dim=-1``).  For sampling pass
    ``return_state=True`` (and the previous ``state``) to get ``(logits, state)``.  Parameter names (``embed``,
    ``rnn``, ``head``) are those of the CLI's earlier built-in factory, so old ``char_rnn`` checkpoints load.

    >>> CharRNN(65)(ember.randint(0, 65, (2, 10))).shape
    ember.Size([2, 65, 10])
    """

    def __init__(self, vocab_size: int = 65, embed_dim: int = 64, hidden_size: int = 256, num_layers: int = 1,
                 cell: str = "lstm", dropout: float = 0.0, vocab_dim: int = 1) -> None:
        super().__init__()
        rnn_cls = {"lstm": getattr(nn, "LSTM", None), "gru": getattr(nn, "GRU", None)}.get(cell)
        if rnn_cls is None:
            raise ValueError(f"CharRNN: cell must be 'lstm' or 'gru', got {cell!r}")
        if vocab_dim not in (1, -1):
            raise ValueError(f"CharRNN: vocab_dim must be 1 (N, vocab, T) or -1 (N, T, vocab), got {vocab_dim!r}")
        self.vocab_size, self.cell, self.vocab_dim = vocab_size, cell, vocab_dim
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = rnn_cls(embed_dim, hidden_size, num_layers, batch_first=True,
                           dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, state=None, return_state: bool = False):
        """Token ids (N, T) -> logits (layout per ``vocab_dim``), and the recurrent state if ``return_state``."""
        _check_tokens(x, self.vocab_size, "CharRNN")
        h, state = self.rnn(self.embed(x), state)
        logits = _layout(self.head(h), self.vocab_dim)
        return (logits, state) if return_state else logits

    @ember.no_grad()
    def sample(self, prompt_ids, n: int = 200, temperature: float = 0.8) -> list[int]:
        """Continue ``prompt_ids`` (a list of ints) by ``n`` sampled tokens; returns all ids."""
        was = self.training
        self.eval()
        try:
            ids = list(prompt_ids)
            logits, state = self(ember.tensor([ids]), return_state=True)
            for _ in range(n):
                last = logits[0, :, -1] if self.vocab_dim == 1 else logits[0, -1]
                c = int(ember.multinomial(F.softmax(last / temperature, dim=-1), 1))
                ids.append(c)
                logits, state = self(ember.tensor([[c]]), state, return_state=True)
        finally:
            self.train(was)
        return ids


class TransformerLM(nn.Module):
    """A small decoder-only (GPT-style) transformer language model with a causal mask.

    Token + learned positional embeddings -> ``num_layers`` pre-norm ``TransformerEncoderLayer`` blocks under a
    causal mask -> LayerNorm -> Linear to the vocabulary.  ``forward`` takes token ids (N, T <= max_len) and
    returns logits (N, vocab, T) (``vocab_dim=1``) or (N, T, vocab) (``vocab_dim=-1``).

    ``activation``: ``'relu'`` (default; fastest here), ``'gelu'`` or ``'gelu_tanh'``.

    >>> TransformerLM(65, max_len=32)(ember.randint(0, 65, (2, 16))).shape
    ember.Size([2, 65, 16])
    """

    def __init__(self, vocab_size: int = 65, d_model: int = 128, nhead: int = 4, num_layers: int = 3,
                 dim_feedforward: int = 512, max_len: int = 256, dropout: float = 0.1, activation: str = "relu",
                 vocab_dim: int = 1) -> None:
        super().__init__()
        if d_model % nhead:
            raise ValueError(f"TransformerLM: d_model ({d_model}) must be divisible by nhead ({nhead})")
        if activation not in ("relu", "gelu", "gelu_tanh"):
            raise ValueError(f"TransformerLM: activation must be 'relu', 'gelu' or 'gelu_tanh', got {activation!r}")
        if vocab_dim not in (1, -1):
            raise ValueError(f"TransformerLM: vocab_dim must be 1 or -1, got {vocab_dim!r}")
        self.vocab_size, self.max_len, self.vocab_dim = vocab_size, max_len, vocab_dim
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        act = _gelu_tanh if activation == "gelu_tanh" else activation
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, batch_first=True,
                                           norm_first=True, activation=act)
        self.blocks = nn.TransformerEncoder(layer, num_layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, x):
        """Token ids (N, T) -> logits (layout per ``vocab_dim``); position t sees tokens 0..t only."""
        _check_tokens(x, self.vocab_size, "TransformerLM")
        L = x.shape[1]
        if L > self.max_len:
            raise ValueError(f"TransformerLM expected sequences of at most max_len={self.max_len} tokens, "
                             f"got shape {tuple(x.shape)}")
        h = self.tok(x) + self.pos(ember.arange(L))
        mask = nn.Transformer.generate_square_subsequent_mask(L)
        return _layout(self.head(self.norm(self.blocks(h, mask=mask, is_causal=True))), self.vocab_dim)

    @ember.no_grad()
    def sample(self, prompt_ids, n: int = 200, temperature: float = 0.8) -> list[int]:
        """Continue ``prompt_ids`` by ``n`` sampled tokens (context: the last ``max_len``); returns all ids."""
        was = self.training
        self.eval()
        try:
            ids = list(prompt_ids)
            for _ in range(n):
                logits = self(ember.tensor([ids[-self.max_len:]]))
                last = logits[0, :, -1] if self.vocab_dim == 1 else logits[0, -1]
                ids.append(int(ember.multinomial(F.softmax(last / temperature, dim=-1), 1)))
        finally:
            self.train(was)
        return ids


def _gelu_tanh(x):
    return F.gelu(x, approximate="tanh")
