"""``ember.onnx.export``: a traced ``Graph`` (ember/jit) written as an ONNX model.

Each graph node is converted by the function registered for its op class name in ``CONVERTERS``; an op without
one fails at export, naming the op and the opset.  Dynamic axes are found by tracing a second time with those
axes one larger: every shape or argument that changes between the two traces depends on them (a reshape to
``(N, 400)`` becomes ``[0, 400]`` or ``[-1, 400]``; a size that no rule can express is refused).
"""
from __future__ import annotations

import numpy as _np

from ..tensor import Tensor

MIN_OPSET, MAX_OPSET, DEFAULT_OPSET = 13, 21, 18
_INT64_MAX = _np.iinfo(_np.int64).max


class OnnxExporterError(RuntimeError):
    pass


class _Ctx:
    def __init__(self, opset, onnx_mod):
        self.opset = opset
        self.onnx = onnx_mod
        self.nodes = []
        self.inits = []
        self.init_names = set()
        self.n = 0
        self.dyn = {}          # value name -> set of dynamic dims
        self.names = {}        # id(Value) -> ONNX name

    def fresh(self, hint="t"):
        self.n += 1
        return f"/{hint}_{self.n}"

    def const(self, arr, hint="const", dtype=None):
        arr = _np.asarray(arr, dtype=dtype)
        name = self.fresh(hint)
        self.inits.append(self.onnx.numpy_helper.from_array(_np.array(arr, order="C"), name))
        return name

    def ints(self, values, hint="shape"):
        return self.const(_np.asarray(values, _np.int64).reshape(-1), hint)

    def node(self, op, inputs, n_out=1, outputs=None, **attrs):
        outs = outputs or [self.fresh(op.lower()) for _ in range(n_out)]
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), list(outs), name=self.fresh(op), **attrs))
        return outs[0] if n_out == 1 and outputs is None else outs

    def name(self, spec, dtype=None):
        """The ONNX name for an argument: a Value's name, or a new initializer for a number/array."""
        from ..jit._graph import Value
        if type(spec) is Value:
            return self.names[id(spec)]
        if spec is None:
            return ""
        return self.const(_np.asarray(spec, dtype=dtype), "scalar")

    # shape helpers for opsets that moved attributes to inputs
    def reduce_mean(self, x, axes, keepdims):
        if self.opset >= 18:
            return self.node("ReduceMean", [x, self.ints(axes, "axes")], keepdims=int(keepdims))
        return self.node("ReduceMean", [x], axes=list(axes), keepdims=int(keepdims))

    def unsqueeze(self, x, axes):
        return self.node("Unsqueeze", [x, self.ints(axes, "axes")])

    def squeeze(self, x, axes):
        return self.node("Squeeze", [x, self.ints(axes, "axes")])


def _unsupported(node, opset, why=""):
    return OnnxExporterError(f"ember.onnx.export: op '{node.target}' ({node.op.__module__}.{node.op.__name__}) "
                             f"cannot be exported at opset {opset}{': ' + why if why else ''}")


def _dyn_of(ctx, v):
    return ctx.dyn.get(v.name, set())


def _reshape_target(ctx, node, x, target):
    """ONNX Reshape's shape input for ``x -> target`` that stays right when the dynamic dims change."""
    target = list(target)
    alt = node.meta.get("alt_args")
    if alt is None:
        return target
    alt_target = list(alt[1])
    changing = [i for i, (a, b) in enumerate(zip(target, alt_target)) if a != b]
    if not changing:
        return target
    xdyn = _dyn_of(ctx, x)
    out = list(target)
    rest = []
    for i in changing:
        if i < len(x.shape) and i in xdyn and target[i] == x.shape[i] and alt_target[i] == node.meta["alt_in"][i]:
            out[i] = 0
        else:
            rest.append(i)
    if len(rest) > 1:
        raise _unsupported(node, ctx.opset, f"reshape to {tuple(target)} depends on the dynamic axes in more than "
                                            f"one place")
    if rest:
        out[rest[0]] = -1
    return out


# -- converters: fn(ctx, node, args, kwargs) -> list of ONNX output names (one per node output) ------------------
CONVERTERS = {}


