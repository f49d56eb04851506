"""ember.nn.utils.rnn against torch.nn.utils.rnn: pad/pack/unpack round trips (values, batch_sizes, sorted and
unsorted indices, gradients), RNN/LSTM/GRU on PackedSequence inputs with the same weights (packed outputs,
h_n/c_n at each sequence's own last step, every parameter, input and initial-state gradient), a float64
gradcheck of the masked fused op, and the error messages."""
import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as TR

import ember
import ember.nn as nn
from ember.nn.utils import rnn as ER
from ember.ops import rnn as R
from tests.helpers import assert_close, compare
from tests.nn.test_recurrent import _pair

LENGTHS = [3, 6, 1, 6, 2]         # unsorted, with a tie and a length-1 sequence; batch 5, longest 6
SORTED = [6, 6, 3, 2, 1]


def _utils(m):
    return m.nn.utils.rnn


def _fields_match(ep, tp):
    assert isinstance(ep, ER.PackedSequence)
    assert_close(ep.data, tp.data, what="data")
    assert ep.batch_sizes.tolist() == tp.batch_sizes.tolist()
    assert ep.batch_sizes.dtype == np.int64
    for name in ("sorted_indices", "unsorted_indices"):
        e, t = getattr(ep, name), getattr(tp, name)
        assert (e is None) == (t is None), name
        if t is not None:
            assert e.tolist() == t.tolist(), name
            assert e.dtype == np.int64


# -- pad_sequence / unpad_sequence -----------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    shapes = [(n, 2, 3) for n in LENGTHS]
    compare(lambda m, *xs: _utils(m).pad_sequence(list(xs), batch_first=batch_first, padding_value=-2.5,
                                                  padding_side=padding_side), shapes)


def test_pad_sequence_1d_int_and_tensor_input():
    seqs = [np.arange(n) for n in LENGTHS]
    e = ER.pad_sequence([ember.tensor(s) for s in seqs], padding_value=7)
    t = TR.pad_sequence([torch.tensor(s) for s in seqs], padding_value=7)
    assert e.dtype == np.int64 and e.tolist() == t.tolist()
    x = np.random.default_rng(0).standard_normal((3, 4))       # a tensor is a batch of its rows
    assert_close(ER.pad_sequence(ember.tensor(x)), TR.pad_sequence(torch.tensor(x)))


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_inverts_pad(batch_first):
    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal((n, 3)) for n in LENGTHS]
    padded = ER.pad_sequence([ember.tensor(s) for s in seqs], batch_first=batch_first)
    for lengths in (LENGTHS, ember.tensor(LENGTHS), np.array(LENGTHS, np.int32)):
        back = ER.unpad_sequence(padded, lengths, batch_first=batch_first)
        assert len(back) == len(seqs)
        for a, s in zip(back, seqs):
            assert_close(a, s)
    assert tuple(padded.shape) == ((5, 6, 3) if batch_first else (6, 5, 3))     # input left as it was


# -- pack_padded_sequence / pad_packed_sequence ----------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("lengths_as", ["list", "tensor"])
def test_pack_padded_matches_torch(batch_first, enforce_sorted, lengths_as):
    lengths = SORTED if enforce_sorted else LENGTHS
    shape = (5, 6, 2) if batch_first else (6, 5, 2)
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    lens = {"list": lambda m: list(lengths), "tensor": lambda m: m.tensor(lengths)}[lengths_as]
    ep = ER.pack_padded_sequence(ember.tensor(x), lens(ember), batch_first, enforce_sorted)
    tp = TR.pack_padded_sequence(torch.tensor(x), lens(torch), batch_first, enforce_sorted)
    _fields_match(ep, tp)
    # the gradient of data with respect to the padded input (zero at padded positions)
    compare(lambda m, a: _utils(m).pack_padded_sequence(a, lens(m), batch_first, enforce_sorted).data, [x])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("total_length", [None, 7])
