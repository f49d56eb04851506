"""``ember.onnx.load_model``: an ONNX graph as an ember ``Module`` whose float initializers are trainable
``Parameter``s (0-d ones, such as an epsilon, stay constants); ``forward`` runs the nodes with ember ops, so it
differentiates, trains, and exports again."""
from __future__ import annotations

import numpy as _np

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor


def _attrs(node, onnx):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _ints(t):
    if t is None:
        return None
    a = t._data if isinstance(t, Tensor) else _np.asarray(t)
    return [int(v) for v in a.reshape(-1)]


def _pad2(pads, nd):
    """ONNX pads [b0, b1, ..., e0, e1, ...] -> symmetric padding per dim, or None if asymmetric."""
    b, e = pads[:nd], pads[nd:]
    return tuple(b) if list(b) == list(e) else None


class OnnxModule(nn.Module):
    """An imported ONNX graph.  ``initializer_names`` maps each parameter's attribute name to its ONNX name."""

    def __init__(self, proto):
        super().__init__()
        import onnx
        import onnx.helper
        from onnx import numpy_helper
        self.__dict__["_proto_graph"] = proto.graph
        self.__dict__["_opset"] = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 13)
        self.__dict__["_onnx"] = onnx
        self.__dict__["_consts"] = {}
        self.__dict__["_pnames"] = {}
        self.__dict__["initializer_names"] = {}
        used = set()
        for init in proto.graph.initializer:
            arr = numpy_helper.to_array(init)
            stat = init.name.rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked")
            if arr.dtype.kind == "f" and arr.ndim > 0 and not stat:
                attr = "".join(c if c.isalnum() or c == "_" else "_" for c in init.name).strip("_") or "p"
                if attr[0].isdigit():
                    attr = "p_" + attr
                base, k = attr, 1
                while attr in used:
                    attr, k = f"{base}_{k}", k + 1
                used.add(attr)
                self.register_parameter(attr, nn.Parameter(Tensor._make(_np.array(arr, copy=True))))
                self._pnames[init.name] = attr
                self.initializer_names[attr] = init.name
            else:
                self._consts[init.name] = Tensor._make(_np.array(arr, copy=True))
        inits = {i.name for i in proto.graph.initializer}
        self.__dict__["input_names"] = [i.name for i in proto.graph.input if i.name not in inits]
        self.__dict__["output_names"] = [o.name for o in proto.graph.output]
        for node in proto.graph.node:
            if node.domain not in ("", "ai.onnx") or node.op_type not in _OPS:
                raise NotImplementedError(f"ember.onnx.load_model: operator {node.domain + '::' if node.domain else ''}"
                                          f"{node.op_type} (node {node.name!r}, opset {self._opset}) is not supported")

    def forward(self, *inputs):
        if len(inputs) != len(self.input_names):
            raise TypeError(f"OnnxModule expected {len(self.input_names)} input(s) {self.input_names}, got "
                            f"{len(inputs)}")
        env = dict(self._consts)
        for k, attr in self._pnames.items():
            env[k] = self._parameters[attr]
        for name, x in zip(self.input_names, inputs):
            env[name] = x if isinstance(x, Tensor) else Tensor._make(_np.asarray(x))
        onnx = self._onnx
        for node in self._proto_graph.node:
            ins = [env[n] if n else None for n in node.input]
            outs = _OPS[node.op_type](self, ins, _attrs(node, onnx))
            outs = outs if isinstance(outs, (tuple, list)) else (outs,)
            for n, o in zip(node.output, outs):
                if n:
                    env[n] = o
        res = tuple(env[n] for n in self.output_names)
        return res[0] if len(res) == 1 else res


def _axes(m, ins, at, k=1):
    if len(ins) > k and ins[k] is not None:
        return _ints(ins[k])
    return at.get("axes")


def _gemm(m, ins, at):
    a, b = ins[0], ins[1]
    if at.get("transA", 0):
        a = a.t()
    if at.get("transB", 0):
        b = b.t()
    y = a.matmul(b)
    if at.get("alpha", 1.0) != 1.0:
        y = y * at["alpha"]
    if len(ins) > 2 and ins[2] is not None:
        c = ins[2] if at.get("beta", 1.0) == 1.0 else ins[2] * at["beta"]
        y = y + c
    return y


def _conv(m, ins, at):
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) > 2 else None
    nd = w.dim() - 2
    if at.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError(f"ember.onnx.load_model: Conv auto_pad={at['auto_pad']!r} is not supported")
    pads = at.get("pads", [0] * 2 * nd)
    sym = _pad2(pads, nd)
    if sym is None:
        x = F.pad(x, sum(([pads[i], pads[i + nd]] for i in reversed(range(nd))), []))
        sym = (0,) * nd
    fn = getattr(F, f"conv{nd}d")
    return fn(x, w, b, tuple(at.get("strides", [1] * nd)), sym, tuple(at.get("dilations", [1] * nd)),
              at.get("group", 1))