def converter(*names):
    def deco(fn):
        for n in names:
            CONVERTERS[n] = fn
        return fn
    return deco


_UNARY = {"Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt",
          "Neg": "Neg", "Abs": "Abs", "Erf": "Erf", "Reciprocal": "Reciprocal", "Sin": "Sin", "Cos": "Cos",
          "Floor": "Floor", "Ceil": "Ceil", "Sign": "Sign"}
_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow", "Maximum": "Max",
           "Minimum": "Min"}


@converter(*_UNARY)
def _unary(ctx, node, a, kw):
    return [ctx.node(_UNARY[node.op.__name__], [ctx.name(a[0])])]


@converter(*_BINARY)
def _binary(ctx, node, a, kw):
    dt = node.outputs[0].dtype
    if node.op.__name__ == "Div" and dt.kind != "f":
        raise _unsupported(node, ctx.opset, "integer division")
    names = [ctx.name(x, dtype=dt) for x in a[:2]]
    return [ctx.node(_BINARY[node.op.__name__], names)]


@converter("LeakyRelu")
def _leaky(ctx, node, a, kw):
    slope = kw.get("slope", a[1] if len(a) > 1 else 0.01)
    return [ctx.node("LeakyRelu", [ctx.name(a[0])], alpha=float(slope))]


def _c(ctx, node, value):
    return ctx.const(_np.asarray(value, node.outputs[0].dtype))


@converter("Hardtanh")
def _hardtanh(ctx, node, a, kw):
    return [ctx.node("Clip", [ctx.name(a[0]), _c(ctx, node, kw["lo"]), _c(ctx, node, kw["hi"])])]


@converter("Elu", "Selu", "Celu")
def _elu(ctx, node, a, kw):
    attrs = {"alpha": float(kw["alpha"])} if "alpha" in kw and node.op.__name__ != "Selu" else {}
    return [ctx.node(node.op.__name__, [ctx.name(a[0])], **attrs)]


@converter("Hardswish", "Hardsigmoid", "Softsign")
def _hard(ctx, node, a, kw):
    op = {"Hardswish": "HardSwish", "Hardsigmoid": "HardSigmoid", "Softsign": "Softsign"}[node.op.__name__]
    attrs = {"alpha": 1.0 / 6.0, "beta": 0.5} if op == "HardSigmoid" else {}
    return [ctx.node(op, [ctx.name(a[0])], **attrs)]


@converter("Gelu")
def _gelu(ctx, node, a, kw):
    x = ctx.name(a[0])
    if kw.get("approximate", "none") == "none":
        if ctx.opset >= 20:
            return [ctx.node("Gelu", [x])]
        e = ctx.node("Erf", [ctx.node("Mul", [x, _c(ctx, node, 1 / _np.sqrt(2.0))])])
    else:
        if ctx.opset >= 20:
            return [ctx.node("Gelu", [x], approximate="tanh")]
        cube = ctx.node("Mul", [ctx.node("Mul", [x, x]), x])
        inner = ctx.node("Add", [x, ctx.node("Mul", [cube, _c(ctx, node, 0.044715)])])
        e = ctx.node("Tanh", [ctx.node("Mul", [inner, _c(ctx, node, _np.sqrt(2.0 / _np.pi))])])
    half = ctx.node("Mul", [x, _c(ctx, node, 0.5)])
    return [ctx.node("Mul", [half, ctx.node("Add", [e, _c(ctx, node, 1.0)])])]


@converter("Swish")
def _swish(ctx, node, a, kw):
    x = ctx.name(a[0])
    beta = float(kw.get("beta", 1.0))
    bx = x if beta == 1.0 else ctx.node("Mul", [x, _c(ctx, node, beta)])
    return [ctx.node("Mul", [x, ctx.node("Sigmoid", [bx])])]


@converter("Softplus")
def _softplus(ctx, node, a, kw):
    x = ctx.name(a[0])
    beta, thr = float(kw.get("beta", 1.0)), float(kw.get("threshold", 20.0))
    bx = x if beta == 1.0 else ctx.node("Mul", [x, _c(ctx, node, beta)])
    sp = ctx.node("Softplus", [bx])
    if beta != 1.0:
        sp = ctx.node("Div", [sp, _c(ctx, node, beta)])
    return [ctx.node("Where", [ctx.node("Greater", [bx, _c(ctx, node, thr)]), x, sp])]


