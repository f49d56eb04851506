"""Recurrent layers: ``RNN`` (tanh/ReLU), ``LSTM``, ``GRU`` and the single-step ``RNNCell``, ``LSTMCell``,
``GRUCell``, with PyTorch's constructor arguments, parameter names (``weight_ih_l0``, ``bias_hh_l1_reverse``,
...), initialization U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) and input/output layouts.

Each layer and direction runs as one fused op (``ember.ops.rnn.rnn_sequence``): one small GEMM per step
and a raw-array backward through time (iterative, so sequences of thousands of steps are fine).  A ``PackedSequence`` input (``ember.nn.utils.rnn``) is padded to
(T, B, *) in its sorted order and run with its ``batch_sizes``: each step updates only the sequences still
running, so ``h_n`` is every sequence's state at its own last step and the reverse direction starts at each
one's own last element; the output is packed back.  LSTM's ``proj_size`` (a projection ``weight_hr_l{k}`` of h)
runs through ``ember.ops.rnn_proj`` (a per-step loop of differentiable ops) instead of the fused op.
"""
from __future__ import annotations

import math
import numbers
import warnings

from ...autograd._torch_names import tag as _tname
from ...backend.device import array_module as _xp
from ...creation import empty
from ...ops import rnn as _rnn
from ...ops import rnn_cell as _rnn_cell
from ...ops import rnn_proj as _rnn_proj
from ...ops import shape as _shape
from ...tensor import Tensor
from .. import functional as F
from ..module import Module
from ..parameter import Parameter
from ..utils import rnn as _packing

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _zeros_state(n: int, h: int, x: Tensor) -> Tensor:
    """The zero initial state (n, h) in ``x``'s dtype, on ``x``'s device."""
    return Tensor._make(_xp(x._data).zeros((n, h), x.dtype))


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (PyTorch's ``nn.RNNBase``).

    ``mode``: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU".  Parameters per layer ``k`` and direction (suffix
    ``_reverse`` for the backward one): ``weight_ih_l{k}`` (G*hidden, in), ``weight_hh_l{k}`` (G*hidden,
    hidden), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (G*hidden,), with G = 1, 4 (i, f, g, o) or 3 (r, z, n).  An
    LSTM with ``proj_size`` P > 0 adds ``weight_hr_l{k}`` (P, hidden) after the biases; h (and the output) then
    has P features, so ``weight_hh_l{k}`` is (4*hidden, P) and a layer above the first takes D*P inputs.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        # PyTorch's checks, in its order and with its exception types
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability "
                             f"of an element being zeroed, got {dropout!r}")
        if not isinstance(bias, bool):
            raise TypeError(f"{name}: bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"{name}: batch_first should be of type bool, got: {type(batch_first).__name__}")
        for what, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int):
                raise TypeError(f"{name}: {what} should be of type int, got: {type(v).__name__}")
            if v <= 0:
                raise ValueError(f"{name}: {what} must be greater than zero, got {v}")
        if not isinstance(num_layers, int):
            raise TypeError(f"{name}: num_layers should be of type int, got: {type(num_layers).__name__}")
        if num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be greater than zero, got {num_layers}")
        if isinstance(proj_size, bool) or not isinstance(proj_size, int):
            raise TypeError(f"{name}: proj_size should be of type int, got: {type(proj_size).__name__}")
        if proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable projections, "
                             f"got {proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got proj_size={proj_size} "
                             f"and hidden_size={hidden_size}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU "
                             f"(got proj_size={proj_size})")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        g = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        real_h = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else real_h * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
                names = [("weight_ih" + sfx, (g, in_size)), ("weight_hh" + sfx, (g, real_h))]
                if bias:
                    names += [("bias_ih" + sfx, (g,)), ("bias_hh" + sfx, (g,))]
                if proj_size:
                    names.append(("weight_hr" + sfx, (proj_size, hidden_size)))
                for n, shp in names:
                    setattr(self, n, Parameter(empty(*shp, dtype=dtype, device=device)))
                    self._flat_weights_names.append(n)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            p.uniform_(-stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch compatibility (cuDNN weight packing does not apply)."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        """Parameters grouped per layer and direction: [[w_ih, w_hh, b_ih, b_hh(, w_hr)], ...]."""
        k = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        w = self._flat_weights
        return [w[i:i + k] for i in range(0, len(w), k)]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _name(self) -> str:
        return type(self).__name__

    def _check_input(self, input):
        if isinstance(input, _packing.PackedSequence):
            data = input.data
            if not isinstance(data, Tensor) or data.ndim != 2:
                shape = tuple(data.shape) if isinstance(data, Tensor) else type(data).__name__
                raise ValueError(f"{self._name()}: expected a PackedSequence with data of shape (sum(lengths), "
                                 f"{self.input_size}), got {shape}")
            input = data
        elif not isinstance(input, Tensor):
            raise TypeError(f"{self._name()}: expected a Tensor or PackedSequence input, got "
                            f"{type(input).__name__}")
        elif input.ndim not in (2, 3):
            layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            raise ValueError(f"{self._name()}: expected input of shape {layout} or unbatched (L, H_in) with "
                             f"H_in={self.input_size}, got {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{self._name()}: input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {input.shape[-1]} (input shape {tuple(input.shape)})")

    def _check_state(self, s, expected, what):
        if not isinstance(s, Tensor):
            raise TypeError(f"{self._name()}: expected {what} to be a Tensor, got {type(s).__name__}")
        if tuple(s.shape) != expected:
            raise RuntimeError(f"{self._name()}: expected {what} of size {expected}, got {tuple(s.shape)}")

    def forward(self, input, hx=None):
        """Run the stack over ``input``: a Tensor (L, N, H_in) ((N, L, H_in) with batch_first, or unbatched
        (L, H_in)) or a ``PackedSequence``; ``hx`` the initial state(s) (D*num_layers, N, H) or None (zeros).
        A PackedSequence input gives a PackedSequence output (same batch_sizes and indices) and h_n/c_n in
        the original batch order."""
        self._check_input(input)
        is_lstm = self.mode == "LSTM"
        dirs = 2 if self.bidirectional else 1
        packed = input if isinstance(input, _packing.PackedSequence) else None
        batch_sizes = None
        if packed is not None:
            # the sorted padded batch (T, B, *), run with each step's count of running sequences
            batch_sizes = _packing._batch_sizes_array(packed, self._name())
            input = _packing._pad_rows(packed.data, batch_sizes, batch_sizes.size)
            unbatched = False
            x = input
        else:
            unbatched = input.ndim == 2
            x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        L, N, _ = x.shape
        H = self.hidden_size
        P = self.proj_size or H
        w0 = self._flat_weights[0]
        if x.dtype != w0.dtype:
            raise RuntimeError(f"{self._name()}: input dtype {x.dtype} does not match the weights' dtype "
                               f"{w0.dtype}; convert the input or call .to(dtype) on the module")
        h0 = c0 = None
        if hx is not None:
            if is_lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise TypeError("LSTM: expected hx to be a tuple (h_0, c_0)")
                h0, c0 = hx
            else:
                if isinstance(hx, (tuple, list)):
                    raise TypeError(f"{self._name()}: expected hx to be a Tensor, got a {type(hx).__name__}")
                h0 = hx
            exp = (self.num_layers * dirs, H) if unbatched else (self.num_layers * dirs, N, H)
            exp_h = exp[:-1] + (P,)
            self._check_state(h0, exp_h, "hidden state h_0")
            if is_lstm:
                self._check_state(c0, exp, "cell state c_0")
            if unbatched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if is_lstm else None
            if packed is not None and packed.sorted_indices is not None:
                h0 = h0.index_select(1, packed.sorted_indices)
                c0 = c0.index_select(1, packed.sorted_indices) if is_lstm else None
        weights = self._flat_weights
        k = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        h_n, c_n = [], []
        layer_in = x
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                layer_in = F.dropout(layer_in, self.dropout, True)
            outs = []
            for d in range(dirs):
                idx = layer * dirs + d
                w = weights[idx * k:(idx + 1) * k]
                w_ih, w_hh = w[0], w[1]
                b_ih, b_hh = (w[2], w[3]) if self.bias else (None, None)
                hs = h0[idx] if h0 is not None else _zeros_state(N, P, x)
                cs = (c0[idx] if c0 is not None else _zeros_state(N, H, x)) if is_lstm else None
                if self.proj_size:
                    res = _rnn_proj.lstm_proj_sequence(layer_in, hs, cs, w_ih, w_hh, b_ih, b_hh, w[-1],
                                                       reverse=d == 1, batch_sizes=batch_sizes)
                else:
                    res = _rnn.rnn_sequence(self.mode, layer_in, hs, cs, w_ih, w_hh, b_ih, b_hh, reverse=d == 1,
                                            batch_sizes=batch_sizes)
                outs.append(res[0])
                h_n.append(res[1])
                if is_lstm:
                    c_n.append(res[2])
            layer_in = outs[0] if dirs == 1 else _shape.cat(outs, 2)
        out = layer_in
        h_n = _shape.stack(h_n, 0)
        c_n = _shape.stack(c_n, 0) if is_lstm else None
        if packed is not None:
            out = packed._with(_packing._pack_rows(out, batch_sizes))
            if packed.unsorted_indices is not None:
                h_n = h_n.index_select(1, packed.unsorted_indices)
                c_n = c_n.index_select(1, packed.unsorted_indices) if is_lstm else None
        elif unbatched:
            out = out.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if is_lstm else None
        elif self.batch_first:
            out = out.transpose(0, 1)
            if not is_lstm:         # PyTorch's RNN/GRU transpose their output in place (transpose_), LSTM not
                _tname(out, "TransposeBackward1")
        return (out, (h_n, c_n)) if is_lstm else (out, h_n)


class RNN(RNNBase):
    """Elman RNN, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or ReLU), stacked and optionally
    bidirectional, like ``torch.nn.RNN``.

    Args: input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0 (between layers, train mode only), bidirectional=False.
    Input: (L, N, H_in) ((N, L, H_in) with batch_first) or unbatched (L, H_in); h_0 (D*num_layers, N, H).
    Returns ``(output (L, N, D*H), h_n (D*num_layers, N, H))``.  A ``PackedSequence`` input (see
    ``ember.nn.utils.rnn``) gives a PackedSequence output and h_n at each sequence's own last step.

    >>> rnn = nn.RNN(10, 20, 2)
    >>> out, h_n = rnn(ember.randn(5, 3, 10), ember.randn(2, 3, 20))   # out (5, 3, 20), h_n (2, 3, 20)
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:       # PyTorch refuses the keyword itself, even proj_size=0
            raise ValueError(f"RNN: proj_size argument is only supported for LSTM, not RNN or GRU "
                             f"(got proj_size={kwargs['proj_size']!r})")
        args = list(args)
        if len(args) > 3:       # PyTorch's positional order puts nonlinearity fourth
            kwargs["nonlinearity"] = args.pop(3)
        nl = kwargs.pop("nonlinearity", "tanh")
        if nl == "tanh":
            mode = "RNN_TANH"
        elif nl == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"RNN: unknown nonlinearity {nl!r}; expected 'tanh' or 'relu'")
        self.nonlinearity = nl
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, like ``torch.nn.LSTM`` (gates i, f, g, o).

    Args: input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False,
    proj_size=0.
    Input: (L, N, H_in) ((N, L, H_in) with batch_first) or unbatched (L, H_in); optional (h_0, c_0), each
    (D*num_layers, N, H).  Returns ``(output (L, N, D*H), (h_n, c_n))``; a ``PackedSequence`` input gives a
    PackedSequence output and h_n, c_n at each sequence's own last step.  With ``proj_size`` P (0 < P < H)
    h is projected, h_t = W_hr (o_t * tanh(c_t)): h_0, h_n and the output have P features instead of H.

    >>> lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
    >>> out, (h_n, c_n) = lstm(ember.randn(3, 5, 10))    # out (3, 5, 20), h_n and c_n (2, 3, 20)
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit, like ``torch.nn.GRU`` (gates r, z, n; n = tanh(W_in x + b_in + r*(W_hn h + b_hn))).

    Args: input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False.
    Returns ``(output (L, N, D*H), h_n (D*num_layers, N, H))``; a ``PackedSequence`` input gives a
    PackedSequence output and h_n at each sequence's own last step.

    >>> gru = nn.GRU(10, 20, bidirectional=True)
    >>> out, h_n = gru(ember.randn(5, 3, 10))    # out (5, 3, 40), h_n (2, 3, 20)
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError(f"GRU: proj_size argument is only supported for LSTM, not RNN or GRU "
                             f"(got proj_size={kwargs['proj_size']!r})")
        super().__init__("GRU", *args, **kwargs)


