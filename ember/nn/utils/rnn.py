"""Variable-length sequences, like ``torch.nn.utils.rnn``: pad a list of sequences into one tensor, pack a
padded batch into a ``PackedSequence`` (what ``nn.RNN``/``nn.LSTM``/``nn.GRU`` accept to run every sequence
only over its own steps), and back.

    padded = pad_sequence(seqs, batch_first=True)                     # (B, T, *), zeros after each end
    packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
    out, h_n = gru(packed)                                            # h_n: each sequence's last step
    out, lengths = pad_packed_sequence(out, batch_first=True)

A ``PackedSequence`` holds PyTorch's layout: ``data`` are the rows of all sequences, time-major (step 0 of
every sequence, then step 1 of those still running, ...), with the batch sorted by decreasing length;
``batch_sizes[t]`` counts the sequences still running at step t; ``sorted_indices[j]`` is the original
batch index of sorted position j and ``unsorted_indices`` its inverse (both None when the input was already
sorted).  Packing and padding are one differentiable row gather each (``ember.ops.rnn.select_rows``).

Differences from PyTorch: ties in ``enforce_sorted=False`` keep their original order (a stable sort; torch's
sort may order ties differently for large batches, which only reorders ``data`` rows among equal lengths);
lengths longer than the padded input raise an error (torch reads past the end); ``unpad_sequence`` does not
transpose its input in place.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, Optional

from ...backend import xp
from ...ops import rnn as _rnn
from ...ops import shape as _shape
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pad_sequence", "unpad_sequence", "pack_padded_sequence",
           "pad_packed_sequence", "pack_sequence", "unpack_sequence"]


def _long(arr) -> Tensor:
    return Tensor._make(xp.asarray(arr, dtype=xp.int64))


def _ints(values, fn: str, what: str):
    """A 1-D int64 array from a list/tuple/array/Tensor of integers, or a TypeError naming ``fn``."""
    arr = values._data if isinstance(values, Tensor) else xp.asarray(values)
    if arr.ndim != 1:
        raise RuntimeError(f"{fn}: '{what}' should be a 1-D sequence of integers, got shape {tuple(arr.shape)}")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"{fn}: '{what}' must hold integers, got dtype {arr.dtype} ({arr.tolist()})")
    return arr.astype(xp.int64)


def invert_permutation(permutation: Optional[Tensor]) -> Optional[Tensor]:
    """The inverse of a 1-D permutation (None stays None): ``out[permutation[i]] = i``.

    >>> invert_permutation(ember.tensor([2, 0, 1]))       # tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    p = _ints(permutation, "invert_permutation", "permutation")
    out = xp.empty_like(p)
    out[p] = xp.arange(p.size, dtype=xp.int64)
    return _long(out)


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Optional[Tensor]
    unsorted_indices: Optional[Tensor]