@converter("Mish")
def _mish(ctx, node, a, kw):
    x = ctx.name(a[0])
    return [ctx.node("Mul", [x, ctx.node("Tanh", [ctx.node("Softplus", [x])])])]


@converter("Linear")
def _linear(ctx, node, a, kw):
    x, w = a[0], a[1]
    b = a[2] if len(a) > 2 else kw.get("b")
    if len(x.shape) == 2:
        ins = [ctx.name(x), ctx.name(w)] + ([ctx.name(b)] if b is not None else [])
        return [ctx.node("Gemm", ins, transB=1)]
    wt = ctx.node("Transpose", [ctx.name(w)], perm=[1, 0])
    y = ctx.node("MatMul", [ctx.name(x), wt])
    return [ctx.node("Add", [y, ctx.name(b)]) if b is not None else y]


def _pads(pads):
    pads = [tuple(p) if isinstance(p, (tuple, list)) else (p, p) for p in pads]
    return [p[0] for p in pads] + [p[1] for p in pads]


@converter("_Conv2d")
def _conv(ctx, node, a, kw):
    x, w, b, stride, pads, dil, groups = a[:7]
    ins = [ctx.name(x), ctx.name(w)] + ([ctx.name(b)] if b is not None else [])
    return [ctx.node("Conv", ins, kernel_shape=list(w.shape[2:]), strides=list(stride), pads=_pads(pads),
                     dilations=list(dil), group=int(groups))]


@converter("_ConvTranspose2d")
def _convT(ctx, node, a, kw):
    x, w, b, stride, pads, dil, groups, out_pad = a[:8]
    ins = [ctx.name(x), ctx.name(w)] + ([ctx.name(b)] if b is not None else [])
    return [ctx.node("ConvTranspose", ins, kernel_shape=list(w.shape[2:]), strides=list(stride), pads=_pads(pads),
                     dilations=list(dil), group=int(groups), output_padding=list(out_pad))]


@converter("_MaxPool2d")
def _maxpool(ctx, node, a, kw):
    x, ks, st, pad, dil, ceil, with_idx = a[:7]
    if with_idx:
        raise _unsupported(node, ctx.opset, "return_indices=True")
    return [ctx.node("MaxPool", [ctx.name(x)], kernel_shape=list(ks), strides=list(st), pads=_pads(pad),
                     dilations=list(dil), ceil_mode=int(bool(ceil)))]


@converter("_AvgPool2d")
def _avgpool(ctx, node, a, kw):
    x, ks, st, pad, ceil, include_pad, divisor = a[:7]
    if divisor is not None:
        raise _unsupported(node, ctx.opset, "divisor_override")
    return [ctx.node("AveragePool", [ctx.name(x)], kernel_shape=list(ks), strides=list(st), pads=_pads(pad),
                     ceil_mode=int(bool(ceil)), count_include_pad=int(bool(include_pad)))]


@converter("Reshape")
def _reshape(ctx, node, a, kw):
    x, target = a[0], a[1]
    return [ctx.node("Reshape", [ctx.name(x), ctx.ints(_reshape_target(ctx, node, x, target))])]


@converter("MatMul")
def _matmul(ctx, node, a, kw):
    return [ctx.node("MatMul", [ctx.name(a[0]), ctx.name(a[1])])]


@converter("Permute")
def _permute(ctx, node, a, kw):
    return [ctx.node("Transpose", [ctx.name(a[0])], perm=[int(p) for p in a[1]])]


@converter("Narrow")
def _narrow(ctx, node, a, kw):
    x, axis, start, length = a[:4]
    if node.meta.get("alt_args") is not None and tuple(node.meta["alt_args"][1:4]) != (axis, start, length):
        raise _unsupported(node, ctx.opset, "a narrow along a dynamic axis")
    return [ctx.node("Slice", [ctx.name(x), ctx.ints([start]), ctx.ints([start + length]), ctx.ints([axis])])]


