"""The device oracle: one fuzz case run by ember on the CPU and on "cuda", and every way the two differ.

The CPU run is the reference (the fuzzer checks it against PyTorch).  The "cuda" run hands the spec an ember
whose creation functions default to ``device="cuda"`` (``OnDevice``: its inputs, and the few tensors a spec
makes itself, land on the device; ember's own code is untouched, so an op that makes a CPU array inside shows
up), then compares: raise / no raise, each output's device (it must be the
device), shape, dtype, strides, requires_grad and values, then the gradients of the inputs after one backward
with the same upstream gradients.  On the test suite's NumPy-backed stand-in (``fake_cupy``) the arithmetic is
NumPy's, so values and gradients must match bit for bit (``exact``); on a real GPU within the dtype's tolerance.
"""
from __future__ import annotations

import warnings

import numpy as np

import ember
from tests.fuzz.oracle import _call, _flatten, _grad_seed, dtype_name

_TOL = {"float16": 2e-3, "float32": 2e-5, "float64": 1e-10}


_CREATION = {"tensor", "as_tensor", "zeros", "ones", "empty", "full", "arange", "linspace", "logspace", "eye",
             "rand", "randn", "randint", "randperm", "zeros_like", "ones_like", "empty_like", "full_like",
             "rand_like", "randn_like", "randint_like", "range", "tril_indices", "triu_indices"}


class OnDevice:
    """``ember`` with its creation functions defaulting to ``device=dev``."""

    def __init__(self, dev="cuda"):
        self._dev = dev

    def __getattr__(self, name):
        obj = getattr(ember, name)
        if name in _CREATION:
            def make(*args, **kwargs):
                kwargs.setdefault("device", self._dev)
                return obj(*args, **kwargs)
            return make
        return obj


class _DeviceGuard:
    """While active, an op (``Function.apply``) that takes a device tensor and returns a host tensor raises,
    naming the op: the place a result left the device."""

    def __enter__(self):
        from ember.autograd.function import Function
        from ember.backend import device as dev
        self.saved = Function.__dict__["apply"]          # the classmethod object itself, restored as it was
        orig = self.saved.__func__

        def apply(cls, *args, **kwargs):
            out = orig(cls, *args, **kwargs)
            if cls.__name__ == "_ToDevice":     # .cpu() / .to("cpu"): leaving the device is the op (a host fallback)
                return out
            if any(isinstance(a, ember.Tensor) and dev.is_device_array(a._data) for a in args):
                for o in (out if isinstance(out, tuple) else (out,)):
                    if isinstance(o, ember.Tensor) and not dev.is_device_array(o._data):
                        raise AssertionError(f"{cls.__name__} (in {cls.__module__}) returned a host tensor "
                                             f"from device inputs")
            return out
        Function.apply = classmethod(apply)
        return self

    def __exit__(self, *exc):
        from ember.autograd.function import Function
        Function.apply = self.saved
        return False


def _host(t):
    return t.detach().cpu().numpy()


def _values_differ(a, b, exact: bool):
    if a.dtype.kind not in "fc":
        return None if np.array_equal(a, b) else "values differ"
    if exact:
        same = np.array_equal(a, b, equal_nan=True)
        if not same:
            with np.errstate(all="ignore"):
                d = np.nanmax(np.abs(a.astype(np.float64) - b.astype(np.float64))) if a.size else 0.0
            return f"values differ (max abs {d:g}, expected bit-equal)"
        return None
    tol = _TOL.get(str(a.dtype), 1e-5)
    if np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True):
        return None
    return "values differ beyond the dtype tolerance"


def _exc(e):
    """The exception in one line, with the innermost ember frame it passed (where a leak happened)."""
    where = ""
    tb = e.__traceback__
    while tb is not None:
        f = tb.tb_frame.f_code.co_filename
        if "/ember/" in f and "/tests/" not in f:
            where = f" [at {f[f.rindex('/ember/') + 1:]}:{tb.tb_lineno}]"
        tb = tb.tb_next
    return f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}{where}"