def test_pad_packed_round_trip_matches_torch(batch_first, enforce_sorted, total_length):
    lengths = SORTED if enforce_sorted else LENGTHS

    def fn(m, a):
        p = _utils(m).pack_padded_sequence(a, lengths, batch_first, enforce_sorted)
        padded, lens = _utils(m).pad_packed_sequence(p, batch_first, padding_value=0.5, total_length=total_length)
        assert lens.tolist() == lengths
        return padded * 1.0
    rng = np.random.default_rng(3)
    compare(fn, [rng.standard_normal((5, 6, 2, 1) if batch_first else (6, 5, 2, 1))])


def test_pack_sequence_and_unpack_sequence_match_torch():
    rng = np.random.default_rng(4)
    seqs = [rng.standard_normal((n, 3)) for n in LENGTHS]
    ep = ER.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    tp = TR.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    _fields_match(ep, tp)
    for a, s in zip(ER.unpack_sequence(ep), seqs):
        assert_close(a, s)
    _fields_match(ER.pack_sequence([ember.tensor(seqs[i]) for i in (1, 3, 0, 4, 2)]),
                  TR.pack_sequence([torch.tensor(seqs[i]) for i in (1, 3, 0, 4, 2)]))
    compare(lambda m, *xs: _utils(m).pack_sequence(list(xs), enforce_sorted=False).data,
            [(n, 2) for n in LENGTHS])


def test_packed_sequence_fields_and_conversions():
    p = ER.pack_sequence([ember.tensor([1, 2, 3]), ember.tensor([4, 5])])
    assert p.data.tolist() == [1, 4, 2, 5, 3] and p.batch_sizes.tolist() == [2, 2, 1]
    data, batch_sizes, sorted_indices, unsorted_indices = p           # a named tuple, as in torch
    assert sorted_indices is None and unsorted_indices is None
    q = ER.PackedSequence(data, batch_sizes, ember.tensor([1, 0]))
    assert q.unsorted_indices.tolist() == [1, 0]
    assert ER.PackedSequence((data, batch_sizes)).batch_sizes is batch_sizes
    d = p.double()
    assert d.data.dtype == np.float64 and d.batch_sizes is p.batch_sizes
    assert p.long() is p
    assert ER.invert_permutation(ember.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert ER.invert_permutation(None) is None
    assert ember.nn.utils.rnn is ER


def test_select_rows_double_backward():
    """The pack/pad gather is exact to any order (its backward is the same op with the inverse map)."""
    idx = np.array([3, -1, 0, 2, -1])
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: R.select_rows(a, idx, fill=1.5) ** 2, [x])
    assert ember.autograd.gradgradcheck(lambda a: R.select_rows(a, idx, fill=1.5) ** 2, [x])
    out = R.select_rows(x, idx, fill=1.5).detach().numpy()
    assert_close(out, np.stack([x.detach().numpy()[3], [1.5, 1.5], x.detach().numpy()[0],
                                x.detach().numpy()[2], [1.5, 1.5]]))


# -- RNN / LSTM / GRU on PackedSequence ------------------------------------------------------------------------------
def _run_packed(e, t, x, lengths, batch_first, enforce_sorted, hx=None, atol=1e-9):
    """Pack x in both libraries, run both layers, compare the packed output, the padded output, h_n (and
    c_n), then back-propagate the same upstream gradients and compare the gradients of x, hx and every
    parameter."""
    is_lstm = isinstance(t, torch.nn.LSTM)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ehx = [ember.tensor(a, requires_grad=True) for a in hx] if hx else None
    thx = [torch.tensor(a, requires_grad=True) for a in hx] if hx else None

    def call(lib, mod, xin, h):
        p = lib.nn.utils.rnn.pack_padded_sequence(xin, lengths, batch_first, enforce_sorted)
        state = None if h is None else (tuple(h) if is_lstm else h[0])
        out, hn = mod(p, state)
        assert type(out).__name__ == "PackedSequence"
        padded, lens = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first)
        assert lens.tolist() == list(lengths)
        return [out.data, padded] + (list(hn) if is_lstm else [hn]), out
    eo, e_packed = call(ember, e, ex, ehx)
    to, t_packed = call(torch, t, tx, thx)
    _fields_match(e_packed, t_packed)
    names = ["packed data", "padded output", "h_n", "c_n"]
    for k, (a, b) in enumerate(zip(eo, to)):
        assert_close(a, b, atol=atol, rtol=1e-7, what=names[k])
    rng = np.random.default_rng(11)
    gs = [rng.standard_normal(tuple(o.shape)) for o in to]
    sum((o * torch.tensor(g)).sum() for o, g in zip(to, gs)).backward()
    sum((o * ember.tensor(g)).sum() for o, g in zip(eo, gs)).backward()
    assert_close(ex.grad, tx.grad, atol=atol, rtol=1e-7, what="grad of the padded input")
    for k, (a, b) in enumerate(zip(ehx or [], thx or [])):
        assert_close(a.grad, b.grad, atol=atol, rtol=1e-7, what=f"grad of hx[{k}]")
    tp = dict(t.named_parameters())
    for name, p in e.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert_close(p.grad, tp[name].grad, atol=atol, rtol=1e-7, what=f"grad of {name}")


