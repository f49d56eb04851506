"""nn.utils: BatchNorm fusion (fuse_conv_bn_*/fuse_linear_bn_*), clip_grads_with_norm_, skip_init and the conv
weight memory-format converters, against torch."""
import numpy as np
import pytest
import torch

import ember
from ember import nn


def _bn_pair(cls_e, cls_t, n, rng):
    te, tt = cls_e(n).double(), cls_t(n).double()
    for name in ("weight", "bias", "running_mean"):
        v = rng.standard_normal(n)
        getattr(tt, name).data = torch.tensor(v)
        getattr(te, name).data = ember.tensor(v)
    v = rng.uniform(0.5, 2.0, n)
    tt.running_var.data, te.running_var.data = torch.tensor(v), ember.tensor(v)
    return te.eval(), tt.eval()


def _copy(te, tt):
    te.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tt.state_dict().items()})


@pytest.mark.parametrize("kind", ["conv2d", "convT2d", "conv1d_nobias"])
def test_fuse_conv_bn_eval_as_torch(kind):
    rng = np.random.default_rng(0)
    if kind == "conv2d":
        ce, ct, transpose, bn = nn.Conv2d(3, 4, 3).double(), torch.nn.Conv2d(3, 4, 3).double(), False, "2d"
    elif kind == "convT2d":
        ce, ct, transpose, bn = (nn.ConvTranspose2d(3, 4, 3).double(), torch.nn.ConvTranspose2d(3, 4, 3).double(),
                                 True, "2d")
    else:
        ce, ct, transpose, bn = (nn.Conv1d(3, 4, 3, bias=False).double(),
                                 torch.nn.Conv1d(3, 4, 3, bias=False).double(), False, "1d")
    _copy(ce, ct)
    be, bt = _bn_pair(getattr(nn, f"BatchNorm{bn}"), getattr(torch.nn, f"BatchNorm{bn}"), 4, rng)
    fe = nn.utils.fuse_conv_bn_eval(ce.eval(), be, transpose=transpose)
    ft = torch.nn.utils.fuse_conv_bn_eval(ct.eval(), bt, transpose=transpose)
    assert fe is not ce and isinstance(fe.weight, nn.Parameter) and fe.weight.requires_grad
    np.testing.assert_allclose(fe.weight.detach().numpy(), ft.weight.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(fe.bias.detach().numpy(), ft.bias.detach().numpy(), rtol=1e-12, atol=1e-14)
    x = rng.standard_normal((2, 3, 6, 6) if bn == "2d" else (2, 3, 7))
    np.testing.assert_allclose(fe(ember.tensor(x)).detach().numpy(), be(ce(ember.tensor(x))).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_fuse_linear_bn_eval_as_torch_and_errors():
    rng = np.random.default_rng(1)
    le, lt = nn.Linear(5, 4).double(), torch.nn.Linear(5, 4).double()
    _copy(le, lt)
    be, bt = _bn_pair(nn.BatchNorm1d, torch.nn.BatchNorm1d, 4, rng)
    fe, ft = nn.utils.fuse_linear_bn_eval(le.eval(), be), torch.nn.utils.fuse_linear_bn_eval(lt.eval(), bt)
    np.testing.assert_allclose(fe.weight.detach().numpy(), ft.weight.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(fe.bias.detach().numpy(), ft.bias.detach().numpy(), rtol=1e-12)
    w, b = nn.utils.fuse_linear_bn_weights(le.weight, None, be.running_mean, be.running_var, be.eps, be.weight,
                                           be.bias)
    wt, bt2 = torch.nn.utils.fuse_linear_bn_weights(lt.weight, None, bt.running_mean, bt.running_var, bt.eps,
                                                    bt.weight, bt.bias)
    np.testing.assert_allclose(b.detach().numpy(), bt2.detach().numpy(), rtol=1e-12)
    assert b.requires_grad == bt2.requires_grad
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        nn.utils.fuse_linear_bn_eval(le.train(), be)
    with pytest.raises(AssertionError, match="linear.out_features=4 and bn.num_features=3"):
        nn.utils.fuse_linear_bn_eval(le.eval(), nn.BatchNorm1d(3).eval())
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        nn.utils.fuse_conv_bn_eval(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2).eval())


def test_clip_grads_with_norm_as_torch():
    rng = np.random.default_rng(2)
    vals = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    pe = [ember.tensor(v, requires_grad=True) for v in vals]
    pt = [torch.tensor(v, requires_grad=True) for v in vals]
    for p, v in zip(pe, vals):
        p.grad = ember.tensor(v * 3)
    for p, v in zip(pt, vals):
        p.grad = torch.tensor(v * 3)
    for max_norm in (100.0, 1.0):
        ne = nn.utils.get_total_norm([p.grad for p in pe])
        nt = torch.nn.utils.get_total_norm([p.grad for p in pt])
        assert nn.utils.clip_grads_with_norm_(pe, max_norm, ne) is None
        torch.nn.utils.clip_grads_with_norm_(pt, max_norm, nt)
        for a, b in zip(pe, pt):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-14)
    nn.utils.clip_grads_with_norm_([ember.zeros(2, requires_grad=True)], 1.0, ember.tensor(3.0))   # no grads: no-op


def test_skip_init():
    m = nn.utils.skip_init(nn.Linear, 5, 2)
    assert isinstance(m, nn.Linear) and tuple(m.weight.shape) == (2, 5) and m.weight.requires_grad
    assert float(m.weight.abs().sum()) == 0.0
    m2 = nn.utils.skip_init(nn.Linear, in_features=6, out_features=1)
    assert tuple(m2.weight.shape) == (1, 6)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        nn.utils.skip_init(int, 3)

    class NoDevice(nn.Module):
        def __init__(self, n):
            super().__init__()

    with pytest.raises(RuntimeError, match="Module must support a 'device' arg to skip initialization"):
        nn.utils.skip_init(NoDevice, 3)


def test_convert_conv_weight_memory_format_as_torch():
    def build(mod):
        return mod.Sequential(mod.Conv2d(3, 4, 3), mod.Sequential(mod.ConvTranspose2d(4, 2, 3)), mod.Conv3d(2, 2, 1),
                              mod.Linear(3, 3))
    me, mt = build(nn), build(torch.nn)
    before = me[0].weight.detach().numpy().copy()
    assert nn.utils.convert_conv2d_weight_memory_format(me, ember.channels_last) is me
    torch.nn.utils.convert_conv2d_weight_memory_format(mt, torch.channels_last)
    nn.utils.convert_conv3d_weight_memory_format(me, ember.channels_last_3d)
    torch.nn.utils.convert_conv3d_weight_memory_format(mt, torch.channels_last_3d)
    for name, p in mt.named_parameters():
        assert dict(me.named_parameters())[name].stride() == p.stride(), name
    np.testing.assert_array_equal(me[0].weight.detach().numpy(), before)
    assert isinstance(me[0].weight, nn.Parameter)