class PackedSequence(_PackedFields):
    """A batch of variable-length sequences in packed form (``torch.nn.utils.rnn.PackedSequence``).

    Fields: ``data`` (sum(lengths), *) the time-major rows; ``batch_sizes`` int64 (T,) the number of sequences
    running at each step; ``sorted_indices`` / ``unsorted_indices`` int64 (B,) or None.  Build one with
    ``pack_padded_sequence`` or ``pack_sequence``, not by hand; ``PackedSequence(data, batch_sizes,
    sorted_indices)`` fills in ``unsorted_indices``.

    >>> p = pack_sequence([ember.tensor([1, 2, 3]), ember.tensor([4, 5])])
    >>> p.data, p.batch_sizes            # tensor([1, 4, 2, 5, 3]), tensor([2, 2, 1])
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:          # PackedSequence((data, batch_sizes), ...) as torch allows
            if not (isinstance(data, (tuple, list)) and len(data) == 2):
                raise TypeError("PackedSequence: expected data and batch_sizes, or one (data, batch_sizes) pair")
            data, batch_sizes = data
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with(self, data: Tensor) -> "PackedSequence":
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs) -> "PackedSequence":
        """Convert ``data`` (dtype and/or device, as ``Tensor.to``); ``batch_sizes`` and the indices stay int64."""
        return self._with(self.data.to(*args, **kwargs))

    @property
    def is_cuda(self) -> bool:
        """True if ``data`` lives on a GPU."""
        return self.data.is_cuda


def _data_converter(name: str):
    def convert(self) -> PackedSequence:
        return self._with(getattr(self.data, name)())
    convert.__name__ = convert.__qualname__ = name
    convert.__doc__ = f"The same PackedSequence with ``data.{name}()`` (batch_sizes and indices unchanged)."
    return convert


for _name in ("cpu", "double", "float", "half", "long", "int"):
    setattr(PackedSequence, _name, _data_converter(_name))


# -- the index maps between a padded batch and the packed rows ------------------------------------------------------
def _positions(batch_sizes, T: int, batch_first: bool, perm=None):
    """For every packed row (time-major, sorted batch), its row in the padded batch flattened to (T*B, *)
    (or (B*T, *) with batch_first); ``perm[j]`` is the padded batch index of sorted position j."""
    B = int(batch_sizes[0])
    t, j = xp.nonzero(xp.arange(B)[None, :] < batch_sizes[:, None])     # row-major: time-major order
    if perm is not None:
        j = perm[j]
    return j * T + t if batch_first else t * B + j


def _pack_rows(padded: Tensor, batch_sizes, batch_first: bool = False, perm=None) -> Tensor:
    """The packed ``data`` of a padded batch (T, B, *) (or (B, T, *)); rows past each length are dropped."""
    T = padded.shape[1] if batch_first else padded.shape[0]
    flat = padded.reshape(padded.shape[0] * padded.shape[1], *padded.shape[2:])
    return _rnn.select_rows(flat, _positions(batch_sizes, T, batch_first, perm))


def _pad_rows(data: Tensor, batch_sizes, T: int, batch_first: bool = False, perm=None,
              padding_value=0.0) -> Tensor:
    """The padded batch (T, B, *) (or (B, T, *)) of packed ``data``, ``padding_value`` after each end."""
    B = int(batch_sizes[0])
    pos = _positions(batch_sizes, T, batch_first, perm)
    index = xp.full(T * B, -1, xp.int64)
    index[pos] = xp.arange(pos.size)
    flat = _rnn.select_rows(data, index, fill=padding_value)
    return flat.reshape(*((B, T) if batch_first else (T, B)), *data.shape[1:])


def _batch_sizes_array(sequence: PackedSequence, fn: str):
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{fn}: expected a PackedSequence, got {type(sequence).__name__}")
    bs = _ints(sequence.batch_sizes, fn, "batch_sizes")
    rows = sequence.data.shape[0] if isinstance(sequence.data, Tensor) and sequence.data.ndim else None
    if bs.size == 0 or bs[-1] <= 0 or (bs[:-1] < bs[1:]).any() or int(bs.sum()) != rows:
        raise ValueError(f"{fn}: expected batch_sizes of positive, non-increasing counts summing to the "
                         f"{rows} rows of data, got {bs.tolist()}; build PackedSequences with "
                         f"pack_padded_sequence or pack_sequence")
    return bs


# -- the public functions -------------------------------------------------------------------------------------------
def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes (L_i, *) into one tensor (T, B, *) (or (B, T, *) with ``batch_first``), T the
    longest L_i, filling with ``padding_value`` after each sequence (before it with ``padding_side='left'``).
    Differentiable in every sequence.  See ``torch.nn.utils.rnn.pad_sequence``.

    >>> pad_sequence([ember.ones(3, 2), ember.ones(1, 2)]).shape     # (3, 2, 2)
    """
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"pad_sequence: Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    for k, s in enumerate(seqs):
        if not isinstance(s, Tensor) or s.ndim == 0:
            got = "a 0-d tensor" if isinstance(s, Tensor) else type(s).__name__
            raise TypeError(f"pad_sequence: expected every sequence to be a Tensor of shape (L, *), got {got} "
                            f"at position {k}")
        if tuple(s.shape[1:]) != tuple(seqs[0].shape[1:]):
            raise RuntimeError(f"pad_sequence: every sequence must share its trailing dims, got "
                               f"{tuple(seqs[0].shape)} at position 0 and {tuple(s.shape)} at position {k}")
    lengths = xp.asarray([s.shape[0] for s in seqs], xp.int64)
    B, T = len(seqs), int(lengths.max())
    # every padded position (b, t) row-major picks its row of cat(seqs), or -1 for padding
    t = xp.arange(T)[None, :]
    start = lengths[:, None] if padding_side == "right" else T - lengths[:, None]
    off = xp.concatenate([[0], xp.cumsum(lengths)[:-1]])[:, None]
    index = xp.where(t < start, off + t, -1) if padding_side == "right" else xp.where(t >= start, off + t - start, -1)
    flat = _rnn.select_rows(_shape.cat(seqs, 0), index.reshape(-1), fill=padding_value)
    out = flat.reshape(B, T, *seqs[0].shape[1:])
    return out if batch_first else out.transpose(0, 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The list of sequences (L_i, *) in a padded batch (T, B, *) (or (B, T, *)), cut at ``lengths``; the inverse
    of ``pad_sequence``.  See ``torch.nn.utils.rnn.unpad_sequence``.

    >>> unpad_sequence(pad_sequence(seqs), [len(s) for s in seqs])
    """
    if not isinstance(padded_sequences, Tensor) or padded_sequences.ndim < 2:
        raise ValueError(f"unpad_sequence: expected a padded Tensor of shape (T, B, *) or (B, T, *), got "
                         f"{getattr(padded_sequences, 'shape', type(padded_sequences).__name__)}")
    lens = _ints(lengths, "unpad_sequence", "lengths")
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    B, T = x.shape[0], x.shape[1]
    if lens.size != B:
        raise ValueError(f"unpad_sequence: expected {B} lengths (the batch size), got {lens.size}")
    if lens.size and (lens.min() < 0 or lens.max() > T):
        raise ValueError(f"unpad_sequence: lengths must lie in [0, {T}] (the padded length), got {lens.tolist()}")
    return [x[b, :int(n)] for b, n in enumerate(lens)]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) of sequences of the given ``lengths``
    (a list, array or 1-D integer tensor of B positive ints) into a ``PackedSequence``.  With
    ``enforce_sorted=True`` the lengths must be sorted in decreasing order; with False the batch is sorted here
    and ``sorted_indices``/``unsorted_indices`` record the order.  Differentiable in ``input``.
    See ``torch.nn.utils.rnn.pack_padded_sequence``.

    >>> packed = pack_padded_sequence(x, [5, 3, 2])      # x: (5, 3, features)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: expected input to be a Tensor, got {type(input).__name__}")
    lens = _ints(lengths, "pack_padded_sequence", "lengths")
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected a padded input of shape (T, B, *) or (B, T, *) with "
                         f"batch_first, got {tuple(input.shape)}")
    if input.numel() == 0:
        raise RuntimeError(f"pack_padded_sequence: Cannot pack empty tensors (input of shape {tuple(input.shape)})")
    B, T = (input.shape[0], input.shape[1]) if batch_first else (input.shape[1], input.shape[0])
    if lens.size != B:
        raise RuntimeError(f"pack_padded_sequence: Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lens.size} (batch_size={B})")
    sorted_indices = None
    if enforce_sorted:
        if (lens[:-1] < lens[1:]).any():
            raise RuntimeError(f"pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                               f"`enforce_sorted` is True, got {lens.tolist()}. You can pass "
                               f"`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                               f"this requirement if you do not need ONNX exportability.")
        perm = None
    else:
        perm = xp.argsort(-lens, kind="stable")
        lens = lens[perm]
        sorted_indices = _long(perm)
    if lens[-1] <= 0:
        raise RuntimeError(f"pack_padded_sequence: Length of all samples has to be greater than 0, but found an "
                           f"element in 'lengths' that is <= 0 (lengths {lens.tolist()})")
    if lens[0] > T:
        raise RuntimeError(f"pack_padded_sequence: lengths must not exceed the padded length {T} (input shape "
                           f"{tuple(input.shape)}), got a length of {int(lens[0])}")
    batch_sizes = (xp.arange(int(lens[0]))[:, None] < lens[None, :]).sum(1).astype(xp.int64)
    data = _pack_rows(input, batch_sizes, batch_first, perm)
    return PackedSequence(data, _long(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: Optional[int] = None) -> tuple:
    """Unpack a ``PackedSequence`` into ``(padded, lengths)``: padded (T, B, *) (or (B, T, *)) in the original
    batch order, filled with ``padding_value`` past each sequence's end, T = ``total_length`` or the longest
    length; lengths an int64 tensor (B,).  The inverse of ``pack_padded_sequence``; differentiable in ``data``.
    See ``torch.nn.utils.rnn.pad_packed_sequence``.

    >>> out, lengths = pad_packed_sequence(packed_output, batch_first=True)
    """
    bs = _batch_sizes_array(sequence, "pad_packed_sequence")
    T = bs.size
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"pad_packed_sequence: Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max sequence length "
                             f"being {T}")
        T = int(total_length)
    unsorted = sequence.unsorted_indices
    perm = None if unsorted is None else invert_permutation(unsorted)._data
    padded = _pad_rows(sequence.data, bs, T, batch_first, perm, padding_value)
    lengths = (bs[:, None] > xp.arange(int(bs[0]))[None, :]).sum(0).astype(xp.int64)
    if unsorted is not None:
        lengths = lengths[_ints(unsorted, "pad_packed_sequence", "unsorted_indices")]
    return padded, _long(lengths)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) into a ``PackedSequence`` (``pad_sequence`` then
    ``pack_padded_sequence``).  See ``torch.nn.utils.rnn.pack_sequence``.

    >>> pack_sequence([ember.tensor([1, 2, 3]), ember.tensor([4, 5]), ember.tensor([6])])
    """
    seqs = list(sequences)
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.ndim else 0 for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences (L_i, *) in a ``PackedSequence``, in the original order; the inverse of
    ``pack_sequence``.  See ``torch.nn.utils.rnn.unpack_sequence``.

    >>> unpack_sequence(pack_sequence(seqs, enforce_sorted=False))      # == seqs
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