@pytest.mark.parametrize("cls_name,kw", [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}),
                                         ("GRU", {})])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_layers_on_packed_match_torch(cls_name, kw, bidirectional, batch_first, enforce_sorted):
    e, t = _pair(cls_name, 3, 4, num_layers=2, bidirectional=bidirectional, batch_first=batch_first, **kw)
    lengths = SORTED if enforce_sorted else LENGTHS
    x = np.random.default_rng(6).standard_normal((5, 7, 3) if batch_first else (7, 5, 3))   # T=7 > max length
    _run_packed(e, t, x, lengths, batch_first, enforce_sorted)


@pytest.mark.parametrize("cls_name,n_states", [("RNN", 1), ("LSTM", 2), ("GRU", 1)])
def test_layers_on_packed_with_initial_states(cls_name, n_states):
    """hx is given in the original batch order: permuted in by sorted_indices, h_n permuted back out."""
    rng = np.random.default_rng(7)
    for directions in (1, 2):
        e, t = _pair(cls_name, 3, 4, num_layers=2, bidirectional=directions == 2)
        hx = [rng.standard_normal((2 * directions, 5, 4)) for _ in range(n_states)]
        _run_packed(e, t, rng.standard_normal((6, 5, 3)), LENGTHS, False, False, hx=hx)


def test_packed_h_n_is_each_sequence_at_its_own_end():
    """Independent of torch: h_n of the packed batch equals running each sequence alone."""
    gru = nn.GRU(2, 3, bidirectional=True).double()
    rng = np.random.default_rng(8)
    seqs = [ember.tensor(rng.standard_normal((n, 2))) for n in LENGTHS]
    out, h_n = gru(ER.pack_sequence(seqs, enforce_sorted=False))
    padded, _ = ER.pad_packed_sequence(out)
    for b, s in enumerate(seqs):
        o1, h1 = gru(s)                               # unbatched, exactly the sequence's own steps
        assert_close(h_n[:, b], h1, atol=1e-12)
        assert_close(padded[:len(s), b], o1, atol=1e-12)
        assert np.all(padded[len(s):, b].detach().numpy() == 0)


def test_packed_dropout_between_layers():
    """dropout=1 zeroes the second layer's input in both libraries: a deterministic check of the train path."""
    e, t = _pair("LSTM", 3, 4, num_layers=2, dropout=1.0)
    e.train(), t.train()
    _run_packed(e, t, np.random.default_rng(9).standard_normal((6, 5, 3)), LENGTHS, False, False)