def _convT(m, ins, at):
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) > 2 else None
    nd = w.dim() - 2
    sym = _pad2(at.get("pads", [0] * 2 * nd), nd)
    if sym is None or "output_shape" in at:
        raise NotImplementedError("ember.onnx.load_model: ConvTranspose with asymmetric pads or output_shape")
    fn = getattr(F, f"conv_transpose{nd}d")
    return fn(x, w, b, tuple(at.get("strides", [1] * nd)), sym, tuple(at.get("output_padding", [0] * nd)),
              at.get("group", 1), tuple(at.get("dilations", [1] * nd)))


def _pool(kind):
    def run(m, ins, at):
        x = ins[0]
        ks = at["kernel_shape"]
        nd = len(ks)
        sym = _pad2(at.get("pads", [0] * 2 * nd), nd)
        if sym is None:
            raise NotImplementedError(f"ember.onnx.load_model: {kind} with asymmetric pads")
        st = tuple(at.get("strides", [1] * nd))
        if kind == "MaxPool":
            fn = getattr(F, f"max_pool{nd}d")
            return fn(x, tuple(ks), st, sym, tuple(at.get("dilations", [1] * nd)), bool(at.get("ceil_mode", 0)))
        fn = getattr(F, f"avg_pool{nd}d")
        return fn(x, tuple(ks), st, sym, bool(at.get("ceil_mode", 0)), bool(at.get("count_include_pad", 0)))
    return run


def _reshape(m, ins, at):
    x, shape = ins[0], _ints(ins[1])
    if not at.get("allowzero", 0):
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(tuple(shape))


def _slice(m, ins, at):
    x = ins[0]
    starts, ends = _ints(ins[1]), _ints(ins[2])
    axes = _ints(ins[3]) if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
    steps = _ints(ins[4]) if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    idx = [slice(None)] * x.dim()
    big = 2 ** 62
    for s, e, a, st in zip(starts, ends, axes, steps):
        e = None if (st > 0 and e >= big) or (st < 0 and e <= -big) else e
        idx[a] = slice(s, e, st)
    if any(st < 0 for st in steps):
        raise NotImplementedError("ember.onnx.load_model: Slice with negative steps")
    return x[tuple(idx)]


def _gather(m, ins, at):
    x, idx = ins[0], ins[1]
    axis = at.get("axis", 0) % x.dim()
    if idx.dim() == 0:
        return x.select(axis, int(idx._data))
    if axis == 0 and x.dim() == 2 and x.is_floating_point():
        return F.embedding(idx.long(), x)
    return x[(slice(None),) * axis + (idx.long(),)]


def _squeeze(m, ins, at):
    axes = _axes(m, ins, at)
    x = ins[0]
    if axes is None:
        return x.squeeze()
    for a in sorted((a % x.dim() for a in axes), reverse=True):
        x = x.squeeze(a)
    return x


def _unsqueeze(m, ins, at):
    x = ins[0]
    axes = _axes(m, ins, at)
    n = x.dim() + len(axes)
    for a in sorted(a % n for a in axes):
        x = x.unsqueeze(a)
    return x


def _reduce(name):
    def run(m, ins, at):
        x = ins[0]
        axes = _axes(m, ins, at)
        keep = bool(at.get("keepdims", 1))
        if axes is None or not axes:
            if at.get("noop_with_empty_axes", 0):
                return x
            axes = list(range(x.dim()))
        return getattr(x, name)(tuple(axes), keepdim=keep)
    return run


