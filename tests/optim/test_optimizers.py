"""Every optimizer, step by step against ``torch.optim`` (the oracle) for 50+ steps and each option combination,
plus state_dict save/resume, parameter groups, LBFGS on Rosenbrock and the user-facing errors."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

import ember
import ember.optim as eoptim

STEPS = 60
SHAPES = [(3, 4), (5,)]

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.05, nesterov=True, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.2, eps=1e-6, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adamax", dict(maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, momentum_decay=1e-2)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-4, 0.5))),
    ("Rprop", dict(lr=0.02, maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=1e-3, alpha=0.5, t0=10, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=5, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for n, kw in CASES]


def _init_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def _grad_fn(seed=1):
    """Gradients of a quadratic around a fixed target plus fixed noise: g_t = 2 (p - target) + noise_t,
    computed from each library's own current parameters, so any divergence would compound."""
    rng = np.random.default_rng(seed)
    targets = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    noise = [[rng.standard_normal(s).astype(np.float32) * 0.5 for s in SHAPES] for _ in range(2 * STEPS)]

    def grads(step, arrays):
        return [(2 * (a - t) + n).astype(np.float32) for a, t, n in zip(arrays, targets, noise[step])]
    return grads


def _set_grads_ember(params, gs):
    for p, g in zip(params, gs):
        p.grad = ember.tensor(g)


def _set_grads_torch(params, gs):
    for p, g in zip(params, gs):
        p.grad = torch.tensor(g)


def _ember_params(arrays):
    return [ember.tensor(a.copy(), requires_grad=True) for a in arrays]


def _torch_params(arrays):
    return [torch.tensor(a.copy(), requires_grad=True) for a in arrays]


def _sd_value(v):
    if isinstance(v, ember.Tensor):
        return v.numpy()
    if isinstance(v, torch.Tensor):
        return v.detach().numpy()
    return np.asarray(v)


def _assert_state_equal(e_opt, t_opt, atol=1e-5, rtol=1e-4):
    es, ts = e_opt.state_dict(), t_opt.state_dict()
    assert set(es["state"]) == set(ts["state"]), f"state indices {set(es['state'])} != {set(ts['state'])}"
    for idx, tstate in ts["state"].items():
        estate = es["state"][idx]
        assert set(estate) == set(tstate), f"state keys {sorted(estate)} != torch {sorted(tstate)}"
        for k, tv in tstate.items():
            np.testing.assert_allclose(_sd_value(estate[k]), _sd_value(tv), atol=atol, rtol=rtol,
                                       err_msg=f"state[{idx}][{k!r}]")
    for eg, tg in zip(es["param_groups"], ts["param_groups"]):
        assert eg["params"] == tg["params"]
        for k in ("lr", "weight_decay", "momentum", "betas", "eps", "amsgrad", "maximize"):
            if k in tg:
                assert eg[k] == tg[k], f"group option {k}: {eg[k]} != {tg[k]}"


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_matches_torch_step_by_step(name, kwargs):
    arrays = _init_arrays()
    grads = _grad_fn()
    ep, tp = _ember_params(arrays), _torch_params(arrays)
    e_opt = getattr(eoptim, name)(ep, **kwargs)
    t_opt = getattr(torch.optim, name)(tp, **kwargs)
    for step in range(STEPS):
        _set_grads_ember(ep, grads(step, [p.detach().numpy() for p in ep]))
        _set_grads_torch(tp, grads(step, [p.detach().numpy() for p in tp]))
        e_opt.step()
        t_opt.step()
        for i, (a, b) in enumerate(zip(ep, tp)):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=2e-5, rtol=1e-4,
                                       err_msg=f"{name} {kwargs} param {i} at step {step}")
            assert a.dtype == np.float32
    _assert_state_equal(e_opt, t_opt)


@pytest.mark.parametrize("name,kwargs", CASES[1::3], ids=IDS[1::3])
def test_state_dict_resume_same_trajectory(name, kwargs):
    arrays = _init_arrays(2)
    grads = _grad_fn(3)
    half = STEPS // 2
    ep = _ember_params(arrays)
    opt = getattr(eoptim, name)(ep, **kwargs)
    for step in range(STEPS):
        if step == half:
            saved = copy.deepcopy(opt.state_dict())
            saved_params = [p.detach().numpy().copy() for p in ep]
        _set_grads_ember(ep, grads(step, [p.detach().numpy() for p in ep]))
        opt.step()
    # the checkpoint is plain tensors + JSON-able values
    json.dumps({"state": {k: {kk: (_sd_value(vv).tolist()) for kk, vv in v.items()} for k, v in saved["state"].items()},
                "param_groups": saved["param_groups"]})
    ep2 = _ember_params(saved_params)
    opt2 = getattr(eoptim, name)(ep2, **kwargs)
    opt2.load_state_dict(saved)
    for step in range(half, STEPS):
        _set_grads_ember(ep2, grads(step, [p.detach().numpy() for p in ep2]))
        opt2.step()
    for a, b in zip(ep, ep2):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-7, rtol=1e-6)


