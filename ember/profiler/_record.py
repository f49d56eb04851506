"""The recording half of ``ember.profiler``: while a profiler records, every op call and every backward node is
timed into a flat list of raw spans.

Zero cost when no profiler records: nothing in ``Function.apply`` or the engine checks for a profiler.  Starting
one swaps three attributes and stopping it puts the originals back:

* ``Function.apply`` (every ember op goes through it) becomes ``_profiled_apply``, which times the original;
* ``engine._call_backward`` and ``engine._accumulate_leaf`` (the engine calls both through its module globals)
  become timed wrappers, and ``engine.RAW_BACKWARD`` (the array backward formulas) a view that hands out timed
  ones, so each backward node is one ``autograd::engine::evaluate_function: <Node>`` span around a
  ``<Node>`` span, as PyTorch shows them.

A raw span is a list ``[name, cat, t0, t1, parent, tid, shapes, mem, stack, flops]`` (times from
``time.perf_counter_ns``); ``parent`` is the enclosing open span of the same thread, so nesting (and therefore
self time) is exact.  ``ember/profiler/_events.py`` turns the list into PyTorch's event objects.
"""
from __future__ import annotations

import os
import sys
import threading
import time

from ..autograd import engine as _engine
from ..autograd import function as _fn

_now = time.perf_counter_ns
_get_ident = threading.get_ident

NAME, CAT, T0, T1, PARENT, TID, SHAPES, MEM, STACK, FLOPS = range(10)

_active = None          # the recording _Recorder, or None
_saved = None           # the attributes swapped in by install(), to restore


class _Recorder:
    """The raw spans of one recording (one active period of a ``profile``)."""

    def __init__(self, record_shapes: bool = False, profile_memory: bool = False, with_stack: bool = False,
                 with_flops: bool = False):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.spans: list = []
        self.open: dict = {}            # thread id -> stack of open spans
        self.t0_ns = _now()
        self.wall0_ns = time.time_ns()  # the same instant on the epoch clock (chrome trace timestamps)
        self.t1_ns = None

    def begin(self, name: str, cat: str, shapes=None):
        tid = _get_ident()
        st = self.open.get(tid)
        if st is None:
            st = self.open[tid] = []
        span = [name, cat, 0, 0, st[-1] if st else None, tid, shapes, 0,
                _user_stack() if self.with_stack else None, 0]
        self.spans.append(span)
        st.append(span)
        span[T0] = _now()
        return span

    def end(self, span) -> None:
        span[T1] = _now()
        st = self.open.get(span[TID])
        if st:
            if st[-1] is span:
                st.pop()
            elif span in st:            # spans closed out of order (a record_function left open): close inner ones
                while st:
                    s = st.pop()
                    if s is span:
                        break
                    if not s[T1]:
                        s[T1] = span[T1]

    def finish(self) -> None:
        """Close the spans still open (a ``record_function`` entered and not yet exited) at the stop time."""
        t = _now()
        for st in self.open.values():
            for s in st:
                if not s[T1]:
                    s[T1] = t
        self.open = {}
        self.t1_ns = t


def _shapes(args) -> list:
    return [list(a._data.shape) if isinstance(a, _Tensor()) else [] for a in args]


def _Tensor():
    return _fn.Tensor


def _out_bytes(out) -> int:
    """Bytes of the new arrays an op returned (views of existing memory count 0)."""
    n = 0
    for o in (out if type(out) is tuple else (out,)):
        d = getattr(o, "_data", None)
        if d is not None and getattr(d, "base", 0) is None:
            n += d.nbytes
    return n


def _flops(name: str, args, out) -> int:
    """Floating-point operations of the ops PyTorch counts (``with_flops``): 2 per multiply-add of a matrix
    product, a linear layer or a convolution; 1 per output element of an elementwise ``Mul``/``Add``."""
    T = _Tensor()
    shapes = [a._data.shape for a in args if isinstance(a, T)]
    o = out[0] if type(out) is tuple else out
    numel = getattr(getattr(o, "_data", None), "size", 0)
    if name == "MatMul" and len(shapes) == 2:
        a, b = shapes
        if not a or not b:
            return 0
        k = a[-1]
        return 2 * numel * k
    if name == "Linear" and len(shapes) >= 2:
        return 2 * numel * shapes[1][-1]            # out (..., out_features), weight (out_features, in_features)
    if name in ("Conv1d", "Conv2d", "Conv3d") and len(shapes) >= 2:
        w = shapes[1]                               # (out_channels, in_channels / groups, *kernel)
        per = 1
        for d in w[1:]:
            per *= d
        return 2 * numel * per
    if name in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d") and len(shapes) >= 2:
        x, w = shapes[0], shapes[1]                 # each input element meets (out_channels / groups, *kernel)
        n, per = 1, 1
        for d in x:
            n *= d
        for d in w[1:]:
            per *= d
        return 2 * n * per
    if name in ("Mul", "Add"):
        return numel
    return 0


_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_stack(limit: int = 8) -> list:
    """The calling frames outside ember, innermost first, as PyTorch writes them: ``file(line): function``."""
    out = []
    f = sys._getframe(2)
    while f is not None and len(out) < limit:
        co = f.f_code
        if not co.co_filename.startswith(_EMBER_DIR):
            out.append(f"{co.co_filename}({f.f_lineno}): {co.co_name}")
        f = f.f_back
    return out


