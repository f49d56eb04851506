"""Issue 12: the deprecated functions PyTorch 2.13 still runs warn as there, with the same category and text:
once per process (PyTorch's ``TORCH_WARN_ONCE``, function and Tensor method together) for ``torch.qr``/``lu``/
``lu_solve``/``cholesky``/``chain_matmul``/``triangular_solve``/``set_default_tensor_type``, ``meshgrid``
without ``indexing``, ``cross`` without ``dim`` and ``x.T`` on a tensor that is not 2-D; at every call for
``torch.range``, a uint8 or non-tuple-sequence index, the losses' legacy ``size_average``/``reduce``,
``scheduler.step(epoch)`` (and a scheduler stepped before its optimizer) and (FutureWarning)
``testing.assert_allclose``, ``nn.utils.clip_grad_norm``, ``Module.state_dict``'s positional arguments,
``backends.cuda.sdp_kernel`` and ``cuda.amp.autocast``/``GradScaler``.  Attributed to the caller's line."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings

import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from ember import _deprecation  # noqa: E402

# name -> (the two calls made one after the other, function then method where both exist)
CALLS = {
    "qr": "T.qr(A); A.qr()",
    "lu": "T.lu(A); A.lu()",
    "lu_solve": "T.lu_solve(B, *T.linalg.lu_factor(A)); B.lu_solve(*T.linalg.lu_factor(A))",
    "cholesky": "T.cholesky(S); S.cholesky(upper=True)",
    "chain_matmul": "T.chain_matmul(A, A); T.chain_matmul(A, A, A)",
    "triangular_solve": "T.triangular_solve(B, A.triu()); B.triangular_solve(A.triu())",
    "meshgrid": "T.meshgrid(A[0], A[1]); T.meshgrid([A[0], A[1]])",
    "cross": "T.cross(A, A); A.cross(A)",
    "range": "T.range(0, 3); T.range(0, 1, 0.5)",
    "meshgrid_ij": "T.meshgrid(A[0], A[1], indexing='ij')",
    "cross_dim": "T.cross(A, A, dim=1)",
    "T": "A[0].T; T.ones(2, 2, 2).T; A.T",
    "T0d": "T.tensor(1.0).T; T.tensor(2.0).T",
    "set_default_tensor_type": "T.set_default_tensor_type(T.FloatTensor); T.set_default_tensor_type(T.FloatTensor)",
    "assert_allclose": "T.testing.assert_allclose(A, A); T.testing.assert_allclose(A, A)",
    "size_average": "T.nn.MSELoss(size_average=False); T.nn.functional.mse_loss(A, A, reduce=False); "
                    "T.nn.functional.nll_loss(A, T.tensor([0, 1, 2]), size_average=True, reduce=True)",
    "uint8_index": "A[T.tensor([1, 0, 1], dtype=T.uint8)]; A[T.tensor([1, 0, 1], dtype=T.uint8)]",
    "non_tuple_index": "A[[[0, 1], [1, 2]]]; A[[[0, 1], [1, 2]]]",
    "lr_scheduler": "p = [T.nn.Parameter(A.clone())]; o = T.optim.SGD(p, 0.1); s = T.optim.lr_scheduler.StepLR(o, 2); "
                    "s.step(); o.step(); s.step(3); s.step(); T.optim.lr_scheduler.ReduceLROnPlateau(o).step(1.0, 5)",
    "state_dict_positional": "m = T.nn.Linear(2, 2); m.state_dict({}, 'x'); m.state_dict(None); "
                             "m.state_dict(destination=None)",
    "sdp_kernel": "with T.backends.cuda.sdp_kernel(enable_flash=False): pass",
    "cuda_amp": "T.cuda.amp.GradScaler(1024.0, enabled=False); T.cuda.amp.autocast(enabled=False)",
    "clip_grad_norm": "p = [T.nn.Parameter(A.clone())]; T.nn.utils.clip_grad_norm(p, 1.0); "
                      "T.nn.utils.clip_grad_norm(p, 1.0)",
}

_PROG = r'''
import json, re, warnings
import {lib} as T, {lib}.nn, {lib}.optim, {lib}.testing, {lib}.backends.cuda
A = T.tensor([[2., 1., 0.], [1., 3., 1.], [0., 1., 4.]]); B = T.tensor([[1., 2.], [3., 4.], [5., 6.]])
S = A @ A.T + T.eye(3)
out = {{}}
for name, call in json.loads({calls!r}).items():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        exec(call)
    out[name] = [[x.category.__name__, re.sub(r" \(Triggered internally at [^)]*\)", "", str(x.message))]
                 for x in w]
print(json.dumps(out))
'''


def _warnings_of(*libs):
    """Each call's warnings, for each library in a fresh process (both warn once per process), run at once."""
    procs = [subprocess.Popen([sys.executable, "-c", _PROG.format(lib=lib, calls=json.dumps(CALLS))],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for lib in libs]
    outs = []
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    return outs


def test_deprecation_warnings_match_torch():
    t, e = _warnings_of("torch", "ember")
    assert t["qr"] and t["range"] and len(t["range"]) == 2      # the oracle warns (once; range at each call)
    for name in CALLS:
        assert e[name] == t[name], name


def test_warning_names_the_callers_line(monkeypatch):
    monkeypatch.setattr(_deprecation, "_WARNED", set())
    A = ember.eye(3) + 1
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        A.qr()                                  # through the Tensor method wrapper
        ember.chain_matmul(A, A)                # through the out= def
        ember.qr(A)                             # once: no second warning
    assert [x.filename for x in w] == [__file__] * 2
    assert re.match(r"torch\.qr is deprecated", str(w[0].message))


def test_x_T_inside_ember_does_not_warn(monkeypatch):
    """``x.T`` warns for the user's own use only (ember's code is not the caller's concern), and then once."""
    monkeypatch.setattr(_deprecation, "_WARNED", set())
    v = ember.ones(3)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        exec(compile("v.T", _deprecation._ROOT + "ops/_as_if_ember.py", "exec"), {"v": v})    # ember's own use
        assert not w
        v.T
        v.T
    assert len(w) == 1 and w[0].filename == __file__