@converter("Split")
def _split(ctx, node, a, kw):
    x, axis, sizes = a[:3]
    if node.meta.get("alt_args") is not None and tuple(node.meta["alt_args"][1:3]) != (axis, tuple(sizes)):
        raise _unsupported(node, ctx.opset, "a split along a dynamic axis")
    outs, start = [], 0
    for s in sizes:         # one Slice per piece, as a narrow's
        outs.append(ctx.node("Slice", [ctx.name(x), ctx.ints([start]), ctx.ints([start + s]), ctx.ints([axis])]))
        start += s
    return outs


@converter("Cat")
def _cat(ctx, node, a, kw):
    axis = a[0]
    return [ctx.node("Concat", [ctx.name(t, dtype=node.outputs[0].dtype) for t in a[1:]], axis=int(axis))]


@converter("Stack")
def _stack(ctx, node, a, kw):
    axis = int(a[0])
    return [ctx.node("Concat", [ctx.unsqueeze(ctx.name(t, dtype=node.outputs[0].dtype), [axis]) for t in a[1:]],
                     axis=axis)]


@converter("Expand")
def _expand(ctx, node, a, kw):
    x, shape = a[0], a[1]
    if node.meta.get("alt_args") is not None and tuple(node.meta["alt_args"][1]) != tuple(shape):
        raise _unsupported(node, ctx.opset, "an expand to a size that depends on a dynamic axis")
    return [ctx.node("Expand", [ctx.name(x), ctx.ints(shape)])]


@converter("Mean")
def _mean(ctx, node, a, kw):
    x, axes, keep = a[0], a[1], a[2] if len(a) > 2 else kw.get("keepdim", False)
    if axes is None:
        axes = range(len(x.shape))
    axes = [axes] if isinstance(axes, int) else list(axes)
    return [ctx.reduce_mean(ctx.name(x), axes, keep)]


@converter("Softmax", "LogSoftmax")
def _softmax(ctx, node, a, kw):
    return [ctx.node(node.op.__name__, [ctx.name(a[0])], axis=int(a[1] if len(a) > 1 else kw["axis"]))]


@converter("_Embedding")
def _embedding(ctx, node, a, kw):
    w, idx = a[0], a[1]
    return [ctx.node("Gather", [ctx.name(w), ctx.name(idx, dtype=_np.int64)], axis=0)]


@converter("GetItem")
def _getitem(ctx, node, a, kw):
    from ..jit._graph import Value
    x, idx, adv = a[0], a[1], a[2]
    if adv:
        if type(idx) is Value or (isinstance(idx, _np.ndarray) and idx.dtype.kind in "iu"):
            return [ctx.node("Gather", [ctx.name(x), ctx.name(idx, dtype=_np.int64)], axis=0)]
        raise _unsupported(node, ctx.opset, "advanced indexing other than one integer index array")
    idx = idx if isinstance(idx, tuple) else (idx,)
    nd = len(x.shape)
    used = sum(1 for i in idx if i is not None and i is not Ellipsis)
    cur, y, shape = 0, ctx.name(x), list(x.shape)
    xdyn = _dyn_of(ctx, x)
    for i in idx:
        if i is None:
            y = ctx.unsqueeze(y, [cur])
            shape.insert(cur, 1)
            cur += 1
        elif i is Ellipsis:
            cur += nd - used
        elif isinstance(i, (int, _np.integer)):
            y = ctx.node("Gather", [y, ctx.const(_np.asarray(int(i), _np.int64), "index")], axis=cur)
            shape.pop(cur)
        elif isinstance(i, slice):
            step = 1 if i.step is None else int(i.step)
            start = i.start if i.start is not None else (0 if step > 0 else -1)
            stop = i.stop if i.stop is not None else (_INT64_MAX if step > 0 else -_INT64_MAX)
            if not (start == 0 and stop >= shape[cur] and step == 1):
                if cur in xdyn and stop != _INT64_MAX and step > 0 and stop >= shape[cur]:
                    stop = _INT64_MAX
                y = ctx.node("Slice", [y, ctx.ints([start]), ctx.ints([stop]), ctx.ints([cur]), ctx.ints([step])])
            cur += 1
        else:
            raise _unsupported(node, ctx.opset, f"index {i!r}")
    return [ctx.node("Identity", [y]) if y == ctx.name(x) else y]