def _rnn(kind):
    from ..ops.rnn import rnn_sequence
    import ember

    def run(m, ins, at):
        x, W, R = ins[0], ins[1], ins[2]
        B = ins[3] if len(ins) > 3 else None
        if len(ins) > 4 and ins[4] is not None:
            raise NotImplementedError(f"ember.onnx.load_model: {kind} with sequence_lens")
        h0 = ins[5] if len(ins) > 5 else None
        c0 = ins[6] if len(ins) > 6 else None
        if at.get("layout", 0) or W.shape[0] != 1:
            raise NotImplementedError(f"ember.onnx.load_model: {kind} with layout=1 or bidirectional direction")
        H = at["hidden_size"]
        direction = at.get("direction", b"forward")
        direction = direction.decode() if isinstance(direction, bytes) else direction
        if kind == "GRU" and not at.get("linear_before_reset", 0):
            raise NotImplementedError("ember.onnx.load_model: GRU with linear_before_reset=0 (PyTorch's GRU is 1)")
        acts = [a.decode() if isinstance(a, bytes) else a for a in at.get("activations", [])]
        order = {"LSTM": (0, 2, 3, 1), "GRU": (1, 0, 2)}.get(kind, (0,))   # ONNX gate order -> PyTorch's
        reorder = lambda w: ember.cat([w[i * H:(i + 1) * H] for i in order], 0)  # noqa: E731
        w_ih, w_hh = reorder(W[0]), reorder(R[0])
        b_ih = b_hh = None
        if B is not None:
            b_ih, b_hh = reorder(B[0, :len(order) * H]), reorder(B[0, len(order) * H:])
        N = x.shape[1]
        h0 = h0[0] if h0 is not None else ember.zeros(N, H, dtype=x.dtype)
        mode = kind if kind != "RNN" else ("RNN_RELU" if acts and acts[0] == "Relu" else "RNN_TANH")
        if kind == "RNN" and acts and acts[0] not in ("Relu", "Tanh"):
            raise NotImplementedError(f"ember.onnx.load_model: RNN activation {acts[0]}")
        if kind == "LSTM":
            c0 = c0[0] if c0 is not None else ember.zeros(N, H, dtype=x.dtype)
        else:
            c0 = None
        res = rnn_sequence(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=direction == "reverse")
        return (res[0].unsqueeze(1),) + tuple(r.unsqueeze(0) for r in res[1:])
    return run


def _bn(m, ins, at):
    x, s, b, mean, var = ins[:5]
    shape = (1, -1) + (1,) * (x.dim() - 2)
    y = (x - mean.reshape(shape)) / (var.reshape(shape) + at.get("epsilon", 1e-5)).sqrt()
    return y * s.reshape(shape) + b.reshape(shape)


def _layer_norm(m, ins, at):
    x = ins[0]
    axis = at.get("axis", -1) % x.dim()
    return F.layer_norm(x, tuple(x.shape[axis:]), ins[1], ins[2] if len(ins) > 2 else None, at.get("epsilon", 1e-5))


def _constant(m, ins, at):
    from onnx import numpy_helper
    if "value" in at:
        return Tensor._make(numpy_helper.to_array(at["value"]).copy())
    for k in ("value_float", "value_int"):
        if k in at:
            return Tensor._make(_np.asarray(at[k], _np.float32 if k == "value_float" else _np.int64))
    for k in ("value_floats", "value_ints"):
        if k in at:
            return Tensor._make(_np.asarray(at[k], _np.float32 if k == "value_floats" else _np.int64))
    raise NotImplementedError(f"ember.onnx.load_model: Constant with {sorted(at)}")


def _cast(m, ins, at):
    from onnx import helper
    return ins[0].to(_dtype_of(helper.tensor_dtype_to_np_dtype(at["to"])))


def _dtype_of(npdt):
    import ember
    return {"float32": ember.float32, "float64": ember.float64, "int64": ember.int64, "int32": ember.int32,
            "bool": ember.bool, "float16": ember.float16}[_np.dtype(npdt).name]


def _expand(m, ins, at):
    x, shape = ins[0], _ints(ins[1])
    return x.expand(*_np.broadcast_shapes(tuple(x.shape), tuple(shape)))


def _clip(m, ins, at):
    import ember
    lo = ins[1] if len(ins) > 1 else None
    hi = ins[2] if len(ins) > 2 else None
    lo = at.get("min", lo) if lo is None else lo
    hi = at.get("max", hi) if hi is None else hi
    return ember.clamp(ins[0], lo, hi)


def _div(a, c):
    """ONNX Div: true division for floats, truncation toward zero for integers."""
    if not a.is_floating_point() and not c.is_floating_point():
        import ember
        return ember.div(a, c, rounding_mode="trunc")
    return a / c


def _constant_of_shape(m, ins, at):
    from onnx import numpy_helper
    v = numpy_helper.to_array(at["value"]) if "value" in at else _np.zeros(1, _np.float32)
    return Tensor._make(_np.full(tuple(_ints(ins[0])), v.reshape(-1)[0], v.dtype))