def run_device_case(spec, case, exact: bool = True) -> list[str]:
    """Differences between ember on "cpu" and ember on "cuda" for one case (empty: none)."""
    out = []
    want_grad = spec.grad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c_leaves, _, c_out, c_err = _call(ember, spec.fn, case, want_grad)
        with _DeviceGuard():
            d_leaves, _, d_out, d_err = _call(OnDevice("cuda"), spec.fn, case, want_grad)
    if c_err is not None or d_err is not None:
        if c_err is None:
            return [f"cuda raised {_exc(d_err)}; cpu returned"]
        if d_err is None:
            return [f"cpu raised {_exc(c_err)}; cuda returned"]
        if type(c_err) is not type(d_err):
            return [f"cpu raised {_exc(c_err)}; cuda raised {_exc(d_err)}"]
        return []
    co, do = _flatten(c_out), _flatten(d_out)
    if len(co) != len(do):
        return [f"{len(co)} outputs on cpu, {len(do)} on cuda"]
    for k, (c, d) in enumerate(zip(co, do)):
        if not isinstance(c, ember.Tensor):
            if isinstance(d, ember.Tensor):
                out.append(f"output {k}: cpu gave {type(c).__name__}, cuda a Tensor")
            elif c != d and not (isinstance(c, float) and c != c and d != d):
                out.append(f"output {k}: {c!r} on cpu, {d!r} on cuda")
            continue
        if not isinstance(d, ember.Tensor):
            out.append(f"output {k}: cuda gave {type(d).__name__}, cpu a Tensor")
            continue
        try:
            if d.device.type != "cuda":
                out.append(f"output {k}: on {d.device}, expected cuda (the op left the device)")
                continue
            if tuple(c.shape) != tuple(d.shape) or c.dtype != d.dtype:
                out.append(f"output {k}: {tuple(d.shape)} {d.dtype} on cuda, {tuple(c.shape)} {c.dtype} on cpu")
                continue
            if spec.check_layout and c.numel() > 1 and c.stride() != d.stride() and \
                    any(s > 1 for s in c.shape):
                out.append(f"output {k}: strides {d.stride()} on cuda, {c.stride()} on cpu")
            if c.requires_grad != d.requires_grad:
                out.append(f"output {k}: requires_grad {d.requires_grad} on cuda, {c.requires_grad} on cpu")
            diff = _values_differ(_host(d), _host(c), exact)
            if diff:
                out.append(f"output {k}: {diff}")
        except Exception as e:  # noqa: BLE001 - reading the device result failing is a difference
            out.append(f"output {k}: reading the cuda result raised {_exc(e)}")
    if out or not want_grad:
        return out
    return _grads(case, c_leaves, d_leaves, co, do, exact)


def _grads(case, c_leaves, d_leaves, co, do, exact):
    pairs = [(c, d) for c, d in zip(co, do) if isinstance(c, ember.Tensor) and c.requires_grad
             and c.dtype.kind == "f"]
    if not pairs:
        return []
    rng = np.random.default_rng(_grad_seed(case))
    gs = [rng.standard_normal(tuple(c.shape)).astype(dtype_name(c.dtype)) for c, _ in pairs]
    errs = []
    for which, outs in (("cpu", [c for c, _ in pairs]), ("cuda", [d for _, d in pairs])):
        try:
            ups = [ember.tensor(g.copy(), device=o.device) for g, o in zip(gs, outs)]
            if which == "cuda":
                with _DeviceGuard():
                    ember.autograd.backward(outs, ups)
            else:
                ember.autograd.backward(outs, ups)
            errs.append(None)
        except Exception as e:  # noqa: BLE001
            errs.append(e)
    if errs[0] is not None or errs[1] is not None:
        if (errs[0] is None) != (errs[1] is None):
            return [f"backward: cpu {'raised ' + _exc(errs[0]) if errs[0] else 'ran'}, "
                    f"cuda {'raised ' + _exc(errs[1]) if errs[1] else 'ran'}"]
        return []
    out = []
    for k, (cl, dl) in enumerate(zip(c_leaves, d_leaves)):
        cg, dg = cl.grad, dl.grad
        if (cg is None) != (dg is None):
            out.append(f"grad of input {k}: {'none' if dg is None else 'present'} on cuda, "
                       f"{'none' if cg is None else 'present'} on cpu")
            continue
        if cg is None:
            continue
        try:
            if dg.device.type != "cuda":
                out.append(f"grad of input {k}: on {dg.device}, expected cuda")
                continue
            diff = _values_differ(_host(dg), _host(cg), exact)
        except Exception as e:  # noqa: BLE001
            diff = f"reading it raised {_exc(e)}"
        if diff:
            out.append(f"grad of input {k}: {diff}")
    return out