@converter("_Normalize")
def _normalize(ctx, node, a, kw):
    x, w, b, eps, stat_shape, red, aff_shape, aff_axes = a[:8]
    dt = x.dtype
    xs = ctx.name(x)
    if stat_shape is not None:
        tgt = list(stat_shape)
        alt = node.meta.get("alt_args")
        if alt is not None and tuple(alt[4]) != tuple(stat_shape):
            diff = [i for i, (p, q) in enumerate(zip(stat_shape, alt[4])) if p != q]
            if len(diff) > 1:
                raise _unsupported(node, ctx.opset, "normalization statistics over several dynamic axes")
            tgt[diff[0]] = -1
        xs = ctx.node("Reshape", [xs, ctx.ints(tgt)])
    mean = ctx.reduce_mean(xs, list(red), True)
    d = ctx.node("Sub", [xs, mean])
    var = ctx.reduce_mean(ctx.node("Mul", [d, d]), list(red), True)
    inv = ctx.node("Div", [ctx.const(_np.asarray(1.0, dt)), ctx.node("Sqrt", [ctx.node("Add", [var, ctx.const(
        _np.asarray(eps, dt))])])])
    y = ctx.node("Mul", [d, inv])
    if stat_shape is not None:
        y = ctx.node("Reshape", [y, ctx.node("Shape", [ctx.name(x)])])
    if w is not None:
        y = ctx.node("Mul", [y, ctx.node("Reshape", [ctx.name(w), ctx.ints(aff_shape)])])
    if b is not None:
        y = ctx.node("Add", [y, ctx.node("Reshape", [ctx.name(b), ctx.ints(aff_shape)])])
    return [y]


@converter("SDPA")
def _sdpa(ctx, node, a, kw):
    q, k, v = a[0], a[1], a[2]
    mask = a[3] if len(a) > 3 else kw.get("mask")
    scale = kw.get("scale", a[4] if len(a) > 4 else 1.0)
    if kw.get("dropout_p", 0.0):
        raise _unsupported(node, ctx.opset, "attention dropout (export in eval mode)")
    dt = q.dtype
    perm = list(range(len(k.shape)))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    s = ctx.node("MatMul", [ctx.name(q), ctx.node("Transpose", [ctx.name(k)], perm=perm)])
    s = ctx.node("Mul", [s, ctx.const(_np.asarray(scale, dt))])
    if mask is not None:
        s = ctx.node("Add", [s, ctx.name(mask, dtype=dt)])
    p = ctx.node("Softmax", [s], axis=-1)
    out = ctx.node("MatMul", [p, ctx.name(v)])
    return [out, p] if kw.get("return_weights") else [out]


def _gate_rows(w, order, H):
    return _np.concatenate([w[i * H:(i + 1) * H] for i in order], 0)


@converter("RNNSequence")
def _rnn(ctx, node, a, kw):
    from ..jit._graph import Value
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = a[:7]
    mode, reverse, batch_sizes = kw.get("mode", "LSTM"), kw.get("reverse", False), kw.get("batch_sizes")
    if batch_sizes is not None:
        raise _unsupported(node, ctx.opset, "packed sequences (batch_sizes)")
    H = w_hh.shape[1]
    order = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2)}.get(mode, (0,))
    arrays = ctx.param_arrays

    def gates(v):
        """``v``'s gate blocks in ONNX's order: reordered once for a parameter, by Slice/Concat otherwise."""
        if type(v) is Value and v.kind == "param":
            return ctx.const(_gate_rows(arrays[v.name], order, H), f"{v.name}.onnx")
        if len(order) == 1:
            return ctx.name(v)
        parts = [ctx.node("Slice", [ctx.name(v), ctx.ints([i * H]), ctx.ints([(i + 1) * H]), ctx.ints([0])])
                 for i in order]
        return ctx.node("Concat", parts, axis=0)
    W = ctx.unsqueeze(gates(w_ih), [0])
    R = ctx.unsqueeze(gates(w_hh), [0])
    B = ctx.unsqueeze(ctx.node("Concat", [gates(b_ih), gates(b_hh)], axis=0), [0]) if b_ih is not None else ""

    def state(s):
        if s is None:
            return ""
        if type(s) is Value and s.kind == "const" and not ctx.consts[s.name].any():
            return ""           # zeros: ONNX's default initial state (and independent of the batch size)
        return ctx.unsqueeze(ctx.name(s), [0])
    ins = [ctx.name(x), W, R, B, "", state(h0)]
    attrs = dict(hidden_size=int(H), direction="reverse" if reverse else "forward")
    if mode == "LSTM":
        ins.append(state(c0))
        op, n_out = "LSTM", 3
    elif mode == "GRU":
        op, n_out, attrs["linear_before_reset"] = "GRU", 2, 1
    else:
        op, n_out, attrs["activations"] = "RNN", 2, ["Relu" if mode == "RNN_RELU" else "Tanh"]
    while ins and ins[-1] == "":
        ins.pop()
    outs = ctx.node(op, ins, n_out=n_out, outputs=[ctx.fresh(op.lower()) for _ in range(n_out)], **attrs)
    y = ctx.squeeze(outs[0], [1])
    return [y] + [ctx.squeeze(o, [0]) for o in outs[1:]]


