"""Module system: registration, traversal, modes, hooks, state_dict round trips with PyTorch, load refusal,
repr, containers."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from tests.helpers import assert_close


def _pair():
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    e = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    return e, t


def test_torch_state_dict_loads_and_outputs_match():
    e, t = _pair()
    res = e.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert list(e.state_dict()) == list(t.state_dict())
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    assert_close(e(ember.tensor(x)), t(torch.tensor(x)), atol=1e-6)
    # and back: ember -> torch
    t2 = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    t2.load_state_dict({k: torch.tensor(v.numpy()) for k, v in e.state_dict().items()})
    assert_close(e(ember.tensor(x)), t2(torch.tensor(x)), atol=1e-6)
    # torch tensors directly and ember tensors are accepted too
    e.load_state_dict(t.state_dict())
    e.load_state_dict(e.state_dict())


def test_load_refusal_changes_nothing_and_names_keys():
    e, t = _pair()
    before = {k: v.numpy().copy() for k, v in e.state_dict().items()}
    sd = {k: v.numpy() for k, v in t.state_dict().items()}
    sd["0.weight"] = np.zeros((5, 6))        # good, would be copied first ...
    sd["2.weight"] = np.zeros((4, 5))        # ... but this one has the wrong shape
    del sd["2.bias"]
    sd["3.weight"] = np.zeros(1)
    with pytest.raises(RuntimeError) as ei:
        e.load_state_dict(sd)
    msg = str(ei.value)
    assert '"2.bias"' in msg and '"3.weight"' in msg and "size mismatch for 2.weight" in msg
    for k, v in e.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    # non-strict: missing/unexpected reported, shape mismatch still refused
    sd["2.weight"] = np.zeros((3, 5))
    res = e.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["2.bias"] and res.unexpected_keys == ["3.weight"]
    assert np.all(e[0].weight.detach().numpy() == 0)


def test_load_assign_replaces_parameters():
    e, t = _pair()
    sd = {k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()}
    e.load_state_dict(sd, assign=True)
    assert isinstance(e[0].weight, nn.Parameter) and e[0].weight.requires_grad
    assert e[0].weight._data is sd["0.weight"]._data


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.register_buffer("running", ember.zeros(4))
        self.register_buffer("scratch", ember.zeros(2), persistent=False)
        self.scale = nn.Parameter(ember.ones(1))
        self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
        self.tied = self.fc       # shared module: its parameters count once

    def forward(self, x):
        x = self.fc(x)
        for b in self.blocks:
            x = b(x)
        return x * self.scale + self.running


def test_registration_and_traversal_names_match_torch_conventions():
    m = Net()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "fc.weight", "fc.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                     "blocks.1.bias"]
    assert len(list(m.named_parameters(remove_duplicate=False))) == 9
    assert list(m.state_dict()) == ["scale", "running", "fc.weight", "fc.bias", "blocks.0.weight",
                                    "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "tied.weight",
                                    "tied.bias"]     # PyTorch lists a shared module under both names
    assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]
    assert [n for n, _ in m.named_modules()] == ["", "fc", "blocks", "blocks.0", "blocks.1"]
    assert [n for n, _ in m.named_children()] == ["fc", "blocks"]
    assert m.get_submodule("blocks.1") is m.blocks[1]
    assert m.get_parameter("blocks.0.bias") is m.blocks[0].bias
    assert len(list(m.parameters(recurse=False))) == 1
    del m.scale
    assert "scale" not in dict(m.named_parameters())
    with pytest.raises(AttributeError, match="nope"):
        m.nope
    with pytest.raises(TypeError, match="parameter 'weight'"):
        m.fc.weight = ember.zeros(4, 3)
    with pytest.raises(KeyError):
        m.register_buffer("a.b", ember.zeros(1))


def test_state_dict_detached_and_keep_vars():
    m = Net()
    sd = m.state_dict()
    assert not sd["fc.weight"].requires_grad and sd["fc.weight"]._data is m.fc.weight._data
    assert m.state_dict(keep_vars=True)["fc.weight"] is m.fc.weight
    assert isinstance(sd, OrderedDict)


def test_train_eval_zero_grad_requires_grad_apply_to():
    m = Net()
    m.eval()
    assert all(not x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    m(ember.randn(2, 3)).sum().backward()
    assert m.fc.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert np.all(m.fc.weight.grad.numpy() == 0)
    m.zero_grad()
    assert m.fc.weight.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "Net" and seen.count("Linear") == 3   # children() yields the shared fc once, as torch
    w = m.fc.weight
    m.double()
    assert m.fc.weight is w and w.dtype == np.float64 and m.running.dtype == np.float64
    m.to(ember.float32)
    assert w.dtype == np.float32
    with pytest.raises(ValueError):
        m.train("yes")


def test_forward_hooks():
    lin = nn.Linear(3, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    y = lin(ember.randn(4, 3))
    np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy() + 1, (4, 2)))
    assert calls == [(4, 2)]
    h1.remove(), h2.remove()
    x = ember.randn(4, 3)
    assert_close(lin(x), x.detach() @ lin.weight.detach().T + lin.bias.detach(), atol=1e-6)


def test_full_backward_hook_matches_torch():
    e, t = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    e.load_state_dict(t.state_dict())
    got = {}
    e.register_full_backward_hook(lambda m, gi, go: got.update(e=(gi, go)))
    t.register_full_backward_hook(lambda m, gi, go: got.update(t=(gi, go)))
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (e(ex) ** 2).sum().backward()
    (t(tx) ** 2).sum().backward()
    assert_close(got["e"][0][0], got["t"][0][0], atol=1e-5)
    assert_close(got["e"][1][0], got["t"][1][0], atol=1e-5)
    assert_close(ex.grad, tx.grad, atol=1e-5)


def test_repr_matches_torch():
    e = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2, bias=False))
    t = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                            torch.nn.Linear(8, 2, bias=False))
    assert repr(e) == repr(t)
    e2 = nn.ModuleDict({"a": nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Linear(2, 2)]), "b": nn.Flatten()})
    t2 = torch.nn.ModuleDict({"a": torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Linear(2, 2)]),
                              "b": torch.nn.Flatten()})
    assert repr(e2) == repr(t2)


def test_sequential_container_ops():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3)]
    s = nn.Sequential(*layers)
    assert len(s) == 3 and s[-1] is layers[2] and list(s) == layers
    assert isinstance(s[:2], nn.Sequential) and len(s[:2]) == 2
    s.append(nn.Tanh())
    s.insert(0, nn.Identity())
    assert [type(m).__name__ for m in s] == ["Identity", "Linear", "ReLU", "Linear", "Tanh"]
    assert list(s.state_dict()) == ["1.weight", "1.bias", "3.weight", "3.bias"]
    del s[0]
    assert list(s.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    s.extend([nn.Sigmoid()])
    assert len(s) == 5
    od = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(od.state_dict()) == ["fc.weight", "fc.bias"] and od.act is od[1]
    with pytest.raises(IndexError):
        s[10]


def test_parameter_containers_and_parameter():
    pl = nn.ParameterList([ember.ones(2), nn.Parameter(ember.zeros(3))])
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"] and isinstance(pl[0], nn.Parameter)
    pd = nn.ParameterDict({"a": ember.ones(2)})
    pd["b"] = nn.Parameter(ember.zeros(1))
    assert list(pd.state_dict()) == ["a", "b"] and "a" in pd
    base = ember.randn(2, 2)
    p = nn.Parameter(base)
    assert p._data is base._data and p.requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q._data is not p._data and q.requires_grad
    r = pickle.loads(pickle.dumps(p))
    assert isinstance(r, nn.Parameter) and np.array_equal(r.detach().numpy(), p.detach().numpy())
    with pytest.raises(RuntimeError):
        nn.Parameter(ember.tensor([1, 2]))


def test_deepcopy_module_and_buffer_marker():
    m = Net()
    m2 = copy.deepcopy(m)
    assert m2.fc.weight is not m.fc.weight and m2.tied is m2.fc
    np.testing.assert_array_equal(m2.fc.weight.detach().numpy(), m.fc.weight.detach().numpy())
    mod = nn.Module()
    mod.count = nn.Buffer(ember.tensor(3))
    mod.tmp = nn.Buffer(ember.zeros(1), persistent=False)
    assert list(mod.state_dict()) == ["count"] and [n for n, _ in mod.named_buffers()] == ["count", "tmp"]


def _reassign_orders(lib):
    class M(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(1, 1)
            self.b = lib.nn.Linear(1, 1)
            self.p = lib.nn.Parameter(lib.ones(1))
            self.q = lib.nn.Parameter(lib.ones(1))

    m = M()
    m.a = lib.nn.Linear(1, 2)                    # re-assigned child: stays first
    m.p = lib.nn.Parameter(lib.zeros(1))         # re-assigned parameter: stays first
    out = [[n for n, _ in m.named_children()], [n for n, _ in m.named_parameters()], list(m.state_dict()),
           [tuple(p.shape) for p in m.parameters()]]
    m.a = None
    out.append([n for n, _ in m.named_children()])
    m.a = lib.nn.Linear(1, 3)                    # a child set to None and back keeps its slot too
    out.append(list(m.state_dict()))
    m.b = lib.nn.Parameter(lib.ones(1))          # a child replaced by a parameter moves to the parameters
    out.append(([n for n, _ in m.named_children()], [n for n, _ in m.named_parameters()]))
    return out


def test_reassigned_child_and_parameter_keep_their_position():
    assert _reassign_orders(ember) == _reassign_orders(torch)


def test_reassigning_a_buffer_keeps_its_position_as_torch():
    # ``self.count += 1`` re-assigns the buffer: PyTorch overwrites the entry in place, so named_buffers() and
    # state_dict() keep their order (ember moved it to the end)
    import torch

    def build(m):
        mod = m.nn.Module()
        mod.register_buffer("a", m.zeros(1))
        mod.register_buffer("count", m.tensor(0))
        mod.register_buffer("b", m.zeros(1), persistent=False)
        mod.register_buffer("c", m.zeros(1))
        mod.count += 1
        mod.b = m.ones(1)
        mod.a = m.nn.Buffer(m.ones(2))
        return mod
    e, t = build(ember), build(torch)
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()] == ["a", "count", "b", "c"]
    assert list(e.state_dict()) == list(t.state_dict()) == ["a", "count", "c"]
    assert e.count.item() == 1 and e.a.shape == (2,)