def test_load_torch_state_dict_into_ember():
    """A torch Adam checkpoint (torch tensors, tensor steps) resumes in ember on the same trajectory."""
    arrays = _init_arrays(4)
    grads = _grad_fn(5)
    tp = _torch_params(arrays)
    t_opt = torch.optim.Adam(tp, lr=0.01, amsgrad=True)
    for step in range(10):
        _set_grads_torch(tp, grads(step, [p.detach().numpy() for p in tp]))
        t_opt.step()
    ep = _ember_params([p.detach().numpy() for p in tp])
    e_opt = eoptim.Adam(ep, lr=0.5)
    e_opt.load_state_dict(t_opt.state_dict())
    assert e_opt.param_groups[0]["lr"] == 0.01
    for step in range(10, 30):
        _set_grads_torch(tp, grads(step, [p.detach().numpy() for p in tp]))
        _set_grads_ember(ep, grads(step, [p.detach().numpy() for p in ep]))
        t_opt.step()
        e_opt.step()
    for a, b in zip(ep, tp):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=2e-5, rtol=1e-4)


def test_param_groups_per_group_options_and_skipped_none_grad():
    arrays = _init_arrays(6)
    grads = _grad_fn(7)
    ep, tp = _ember_params(arrays), _torch_params(arrays)
    extra_e, extra_t = ember.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    e_opt = eoptim.SGD([{"params": [ep[0]]}, {"params": [ep[1]], "lr": 0.01, "momentum": 0.5}], lr=0.1)
    t_opt = torch.optim.SGD([{"params": [tp[0]]}, {"params": [tp[1]], "lr": 0.01, "momentum": 0.5}], lr=0.1)
    e_opt.add_param_group({"params": extra_e, "lr": 1.0})
    t_opt.add_param_group({"params": extra_t, "lr": 1.0})
    assert e_opt.param_groups[1]["momentum"] == 0.5 and e_opt.param_groups[0]["momentum"] == 0
    assert e_opt.param_groups[2]["lr"] == 1.0
    for step in range(50):
        _set_grads_ember(ep, grads(step, [p.detach().numpy() for p in ep]))
        _set_grads_torch(tp, grads(step, [p.detach().numpy() for p in tp]))
        e_opt.step()
        t_opt.step()
    for a, b in zip(ep, tp):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_array_equal(extra_e.detach().numpy(), np.ones(3, np.float32))   # grad None: untouched
    _assert_state_equal(e_opt, t_opt)


def test_step_bumps_version_and_closure_returns_loss():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = eoptim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss
    v0 = w._version[0]
    loss = opt.step(closure)
    assert float(loss) == pytest.approx(5.0)
    assert w._version[0] > v0
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6], rtol=1e-6)


def test_zero_grad():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = eoptim.Adam([w])
    (w * w).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_errors_name_the_optimizer_and_value():
    w = ember.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"Adam: invalid beta parameter at index 0: 1.5"):
        eoptim.Adam([w], betas=(1.5, 0.999))
    with pytest.raises(ValueError, match=r"SGD: invalid learning rate: -1"):
        eoptim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        eoptim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="RMSprop: invalid alpha value"):
        eoptim.RMSprop([w], alpha=-0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        eoptim.SGD([], lr=0.1)
    with pytest.raises(TypeError):
        eoptim.SGD(w, lr=0.1)
    opt = eoptim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(ValueError, match="non-leaf"):
        eoptim.SGD([w * 2], lr=0.1)


def test_load_state_dict_refuses_mismatched_groups():
    a, b = ember.zeros(2, requires_grad=True), ember.zeros(3, requires_grad=True)
    sd = eoptim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="size 2.*group 0"):
        eoptim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="parameter groups"):
        eoptim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


def test_state_dict_json_keys_accepted():
    """After a JSON round trip the state's integer keys are strings; loading still works."""
    w = ember.tensor([1.0, -2.0], requires_grad=True)
    opt = eoptim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = ember.tensor([1.0, 1.0])
    opt.step()
    sd = opt.state_dict()
    # tensors go to a tensor file (ember.io), the rest to JSON: integer keys come back as strings
    js = {"state": {str(k): v for k, v in sd["state"].items()},
          "param_groups": json.loads(json.dumps(sd["param_groups"]))}
    opt2 = eoptim.SGD([w], lr=0.5, momentum=0.9)
    opt2.load_state_dict(js)
    assert opt2.param_groups[0]["lr"] == 0.1
    buf = opt2.state[w]["momentum_buffer"]
    assert isinstance(buf, ember.Tensor) and buf.dtype == np.float32
    np.testing.assert_array_equal(buf.numpy(), [1.0, 1.0])