def _op_name(cls) -> str:
    return cls.__name__.lstrip("_") or cls.__name__


# -- the hooks ------------------------------------------------------------------------------------------------
def _make_profiled_apply(orig):
    def _profiled_apply(cls, *args, **kwargs):
        rec = _active
        tr = _fn._tracer
        if rec is None or (tr is not None and not tr.busy):
            # (an ember.jit tracer records this call by calling apply again, busy: that call is the one timed)
            return orig(cls, *args, **kwargs)
        span = rec.begin(_op_name(cls), "cpu_op", _shapes(args) if rec.record_shapes else None)
        try:
            out = orig(cls, *args, **kwargs)
        finally:
            rec.end(span)
        if rec.profile_memory:
            span[MEM] = _out_bytes(out)
        if rec.with_flops:
            span[FLOPS] = _flops(_op_name(cls), args, out)
        return out
    return _profiled_apply


def _node_span(rec, node_name, grads):
    outer = rec.begin("autograd::engine::evaluate_function: " + node_name, "cpu_op",
                      [list(g._data.shape) if g is not None else [] for g in grads] if rec.record_shapes else None)
    inner = rec.begin(node_name, "cpu_op", outer[SHAPES])
    return outer, inner


def _make_call_backward(orig):
    def _timed_call_backward(node, grads, retain_graph):
        rec = _active
        if rec is None:
            return orig(node, grads, retain_graph)
        outer, inner = _node_span(rec, node.name(), grads)
        try:
            return orig(node, grads, retain_graph)
        finally:
            rec.end(inner)
            rec.end(outer)
    return _timed_call_backward


def _make_accumulate(orig):
    def _timed_accumulate(acc, g, create_graph):
        rec = _active
        if rec is None:
            return orig(acc, g, create_graph)
        outer, inner = _node_span(rec, "torch::autograd::AccumulateGrad", (g,))
        try:
            return orig(acc, g, create_graph)
        finally:
            rec.end(inner)
            rec.end(outer)
    return _timed_accumulate


class _TimedRawBackward(dict):
    """Stands in for ``engine.RAW_BACKWARD`` while recording: a copy of the table whose ``get`` (the engine's
    only read) hands out a timed twin of each array backward; writes (an op module imported meanwhile
    registering its formulas) go to the real table too."""

    def __init__(self, real: dict):
        super().__init__(real)
        self.real = real
        self.timed: dict = {}

    def get(self, key, default=None):
        f = dict.get(self, key)
        if f is None:
            return default
        t = self.timed.get(key)
        if t is None or t[0] is not f:
            t = self.timed[key] = (f, _make_raw(f))
        return t[1]

    def __setitem__(self, key, value) -> None:
        self.real[key] = value
        dict.__setitem__(self, key, value)

    def update(self, *a, **k) -> None:
        self.real.update(*a, **k)
        dict.update(self, *a, **k)


def _make_raw(f):
    def _timed_raw(node, g0):
        rec = _active
        if rec is None:
            return f(node, g0)
        outer, inner = _node_span(rec, node.name(), (g0,))
        try:
            r = f(node, g0)
        finally:
            rec.end(inner)
            rec.end(outer)
        if r is NotImplemented:         # the engine falls back to the Tensor backward, which records the node
            outer[NAME] = inner[NAME] = None
        return r
    return _timed_raw


def install(rec: _Recorder) -> None:
    """Start recording into ``rec``: swap in the timed hooks (see the module docstring)."""
    global _active, _saved
    if _active is not None:
        raise RuntimeError("ember.profiler: a profiler is already recording; stop it before starting another "
                           "(nested profilers are not supported, as in PyTorch)")
    Function = _fn.Function
    saved = {"apply": Function.__dict__["apply"]}
    Function.apply = classmethod(_make_profiled_apply(saved["apply"].__func__))
    _fn._hooked = True
    for name, make in (("_call_backward", _make_call_backward), ("_accumulate_leaf", _make_accumulate)):
        orig = getattr(_engine, name, None)
        if orig is not None:
            saved[name] = orig
            setattr(_engine, name, make(orig))
    raw = getattr(_engine, "RAW_BACKWARD", None)
    if isinstance(raw, dict):
        saved["RAW_BACKWARD"] = raw
        _engine.RAW_BACKWARD = _TimedRawBackward(raw)
    if "_accumulate_leaf" in saved:
        # the timed wrapper's `g` is one more reference to each leaf gradient: counted as the engine's own,
        # or every leaf would copy the buffer it adopts unprofiled (and the profile would time those copies)
        saved["_ENGINE_REFS"] = _engine._ENGINE_REFS
        _engine._ENGINE_REFS += 1
    _saved = saved
    _active = rec


def uninstall() -> None:
    """Stop recording: put the original ``Function.apply`` and engine functions back."""
    global _active, _saved
    rec, saved = _active, _saved
    _active = _saved = None
    if saved is None:
        return
    _fn.Function.apply = saved.pop("apply")
    _fn._hooked = False
    for name, orig in saved.items():
        setattr(_engine, name, orig)
    if rec is not None:
        rec.finish()


def active():
    return _active