def _split(m, ins, at):
    x = ins[0]
    axis = at.get("axis", 0)
    sizes = _ints(ins[1]) if len(ins) > 1 and ins[1] is not None else at.get("split")
    if sizes is None:
        n = at.get("num_outputs")
        if n is None:
            raise NotImplementedError("ember.onnx.load_model: Split without sizes or num_outputs")
        step = -(-x.shape[axis] // n)
        sizes = [min(step, x.shape[axis] - i * step) for i in range(n)]
    return tuple(x.split(list(sizes), axis))


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def _import_ops():
    import ember
    b = lambda f: (lambda m, ins, at: f(ins[0], ins[1]))  # noqa: E731
    u = lambda f: (lambda m, ins, at: f(ins[0]))  # noqa: E731
    return {
        "Add": b(lambda a, c: a + c), "Sub": b(lambda a, c: a - c), "Mul": b(lambda a, c: a * c),
        "Div": b(_div), "Pow": b(lambda a, c: a ** c), "Max": b(ember.maximum), "Min": b(ember.minimum),
        "MatMul": b(ember.matmul), "Gemm": _gemm,
        "Relu": u(F.relu), "Sigmoid": u(ember.sigmoid), "Tanh": u(ember.tanh), "Exp": u(ember.exp),
        "Log": u(ember.log), "Sqrt": u(ember.sqrt), "Neg": u(ember.neg), "Abs": u(ember.abs), "Erf": u(ember.erf),
        "Reciprocal": u(ember.reciprocal), "Sin": u(ember.sin), "Cos": u(ember.cos), "Floor": u(ember.floor),
        "Ceil": u(ember.ceil), "Sign": u(ember.sign), "Identity": u(lambda x: x),
        "LeakyRelu": lambda m, ins, at: F.leaky_relu(ins[0], at.get("alpha", 0.01)),
        "Elu": lambda m, ins, at: F.elu(ins[0], at.get("alpha", 1.0)),
        "Softplus": u(F.softplus), "Clip": _clip, "Selu": u(F.selu), "Softsign": u(F.softsign),
        "Celu": lambda m, ins, at: F.celu(ins[0], at.get("alpha", 1.0)),
        "HardSwish": u(F.hardswish),
        "HardSigmoid": lambda m, ins, at: ember.clamp(ins[0] * at.get("alpha", 0.2) + at.get("beta", 0.5), 0, 1),
        "Gelu": lambda m, ins, at: F.gelu(ins[0], approximate=_s(at.get("approximate", "none"))),
        "Where": lambda m, ins, at: ember.where(ins[0], ins[1], ins[2]),
        "Mod": lambda m, ins, at: (ember.fmod if at.get("fmod", 0) else ember.remainder)(ins[0], ins[1]),
        "Not": u(ember.logical_not), "And": b(ember.logical_and), "Or": b(ember.logical_or),
        "ConstantOfShape": _constant_of_shape,
        "Range": lambda m, ins, at: ember.arange(ins[0].item(), ins[1].item(), ins[2].item(),
                                                 dtype=ins[0].dtype),
        "Tile": lambda m, ins, at: ins[0].repeat(*_ints(ins[1])),
        "Split": _split,
        "Greater": b(lambda a, c: a > c), "Less": b(lambda a, c: a < c), "Equal": b(lambda a, c: a == c),
        "Dropout": lambda m, ins, at: ins[0],
        "Conv": _conv, "ConvTranspose": _convT, "MaxPool": _pool("MaxPool"), "AveragePool": _pool("AveragePool"),
        "GlobalAveragePool": lambda m, ins, at: ins[0].mean(tuple(range(2, ins[0].dim())), keepdim=True),
        "GlobalMaxPool": lambda m, ins, at: ins[0].amax(tuple(range(2, ins[0].dim())), keepdim=True),
        "Reshape": _reshape,
        "Flatten": lambda m, ins, at: ins[0].reshape(
            (int(_np.prod(ins[0].shape[:at.get("axis", 1) % max(ins[0].dim(), 1)])) if at.get("axis", 1) else 1, -1)),
        "Transpose": lambda m, ins, at: ins[0].permute(*(at.get("perm") or range(ins[0].dim() - 1, -1, -1))),
        "Concat": lambda m, ins, at: ember.cat([i for i in ins if i is not None], at["axis"]),
        "Slice": _slice, "Gather": _gather, "Squeeze": _squeeze, "Unsqueeze": _unsqueeze,
        "ReduceMean": _reduce("mean"), "ReduceSum": _reduce("sum"),
        "Softmax": lambda m, ins, at: F.softmax(ins[0], at.get("axis", -1)),
        "LogSoftmax": lambda m, ins, at: F.log_softmax(ins[0], at.get("axis", -1)),
        "Shape": lambda m, ins, at: Tensor._make(_np.asarray(ins[0].shape, _np.int64)),
        "Constant": _constant, "Cast": _cast, "Expand": _expand,
        "BatchNormalization": _bn, "LayerNormalization": _layer_norm,
        "LSTM": _rnn("LSTM"), "GRU": _rnn("GRU"), "RNN": _rnn("RNN"),
    }


_OPS = _import_ops()


def load_model(path_or_proto) -> OnnxModule:
    """Read an ONNX model (a path, bytes, a file object or a ``ModelProto``) into an ``OnnxModule``."""
    import onnx
    if isinstance(path_or_proto, onnx.ModelProto):
        proto = path_or_proto
    elif isinstance(path_or_proto, (bytes, bytearray)):
        proto = onnx.load_from_string(bytes(path_or_proto))
    else:
        proto = onnx.load(path_or_proto)
    return OnnxModule(proto)