def test_packed_float32_training_step():
    """The usual script: embed, pack, LSTM, unpack, loss, backward, step (float32)."""
    torch.manual_seed(0)
    ember.manual_seed(0)
    emb, lstm, head = nn.Embedding(10, 4), nn.LSTM(4, 8, batch_first=True), nn.Linear(8, 1)
    tokens = ember.tensor(np.random.default_rng(10).integers(1, 10, (3, 6)))
    lengths = ember.tensor([6, 2, 4])
    packed = ER.pack_padded_sequence(emb(tokens), lengths, batch_first=True, enforce_sorted=False)
    out, (h_n, _) = lstm(packed)
    padded, lens = ER.pad_packed_sequence(out, batch_first=True, total_length=6)
    assert tuple(padded.shape) == (3, 6, 8) and padded.dtype == np.float32 and lens.tolist() == [6, 2, 4]
    loss = head(h_n[-1]).pow(2).mean()
    loss.backward()
    assert emb.weight.grad is not None and lstm.weight_hh_l0.grad is not None
    assert np.isfinite(emb.weight.grad.numpy()).all()


# -- the masked fused op ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode,gates", [("RNN_TANH", 1), ("RNN_RELU", 1), ("LSTM", 4), ("GRU", 3)])
@pytest.mark.parametrize("reverse", [False, True])
def test_masked_kernel_gradcheck(mode, gates, reverse):
    """float64 finite differences through the masked op: 3 sequences of lengths 4, 3, 1 (batch_sizes 3, 2, 2, 1),
    every input (x, h0, c0, both weights, both biases) and every output (out, h_n, c_n) weighted differently."""
    rng = np.random.default_rng(12)
    GH = gates * 2
    arrays = [rng.standard_normal(s) for s in [(4, 3, 2), (3, 2), (3, 2), (GH, 2), (GH, 2), (GH,), (GH,)]]
    xs = [ember.tensor(a, requires_grad=mode == "LSTM" or k != 2) for k, a in enumerate(arrays)]

    def weighted_outputs(x, h0, c0, *weights):
        outs = R.rnn_sequence(mode, x, h0, c0 if mode == "LSTM" else None, *weights, reverse=reverse,
                              batch_sizes=(3, 2, 2, 1))
        return sum(o.sum() * (k + 1.5) + (o * o).sum() for k, o in enumerate(outs))
    assert ember.autograd.gradcheck(weighted_outputs, xs)


def test_masked_kernel_zero_length_rows_keep_h0_and_full_sizes_match_unmasked():
    rng = np.random.default_rng(13)
    x, h0, c0 = (ember.tensor(rng.standard_normal(s)) for s in [(3, 3, 2), (3, 2), (3, 2)])
    wi, wh = ember.tensor(rng.standard_normal((8, 2))), ember.tensor(rng.standard_normal((8, 2)))
    out, h_n, c_n = R.rnn_sequence("LSTM", x, h0, c0, wi, wh, batch_sizes=[2, 1, 0])
    assert_close(h_n[2], h0[2]) and assert_close(c_n[2], c0[2])
    assert np.all(out[:, 2].numpy() == 0) and np.all(out[1:, 1].numpy() == 0)
    full = R.rnn_sequence("LSTM", x, h0, c0, wi, wh, batch_sizes=[3, 3, 3])
    for a, b in zip(full, R.rnn_sequence("LSTM", x, h0, c0, wi, wh)):
        assert_close(a, b, atol=0)


# -- errors ----------------------------------------------------------------------------------------------------------
def test_pack_errors_name_the_function_and_the_value():
    x = ember.randn(4, 3, 2)
    with pytest.raises(RuntimeError, match=r"pack_padded_sequence: `lengths` array must be sorted in decreasing "
                                           r"order.*\[2, 3, 1\].*enforce_sorted=False"):
        ER.pack_padded_sequence(x, [2, 3, 1])
    with pytest.raises(RuntimeError, match=r"pack_padded_sequence: Length of all samples has to be greater than 0"):
        ER.pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(RuntimeError, match=r"pack_padded_sequence: Expected `len\(lengths\)` to be equal to "
                                           r"batch_size, but got 2 \(batch_size=3\)"):
        ER.pack_padded_sequence(x, [3, 2])
    with pytest.raises(RuntimeError, match=r"pack_padded_sequence: lengths must not exceed the padded length 4.*5"):
        ER.pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(TypeError, match=r"pack_padded_sequence: 'lengths' must hold integers, got dtype float"):
        ER.pack_padded_sequence(x, [3.0, 2.0, 1.0])
    with pytest.raises(RuntimeError, match=r"pack_padded_sequence: 'lengths' should be a 1-D"):
        ER.pack_padded_sequence(x, [[3, 2, 1]])
    with pytest.raises(ValueError, match=r"pack_padded_sequence: expected a padded input of shape"):
        ER.pack_padded_sequence(ember.randn(4), [4])
    packed = ER.pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match=r"pad_packed_sequence: Expected total_length to be at least .* "
                                         r"total_length=3 and max sequence length being 4"):
        ER.pad_packed_sequence(packed, total_length=3)
    with pytest.raises(TypeError, match=r"pad_packed_sequence: expected a PackedSequence, got Tensor"):
        ER.pad_packed_sequence(x)
    with pytest.raises(ValueError, match=r"pad_packed_sequence: expected batch_sizes .* summing to the 7 rows"):
        ER.pad_packed_sequence(ER.PackedSequence(packed.data, ember.tensor([3, 3])))