def _rosenbrock(m, x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


@pytest.mark.parametrize("kwargs", [dict(line_search_fn="strong_wolfe"),
                                    dict(line_search_fn="strong_wolfe", history_size=3, max_iter=7),
                                    dict(lr=0.1, max_iter=5),
                                    dict(lr=0.5, history_size=5, tolerance_change=1e-6)],
                         ids=["wolfe", "wolfe-h3", "fixed-lr", "fixed-h5"])
def test_lbfgs_rosenbrock_matches_torch(kwargs):
    x0 = np.array([-1.5, 2.0, 0.5, -0.7], dtype=np.float64)
    ex, tx = ember.tensor(x0.copy(), requires_grad=True), torch.tensor(x0.copy(), requires_grad=True)
    e_opt, t_opt = eoptim.LBFGS([ex], **kwargs), torch.optim.LBFGS([tx], **kwargs)

    def closure_for(m, x, opt):
        def closure():
            opt.zero_grad()
            loss = _rosenbrock(m, x)
            loss.backward()
            return loss
        return closure
    for outer in range(8):
        el = e_opt.step(closure_for(ember, ex, e_opt))
        tl = t_opt.step(closure_for(torch, tx, t_opt))
        np.testing.assert_allclose(float(el), float(tl.detach()), rtol=1e-7, atol=1e-10, err_msg=f"loss at step {outer}")
        np.testing.assert_allclose(ex.detach().numpy(), tx.detach().numpy(), rtol=1e-6, atol=1e-9, err_msg=f"x at {outer}")
        es, ts = e_opt.state[ex], t_opt.state[tx]
        assert es["func_evals"] == ts["func_evals"] and es["n_iter"] == ts["n_iter"]
    if kwargs.get("line_search_fn"):   # it reached a stationary point (4-D Rosenbrock's local minimum here)
        ex.grad = None
        _rosenbrock(ember, ex).backward()
        assert np.abs(ex.grad.numpy()).max() < 1e-2


def test_lbfgs_float32_and_errors():
    x0 = np.array([-1.2, 1.0], dtype=np.float32)
    ex, tx = ember.tensor(x0.copy(), requires_grad=True), torch.tensor(x0.copy(), requires_grad=True)
    e_opt = eoptim.LBFGS([ex], line_search_fn="strong_wolfe", max_iter=100)
    t_opt = torch.optim.LBFGS([tx], line_search_fn="strong_wolfe", max_iter=100)
    for m, x, opt in ((ember, ex, e_opt), (torch, tx, t_opt)):
        def closure():
            opt.zero_grad()
            loss = _rosenbrock(m, x)
            loss.backward()
            return loss
        opt.step(closure)
    np.testing.assert_allclose(ex.detach().numpy(), tx.detach().numpy(), atol=1e-3)
    with pytest.raises(ValueError, match="line_search_fn"):
        eoptim.LBFGS([ex], line_search_fn="armijo")
    with pytest.raises(ValueError, match="parameter groups"):
        eoptim.LBFGS([{"params": [ex]}, {"params": [ember.zeros(1, requires_grad=True)]}])
    with pytest.raises(RuntimeError, match="closure"):
        e_opt.step()


_LARGE = [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.01, amsgrad=True)),
          ("AdamW", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
          ("Adagrad", dict(lr=0.1, lr_decay=0.05)), ("Adadelta", dict(weight_decay=0.1)),
          ("Adamax", dict(lr=0.01)), ("NAdam", dict(lr=0.01)), ("RAdam", dict(lr=0.01))]


@pytest.mark.parametrize("name,kwargs", _LARGE, ids=[n for n, _ in _LARGE])
def test_large_parameters_match_torch(name, kwargs):
    # a 300K-element parameter: past the size from which ember updates a parameter in L2-sized blocks (and,
    # at 2+ threads, splits the step among threads)
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(600, 500), (300,)]]
    ep, tp = _ember_params(arrays), _torch_params(arrays)
    e_opt = getattr(eoptim, name)(ep, **kwargs)
    t_opt = getattr(torch.optim, name)(tp, **kwargs)
    for step in range(6):
        gs = [rng.standard_normal(a.shape).astype(np.float32) for a in arrays]
        _set_grads_ember(ep, gs)
        _set_grads_torch(tp, gs)
        e_opt.step()
        t_opt.step()
    for i, (a, b) in enumerate(zip(ep, tp)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=2e-5, rtol=1e-4,
                                   err_msg=f"{name} param {i}")
    _assert_state_equal(e_opt, t_opt)