@converter("_MaskScale")
def _maskscale(ctx, node, a, kw):
    raise _unsupported(node, ctx.opset, "dropout in training mode (export calls model.eval() unless training=TRAINING)")


# -- export ----------------------------------------------------------------------------------------------------
def _grow(args, dynamic_axes, input_names):
    """The example inputs with every dynamic axis one larger (zeros for integer inputs)."""
    out = []
    k = 0
    for a in args:
        if not isinstance(a, Tensor):
            out.append(a)
            continue
        name = input_names[k]
        k += 1
        axes = dynamic_axes.get(name, {})
        axes = list(axes) if not isinstance(axes, dict) else list(axes)
        if not axes:
            out.append(a)
            continue
        shape = list(a.shape)
        for ax in axes:
            shape[ax] += 1
        arr = _np.zeros(shape, a._data.dtype) if a._data.dtype.kind != "f" else \
            _np.random.default_rng(0).standard_normal(shape).astype(a._data.dtype)
        if a._data.dtype.kind == "f":
            sl = tuple(slice(0, s) for s in a.shape)
            arr[sl] = a._data
        out.append(Tensor._make(arr))
    return tuple(out)


def _axis_names(spec, name):
    if isinstance(spec, dict):
        return {int(k): str(v) for k, v in spec.items()}
    return {int(k): f"{name}_dynamic_axes_{i + 1}" for i, k in enumerate(spec)}