def test_pad_and_unpad_errors():
    with pytest.raises(RuntimeError, match="pad_sequence: received an empty list of sequences"):
        ER.pad_sequence([])
    with pytest.raises(RuntimeError, match=r"pad_sequence: every sequence must share its trailing dims, got "
                                           r"\(2, 3\) at position 0 and \(3, 4\) at position 1"):
        ER.pad_sequence([ember.randn(2, 3), ember.randn(3, 4)])
    with pytest.raises(RuntimeError, match="pad_sequence: Expected padding_side to be one of left or right, but "
                                           "got top"):
        ER.pad_sequence([ember.randn(2)], padding_side="top")
    with pytest.raises(RuntimeError, match="pad_sequence: Expected iterable"):
        ER.pad_sequence(5)
    with pytest.raises(TypeError, match="pad_sequence: expected every sequence to be a Tensor.*0-d"):
        ER.pad_sequence([ember.tensor(1.0)])
    with pytest.raises(ValueError, match=r"unpad_sequence: expected 2 lengths \(the batch size\), got 3"):
        ER.unpad_sequence(ember.randn(3, 2, 4), [3, 2, 1])
    with pytest.raises(ValueError, match=r"unpad_sequence: lengths must lie in \[0, 3\].*\[4, 1\]"):
        ER.unpad_sequence(ember.randn(3, 2, 4), [4, 1])


def test_layer_and_kernel_errors_with_packed_input():
    gru = nn.GRU(3, 4)
    with pytest.raises(ValueError, match=r"GRU: input.size\(-1\) must be equal to input_size. Expected 3, got 2"):
        gru(ER.pack_sequence([ember.randn(3, 2), ember.randn(2, 2)]))
    with pytest.raises(RuntimeError, match=r"GRU: expected hidden state h_0 of size \(1, 2, 4\), got \(1, 3, 4\)"):
        gru(ER.pack_sequence([ember.randn(3, 3), ember.randn(2, 3)]), ember.zeros(1, 3, 4))
    with pytest.raises(ValueError, match=r"GRU: expected a PackedSequence with data of shape \(sum\(lengths\), 3\)"):
        gru(ER.PackedSequence(ember.randn(5, 2, 3), ember.tensor([2, 2, 1])))
    x, h0 = ember.randn(3, 2, 3), ember.zeros(2, 4)
    w = [ember.randn(12, 3), ember.randn(12, 4)]
    with pytest.raises(ValueError, match=r"GRU: batch_sizes must be non-increasing and within \[0, 2\].*\[1, 2, 2\]"):
        R.rnn_sequence("GRU", x, h0, None, *w, batch_sizes=[1, 2, 2])
    with pytest.raises(ValueError, match=r"GRU: expected 3 batch_sizes \(one per time step\), got 2"):
        R.rnn_sequence("GRU", x, h0, None, *w, batch_sizes=[2, 1])
    with pytest.raises(ValueError, match="select_rows: index picks a row more than once"):
        R.select_rows(x, [0, 0])
    with pytest.raises(IndexError, match="select_rows: index out of range for 3 rows"):
        R.select_rows(x, [3])
