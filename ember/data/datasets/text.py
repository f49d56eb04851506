"""A character-level text corpus for char-RNN style language models.

``CharVocab`` maps characters to ids (``stoi``/``itos``); ``CharCorpus`` reads a text file, builds the
vocabulary and splits the encoded text into train/val parts; ``TextDataset`` serves ``(input, target)``
windows of ``seq_len`` ids, the target being the input shifted by one character.

>>> corpus = CharCorpus("input.txt")
>>> train = corpus.dataset("train", seq_len=64)
>>> x, y = train[0]          # y[t] == x[t + 1]
"""
from __future__ import annotations

import os
from typing import Iterable

import numpy as np

from ...tensor import Tensor
from ..dataset import Dataset
from ..dataloader import _Stacked
from ..root import DatasetNotFoundError, data_root, fetch, missing_message, resolve_root

__all__ = ["CharVocab", "CharCorpus", "TextDataset", "TinyShakespeare"]


class CharVocab:
    """A character vocabulary: the sorted distinct characters of ``text`` (or the given ``chars``).

    >>> v = CharVocab("hello")
    >>> v.decode(v.encode("hell")) == "hell"
    True
    """

    def __init__(self, text: str | None = None, chars: Iterable[str] | None = None) -> None:
        if chars is None:
            if text is None:
                raise ValueError("CharVocab needs text or chars")
            chars = sorted(set(text))
        self.itos = list(chars)
        self.stoi = {c: i for i, c in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("CharVocab: chars must be distinct")
        # a lookup table for the (common) case of a byte-range alphabet: encoding a 1 MB text is one take()
        self._table = None
        if all(ord(c) < 256 for c in self.itos):
            self._table = np.full(256, -1, np.int64)
            for i, c in enumerate(self.itos):
                self._table[ord(c)] = i

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> np.ndarray:
        """The ids of the characters of ``text`` (int64 array); unknown characters raise ``ValueError``."""
        if self._table is not None and text.isascii():
            ids = self._table[np.frombuffer(text.encode("ascii"), np.uint8)]
            if ids.size and ids.min() < 0:
                bad = sorted({text[i] for i in np.flatnonzero(ids < 0)[:20]})
                raise ValueError(f"CharVocab.encode: characters {bad} are not in the vocabulary")
            return ids
        try:
            return np.array([self.stoi[c] for c in text], np.int64)
        except KeyError as e:
            raise ValueError(f"CharVocab.encode: character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> str:
        """The text for a sequence of ids (a list, array or tensor)."""
        if isinstance(ids, Tensor):
            ids = ids._data
        ids = np.asarray(ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.itos)):
            raise ValueError(f"CharVocab.decode: ids must be in [0, {len(self.itos)}), got range "
                             f"[{ids.min()}, {ids.max()}]")
        return "".join(self.itos[i] for i in ids.tolist())


class TextDataset(Dataset):
    """``(input, target)`` windows over encoded text: ``input = ids[i*stride : i*stride + seq_len]`` and
    ``target`` the same window shifted by one (int64 tensors of length ``seq_len``).

    Args:
        ids: the encoded text (int array or tensor).
        seq_len: window length.
        stride: step between window starts (1: every position; ``seq_len``: non-overlapping windows).
        vocab: the ``CharVocab`` (kept for decoding; optional).
    """

    def __init__(self, ids, seq_len: int, stride: int = 1, vocab: CharVocab | None = None) -> None:
        ids = np.asarray(ids._data if isinstance(ids, Tensor) else ids, dtype=np.int64).reshape(-1)
        if seq_len < 1 or stride < 1:
            raise ValueError(f"TextDataset: seq_len and stride must be positive, got seq_len={seq_len}, "
                             f"stride={stride}")
        if len(ids) < seq_len + 1:
            raise ValueError(f"TextDataset: the text has {len(ids)} characters, too short for windows of "
                             f"seq_len={seq_len} plus one target character")
        self.ids, self.seq_len, self.stride, self.vocab = ids, int(seq_len), int(stride), vocab

    def __len__(self) -> int:
        return (len(self.ids) - self.seq_len - 1) // self.stride + 1

    def __getitem__(self, index: int):
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"TextDataset: index {index} out of range for {n} windows")
        s = index * self.stride
        window = self.ids[s:s + self.seq_len + 1]
        return Tensor._make(window[:-1].copy()), Tensor._make(window[1:].copy())

    def __getitems__(self, indices: list) -> list:
        """The windows at ``indices``, gathered as one batch."""
        collated = self._get_batch(indices)
        out = _Stacked((Tensor._make(a), Tensor._make(b)) for a, b in zip(collated[0]._data, collated[1]._data))
        out.collated = collated
        return out

    def _get_batch(self, indices):
        """The collated ``[inputs, targets]`` (``(B, seq_len)`` each) by one fancy index (the fast path)."""
        starts = np.asarray(indices, dtype=np.intp)
        n = len(self)
        if starts.size and (starts.min() < -n or starts.max() >= n):
            raise IndexError(f"TextDataset: index out of range for {n} windows")
        starts = np.where(starts < 0, starts + n, starts) * self.stride
        win = starts[:, None] + np.arange(self.seq_len + 1)
        block = self.ids[win]
        x, y = np.ascontiguousarray(block[:, :-1]), np.ascontiguousarray(block[:, 1:])
        return [Tensor._make(x), Tensor._make(y)]


