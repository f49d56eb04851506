"""Lazy modules (nn.LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*) and
nn.UninitializedParameter / UninitializedBuffer against PyTorch: the dry run infers the shapes and turns the
module into its non-lazy class; with torch's weights copied in, outputs, gradients and training steps match."""
import copy
import pickle

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.nn.parameter import is_lazy

RNG = np.random.default_rng(0)

# (ember/torch class name, constructor args, input shape)
CASES = [
    ("LazyLinear", (3,), (4, 5)),
    ("LazyLinear", (3, False), (2, 4, 5)),
    ("LazyConv1d", (4, 3), (2, 5, 9)),
    ("LazyConv2d", (4, 3), (2, 6, 7, 7)),
    ("LazyConv2d", (4, 3, 2, 1, 1, 2), (2, 6, 7, 7)),      # stride, padding, dilation, groups
    ("LazyConv3d", (2, 2), (1, 3, 4, 4, 4)),
    ("LazyConv2d", (3, 3), (5, 6, 6)),                       # unbatched: in_channels from shape[0]
    ("LazyConvTranspose1d", (4, 3, 2), (2, 5, 6)),
    ("LazyConvTranspose2d", (4, 3), (2, 3, 5, 5)),
    ("LazyConvTranspose3d", (2, 2), (1, 3, 3, 3, 3)),
    ("LazyBatchNorm1d", (), (6, 4)),
    ("LazyBatchNorm2d", (), (3, 4, 5, 5)),
    ("LazyBatchNorm3d", (), (2, 3, 2, 3, 3)),
    ("LazyInstanceNorm1d", (), (2, 4, 7)),
    ("LazyInstanceNorm2d", (), (2, 3, 5, 5)),
    ("LazyInstanceNorm3d", (), (2, 3, 3, 3, 3)),
]


def _copy_torch_state(e, t):
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})


@pytest.mark.parametrize("name,args,shape", CASES)
def test_dry_run_then_matches_torch(name, args, shape):
    t = getattr(torch.nn, name)(*args).double()
    e = getattr(nn, name)(*args).double()
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert e.has_uninitialized_params() and t.has_uninitialized_params()
    x = RNG.standard_normal(shape)
    xt = torch.tensor(x)
    t(xt)
    e(ember.tensor(x))
    assert type(e).__name__ == type(t).__name__ == name[4:]
    assert type(e) is getattr(nn, name[4:])
    assert repr(e) == repr(t)
    assert not any(is_lazy(v) for v in e.state_dict(keep_vars=True).values())
    assert not hasattr(e, "has_uninitialized_params") and not hasattr(t, "has_uninitialized_params")
    assert list(e.state_dict()) == list(t.state_dict())
    for (ke, ve), (kt, vt) in zip(e.state_dict().items(), t.state_dict().items()):
        assert ke == kt and tuple(ve.shape) == tuple(vt.shape)
        assert ve.dtype == ember.float64 or kt == "num_batches_tracked"
    _copy_torch_state(e, t)
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    yt, ye = t(xt), e(xe)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = RNG.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(g))
    ye.backward(ember.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    for (n, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=n)
    for (n, be), (_, bt) in zip(e.named_buffers(), t.named_buffers()):
        np.testing.assert_allclose(be.numpy(), bt.numpy(), rtol=1e-10, atol=1e-12, err_msg=n)


def test_default_initialization_distribution():
    e = nn.LazyLinear(7)
    e(ember.zeros(2, 100))
    w = e.weight.detach().numpy()
    assert w.shape == (7, 100) and np.abs(w).max() <= 0.1 and w.std() > 0.03     # U(-1/sqrt(100), 1/sqrt(100))
    bn = nn.LazyBatchNorm2d()
    bn(ember.randn(2, 3, 4, 4))
    assert bn.weight.tolist() == [1.0] * 3 and bn.bias.tolist() == [0.0] * 3
    assert int(bn.num_batches_tracked) == 1


def test_uninitialized_parameter_api_and_errors():
    p = nn.UninitializedParameter()
    assert nn.parameter.UninitializedParameter is nn.UninitializedParameter
    assert isinstance(p, nn.Parameter) and is_lazy(p) and p.requires_grad
    assert repr(p) == repr(torch.nn.UninitializedParameter()) == "<UninitializedParameter>"
    assert p.dtype == ember.float32
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        p.shape
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
        p + 1
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
        nn.LazyLinear(3).weight.sum()
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized"):
        p.share_memory_()
    q = copy.deepcopy(p)
    assert type(q) is nn.UninitializedParameter and q is not p
    r = pickle.loads(pickle.dumps(nn.UninitializedParameter(requires_grad=False)))
    assert type(r) is nn.UninitializedParameter and not r.requires_grad
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3) and p.requires_grad
    b = nn.UninitializedBuffer(dtype=ember.float64)
    assert repr(b) == "<UninitializedBuffer>" and not b.requires_grad
    b.materialize((4,))
    assert type(b) is ember.Tensor and b.dtype == ember.float64 and tuple(b.shape) == (4,)


def test_dtype_set_before_dry_run_is_kept():
    e = nn.LazyLinear(2, dtype=ember.float64)
    e(ember.zeros(1, 3, dtype=ember.float64))
    assert e.weight.dtype == ember.float64
    e = nn.LazyConv1d(2, 1).double()
    e(ember.zeros(1, 3, 4, dtype=ember.float64))
    assert e.weight.dtype == ember.float64 and e.bias.dtype == ember.float64