def build(model, args, input_names=None, output_names=None, dynamic_axes=None, opset_version=None,
          do_constant_folding=True):
    """The ONNX ModelProto for ``model(*args)`` (see ``export``)."""
    import onnx
    import onnx.checker
    import onnx.helper
    import onnx.numpy_helper
    from ..autograd.grad_mode import no_grad
    from ..jit import trace_graph
    from ..jit._graph import Value
    from ..jit.passes import eliminate_dead_code
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise OnnxExporterError(f"ember.onnx.export: opset_version {opset} is not supported; ember exports opsets "
                                f"{MIN_OPSET} to {MAX_OPSET}")
    if isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    kw = None
    if isinstance(args, tuple) and args and isinstance(args[-1], dict):
        args, kw = args[:-1], args[-1]      # torch's convention: a trailing dict holds keyword arguments
    with no_grad():
        g, out, params = trace_graph(model, args, kw)
    if g.random_draws:
        raise OnnxExporterError("ember.onnx.export: the forward drew random numbers (dropout in training mode?); "
                                "export the model in eval mode")
    n_in = len(g.inputs)
    input_names = list(input_names or [])
    if len(input_names) > n_in:
        raise ValueError(f"ember.onnx.export: {len(input_names)} input_names for {n_in} tensor input(s)")
    input_names += [v.name if n_in > 1 else "input" for v in g.inputs[len(input_names):]]
    outs = []
    from ..jit._graph import _collect
    _collect(g.output, outs)
    output_names = list(output_names or [])
    output_names += ["output" if len(outs) == 1 else f"output_{i}" for i in range(len(output_names), len(outs))]
    dynamic_axes = dict(dynamic_axes or {})
    for k in dynamic_axes:
        if k not in input_names and k not in output_names:
            raise ValueError(f"ember.onnx.export: dynamic_axes names {k!r}, which is neither an input name "
                             f"{input_names} nor an output name {output_names}")
    ctx = _Ctx(opset, onnx)
    ctx.consts = g.consts
    ctx.param_arrays = {v.name: params[k]._data for k, v in g.params.items()}
    # the second trace: which shapes and arguments follow the dynamic axes
    if any(k in input_names for k in dynamic_axes):
        with no_grad():
            g2, _, _ = trace_graph(model, _grow(args, dynamic_axes, input_names), kw)
        if len(g2.nodes) != len(g.nodes) or any(a.op is not b.op for a, b in zip(g.nodes, g2.nodes)):
            raise OnnxExporterError("ember.onnx.export: the traced graph changes with the size of the dynamic axes "
                                    "(Python control flow on shapes); export without dynamic_axes")
        for v1, v2 in zip(g.inputs, g2.inputs):
            ctx.dyn[v1.name] = {i for i, (p, q) in enumerate(zip(v1.shape, v2.shape)) if p != q}
        for c1, c2 in zip(g.const_values.values(), g2.const_values.values()):
            if c1.shape != c2.shape:
                ctx.dyn[c1.name] = {i for i, (p, q) in enumerate(zip(c1.shape, c2.shape)) if p != q}
        for n1, n2 in zip(g.nodes, g2.nodes):
            for v1, v2 in zip(n1.outputs, n2.outputs):
                ctx.dyn[v1.name] = {i for i, (p, q) in enumerate(zip(v1.shape, v2.shape)) if p != q}
            ins1 = n1.input_values()
            n1.meta["alt_args"] = n2.args
            n1.meta["alt_in"] = ins1 and n2.input_values()[0].shape
    eliminate_dead_code(g)
    dt_map = onnx.helper.np_dtype_to_tensor_dtype
    graph_inputs = []
    for v, name in zip(g.inputs, input_names):
        ctx.names[id(v)] = name
        axes = _axis_names(dynamic_axes.get(name, {}), name)
        shape = [axes.get(i, s) for i, s in enumerate(v.shape)]
        graph_inputs.append(onnx.helper.make_tensor_value_info(name, dt_map(v.dtype), shape))
    for k, v in g.params.items():
        ctx.names[id(v)] = k
        ctx.inits.append(onnx.numpy_helper.from_array(_np.array(params[k]._data, order="C"), k))
    for k, v in g.const_values.items():
        if ctx.dyn.get(k):
            continue            # a batch-sized constant (a zero state): its consumer must do without it
        ctx.names[id(v)] = k
        ctx.inits.append(onnx.numpy_helper.from_array(_np.array(g.consts[k], order="C"), k))
    for node in g.nodes:
        conv = CONVERTERS.get(node.op.__name__)
        if conv is None:
            raise _unsupported(node, opset, "no ONNX converter for this op")
        for v in node.input_values():
            if id(v) not in ctx.names and not (v.kind == "const" and node.op.__name__ == "RNNSequence"):
                raise _unsupported(node, opset, f"its input {v.name} is a constant whose shape depends on a "
                                                f"dynamic axis")
        names = conv(ctx, node, list(node.args), dict(node.kwargs))
        for v, nm in zip(node.outputs, names):
            ctx.names[id(v)] = nm
    graph_outputs = []
    seen = set()
    for v, name in zip(outs, output_names):
        src = ctx.names[id(v)]
        ctx.node("Identity", [src], outputs=[name])
        seen.add(name)
        axes = _axis_names(dynamic_axes.get(name, {}), name)
        dyn = ctx.dyn.get(v.name, set())
        shape = [axes.get(i, f"{name}_dim_{i}" if i in dyn else s) for i, s in enumerate(v.shape)]
        graph_outputs.append(onnx.helper.make_tensor_value_info(name, dt_map(v.dtype), shape))
    used = {i for n in ctx.nodes for i in n.input}
    inits = [t for t in ctx.inits if t.name in used]     # e.g. RNN weights, exported reordered
    graph = onnx.helper.make_graph(ctx.nodes, "main_graph", graph_inputs, graph_outputs, inits)
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)],
                                   producer_name="ember")
    proto.ir_version = min(proto.ir_version, 10)
    onnx.checker.check_model(proto)
    return proto