class CharCorpus:
    """A text file (or string) as a character corpus: vocabulary, encoded ids and a train/val split.

    Args:
        path: a text file to read (UTF-8); or pass ``text=`` directly.
        val_fraction: the share at the end of the text kept for validation.
        vocab: an existing ``CharVocab`` (default: built from the whole text).

    Attributes: ``text``, ``vocab`` (``stoi``, ``itos``), ``ids``, ``train_ids``, ``val_ids``.
    """

    def __init__(self, path=None, val_fraction: float = 0.1, vocab: CharVocab | None = None, *,
                 text: str | None = None, encoding: str = "utf-8") -> None:
        if (path is None) == (text is None):
            raise ValueError("CharCorpus: give exactly one of path and text")
        if path is not None:
            path = os.fspath(path)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"CharCorpus: text file {path!r} not found")
            with open(path, encoding=encoding) as f:
                text = f.read()
        if not text:
            raise ValueError(f"CharCorpus: the text{f' in {path!r}' if path else ''} is empty")
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"CharCorpus: val_fraction must be in [0, 1), got {val_fraction}")
        self.path, self.text = path, text
        self.vocab = vocab if vocab is not None else CharVocab(text)
        self.ids = self.vocab.encode(text)
        n_train = int(len(self.ids) * (1.0 - val_fraction))
        self.train_ids, self.val_ids = self.ids[:n_train], self.ids[n_train:]

    @property
    def stoi(self) -> dict:
        return self.vocab.stoi

    @property
    def itos(self) -> list:
        return self.vocab.itos

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        """Ids of ``text`` (see ``CharVocab.encode``)."""
        return self.vocab.encode(text)

    def decode(self, ids) -> str:
        """Text of ``ids`` (see ``CharVocab.decode``)."""
        return self.vocab.decode(ids)

    def dataset(self, split: str = "train", seq_len: int = 64, stride: int = 1) -> TextDataset:
        """A ``TextDataset`` of windows over the ``"train"`` or ``"val"`` part."""
        if split not in ("train", "val"):
            raise ValueError(f"CharCorpus.dataset: split must be 'train' or 'val', got {split!r}")
        return TextDataset(self.train_ids if split == "train" else self.val_ids, seq_len, stride, self.vocab)


class TinyShakespeare(TextDataset):
    """Karpathy's Tiny Shakespeare as character windows: ``root`` (default: ember's data root) holds
    ``input.txt`` directly or in ``tinyshakespeare/``; ``download=True`` fetches it into ``root/tinyshakespeare``
    (checked against its published SHA-256).  ``train=False`` gives the last ``val_fraction`` of the text.
    ``.corpus`` holds the ``CharCorpus`` (vocabulary, encode/decode)."""

    mirrors = ["https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/"]
    resources = [("input.txt", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed")]

    @classmethod
    def find(cls, root=None, download: bool = False) -> str:
        """The path of ``input.txt`` under ``root`` (downloading it first with ``download=True``)."""
        root = resolve_root(root)
        candidates = (os.path.join(root, "input.txt"), os.path.join(root, "tinyshakespeare", "input.txt"), root)
        for p in candidates:
            if os.path.isfile(p):
                return p
        folder = os.path.join(root, "tinyshakespeare")
        if download:
            base = data_root()
            fetch(cls.__name__, folder, cls.resources, cls.mirrors,
                  local=[base, os.path.join(base, "tinyshakespeare")])
            return os.path.join(folder, "input.txt")
        raise DatasetNotFoundError(missing_message(cls.__name__, folder, cls.resources, cls.mirrors)
                                   + f" (looked for input.txt in {root} and {folder})")

    def __init__(self, root=None, train: bool = True, seq_len: int = 64, stride: int = 1,
                 val_fraction: float = 0.1, download: bool = False) -> None:
        self.corpus = CharCorpus(self.find(root, download), val_fraction=val_fraction)
        ids = self.corpus.train_ids if train else self.corpus.val_ids
        super().__init__(ids, seq_len, stride, self.corpus.vocab)