def test_initialize_parameters_not_implemented_and_mixin():
    class M(nn.modules.lazy.LazyModuleMixin, nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(NotImplementedError, match="initialize_parameters is not implemented for M"):
        M()(ember.zeros(1))

    class Half(nn.modules.lazy.LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.UninitializedParameter()

        def initialize_parameters(self, x):
            pass

        def forward(self, x):
            return x

    with pytest.raises(RuntimeError, match="module Half has not been fully initialized"):
        Half()(ember.zeros(1))


def test_conv_input_rank_and_groups_errors():
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d"):
        nn.LazyConv2d(2, 3)(ember.zeros(2, 3))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv2d(4, 1, groups=2)(ember.zeros(1, 3, 2, 2))


def test_state_dict_before_and_after_and_load_into_lazy():
    t = torch.nn.Sequential(torch.nn.LazyLinear(4), torch.nn.ReLU(), torch.nn.LazyLinear(2)).double()
    e = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2)).double()
    sd = e.state_dict()
    assert list(sd) == list(t.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(type(v) is nn.UninitializedParameter for v in sd.values())
    # an uninitialized state loads into an uninitialized module (nothing to copy)
    e2 = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2))
    assert e2.load_state_dict(sd) is not None and e2[0].has_uninitialized_params()
    # an initialized state materializes the lazy module's tensors; the class changes at the first forward
    t(torch.zeros(1, 3, dtype=torch.float64))
    _copy_torch_state(e, t)
    assert type(e[0]) is nn.LazyLinear and not e[0].has_uninitialized_params() and e[0].in_features == 0
    x = RNG.standard_normal((5, 3))
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    assert type(e[0]) is nn.Linear and e[0].in_features == 3
    # loading an uninitialized state into an initialized module: torch's shape error
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        e.load_state_dict(nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2)).state_dict())


def test_lazy_batchnorm_state_dict_load():
    t = torch.nn.LazyBatchNorm1d().double()
    t(torch.tensor(RNG.standard_normal((6, 3))))
    e = nn.LazyBatchNorm1d().double()
    _copy_torch_state(e, t)
    np.testing.assert_array_equal(e.running_mean.numpy(), t.running_mean.numpy())
    assert int(e.num_batches_tracked) == 1
    x = RNG.standard_normal((6, 3))
    e.eval(), t.eval()
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    t2 = torch.nn.LazyBatchNorm1d().double()
    t2.load_state_dict(t.state_dict())
    t2.eval()(torch.tensor(x))
    assert type(e) is nn.BatchNorm1d and repr(e) == repr(t2)    # num_features stays 0, as in torch


@pytest.mark.filterwarnings("ignore:input.s size at dim=1")
def test_lazy_instance_norm_without_parameters():
    t = torch.nn.LazyInstanceNorm1d(affine=False, track_running_stats=False).double()
    e = nn.LazyInstanceNorm1d(affine=False, track_running_stats=False).double()
    assert not e.has_uninitialized_params() and list(e.state_dict()) == []
    x = RNG.standard_normal((2, 3, 5))
    np.testing.assert_allclose(e(ember.tensor(x)).numpy(), t(torch.tensor(x)).numpy(), rtol=1e-10)
    assert type(e) is nn.InstanceNorm1d and repr(e) == repr(t)


def _mlp(lib):
    n = lib.nn
    return n.Sequential(n.LazyConv1d(4, 3), n.LazyBatchNorm1d(), n.ReLU(), n.Flatten(), n.LazyLinear(5),
                        n.Tanh(), n.LazyLinear(2)).double()


@pytest.mark.parametrize("optimizer_before_dry_run", [False, True])
def test_small_lazy_model_trains_like_torch(optimizer_before_dry_run):
    t, e = _mlp(torch), _mlp(ember)
    x = RNG.standard_normal((4, 3, 8))
    y = RNG.standard_normal((4, 2))
    if optimizer_before_dry_run:    # the parameters are materialized in place: the optimizer keeps them
        ot = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
        oe = ember.optim.SGD(e.parameters(), lr=0.1, momentum=0.9)
    with torch.no_grad():
        t(torch.zeros(2, 3, 8, dtype=torch.float64))
    with ember.no_grad():
        e(ember.zeros(2, 3, 8, dtype=ember.float64))
    _copy_torch_state(e, t)
    if not optimizer_before_dry_run:
        ot = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
        oe = ember.optim.SGD(e.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        ot.zero_grad(), oe.zero_grad()
        torch.nn.functional.mse_loss(t(torch.tensor(x)), torch.tensor(y)).backward()
        ember.nn.functional.mse_loss(e(ember.tensor(x)), ember.tensor(y)).backward()
        ot.step(), oe.step()
    assert [type(m).__name__ for m in e] == [type(m).__name__ for m in t]
    for (k, ve), (_, vt) in zip(e.state_dict().items(), t.state_dict().items()):
        np.testing.assert_allclose(ve.numpy(), vt.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


def test_lazy_model_deepcopy_pickle_and_share_memory():
    m = nn.Sequential(nn.LazyLinear(3), nn.LazyBatchNorm1d())
    for m2 in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        m2(ember.randn(4, 5))
        assert [type(c) for c in m2] == [nn.Linear, nn.BatchNorm1d] and tuple(m2[0].weight.shape) == (3, 5)
    assert [type(c) for c in m] == [nn.LazyLinear, nn.LazyBatchNorm1d] and m[0].has_uninitialized_params()
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized"):
        m.share_memory()