_PLAIN_CELLS: dict = {}
_CELL_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _plain_cell_class(cls) -> bool:
    """Whether no class in ``cls``'s MRO defines a cell weight's name (a property would win over the
    parameter)."""
    v = _PLAIN_CELLS.get(cls)
    if v is None:
        v = _PLAIN_CELLS[cls] = not any(n in vars(k) for k in cls.__mro__ for n in _CELL_WEIGHTS)
    return v


class RNNCellBase(Module):
    """Shared parameters of the single-step cells: ``weight_ih`` (G*hidden, in), ``weight_hh`` (G*hidden,
    hidden), ``bias_ih``, ``bias_hh`` (G*hidden,), all ~ U(-1/sqrt(hidden), 1/sqrt(hidden))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None,
                 dtype=None) -> None:
        super().__init__()
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{type(self).__name__}: hidden_size must be a positive integer, got {hidden_size!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            p.uniform_(-stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nl = getattr(self, "nonlinearity", "tanh")
        if nl != "tanh":
            s += f", nonlinearity={nl!r}"
        return s

    def _weights(self):
        """(weight_ih, weight_hh, bias_ih, bias_hh), read from the parameter dict in one go (this runs once
        per step of a Python loop, and four ``Module.__getattr__`` calls cost more than a small cell's
        arithmetic); through ordinary attribute lookup where a name is not a registered parameter (removed,
        replaced by an attribute) or a subclass defines it."""
        p = self.__dict__.get("_parameters")
        if p is not None and _plain_cell_class(type(self)):
            try:
                return p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]
            except KeyError:
                pass
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _prep(self, input, hx, n_states):
        """Validate, add the batch dim for unbatched input, make zero states when hx is None."""
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in (1, 2):
            shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"{name}: expected input of shape (N, {self.input_size}) or unbatched "
                             f"({self.input_size},), got {shape}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input with {self.input_size} features, got shape "
                             f"{tuple(input.shape)}")
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"{name}: input dtype {input.dtype} does not match the weights' dtype "
                               f"{self.weight_ih.dtype}")
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        N = x.shape[0]
        if hx is None:
            states = [_zeros_state(N, self.hidden_size, x) for _ in range(n_states)]
        else:
            states = list(hx) if n_states == 2 else [hx]
            exp = (self.hidden_size,) if unbatched else (N, self.hidden_size)
            for s in states:
                if not isinstance(s, Tensor) or tuple(s.shape) != exp:
                    got = tuple(s.shape) if isinstance(s, Tensor) else type(s).__name__
                    raise RuntimeError(f"{name}: expected hidden state of shape {exp}, got {got}")
            if unbatched:
                states = [s.unsqueeze(0) for s in states]
        return x, states, unbatched


class RNNCell(RNNCellBase):
    """One Elman step, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or ReLU), like ``torch.nn.RNNCell``.

    Input (N, H_in) or (H_in,); hx (N, H) or None (zeros).  Returns h' (N, H).

    >>> cell = nn.RNNCell(10, 20)
    >>> h = cell(ember.randn(3, 10))      # (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: Tensor, hx=None) -> Tensor:
        out = _rnn_cell.cell_step(self.nonlinearity, input, hx, *self._weights())
        if out is not None:         # the batched step of a Python loop: one op, no conversions
            return out
        x, (h,), unbatched = self._prep(input, hx, 1)
        fn = _rnn.rnn_tanh_cell if self.nonlinearity == "tanh" else _rnn.rnn_relu_cell
        h = fn(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    """One LSTM step, like ``torch.nn.LSTMCell``.  Input (N, H_in) or (H_in,); hx = (h, c), each (N, H), or
    None (zeros).  Returns (h', c').

    >>> cell = nn.LSTMCell(10, 20)
    >>> h, c = cell(ember.randn(3, 10))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None):
        out = _rnn_cell.cell_step("lstm", input, hx, *self._weights())
        if out is not None:
            return out
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTMCell: expected hx to be a tuple (h, c)")
        x, (h, c), unbatched = self._prep(input, hx, 2)
        h, c = _rnn.lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step, like ``torch.nn.GRUCell``.  Input (N, H_in) or (H_in,); hx (N, H) or None (zeros).
    Returns h' (N, H).

    >>> cell = nn.GRUCell(10, 20)
    >>> h = cell(ember.randn(3, 10))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx=None) -> Tensor:
        out = _rnn_cell.cell_step("gru", input, hx, *self._weights())
        if out is not None:
            return out
        x, (h,), unbatched = self._prep(input, hx, 1)
        h = _rnn.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h.squeeze(0) if unbatched else h
