"""ember.nn.functional against PyTorch 2.13 on the edges: raise exactly where PyTorch raises (issue 11 class 9:
no spurious errors), same result shape and dtype where it returns (empty inputs, 0-size dims, integer dtypes,
broadcastable biases), and gradients at the kinks of activations and losses (class 5)."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from tests.helpers import assert_close, compare

TF = torch.nn.functional


def _lib(m):
    return F if m is ember else TF


def _t(lib, shape, dtype="float32", fill=None):
    if fill is not None:
        return lib.full(shape, fill, dtype=getattr(lib, dtype))
    a = np.random.default_rng(0).standard_normal(shape)
    return lib.tensor(a.astype(dtype))


PARITY = [
    # F.linear: any bias that broadcasts to the output (a contiguous 3-D input is one addmm: rows x out)
    ("linear bias (1, 4)", lambda L, F: F.linear(_t(L, (2, 3)), _t(L, (4, 3)), _t(L, (1, 4)))),
    ("linear bias (2, 4)", lambda L, F: F.linear(_t(L, (2, 3)), _t(L, (4, 3)), _t(L, (2, 4)))),
    ("linear bias (1,)", lambda L, F: F.linear(_t(L, (2, 3)), _t(L, (4, 3)), _t(L, (1,)))),
    ("linear bias (2, 1, 4) 4-D", lambda L, F: F.linear(_t(L, (5, 2, 3, 3)), _t(L, (4, 3)), _t(L, (2, 1, 4)))),
    ("linear bias (5, 1, 4) 2-D", lambda L, F: F.linear(_t(L, (2, 3)), _t(L, (4, 3)), _t(L, (5, 1, 4)))),
    ("linear bias (2, 1) 3-D", lambda L, F: F.linear(_t(L, (3, 2, 3)), _t(L, (4, 3)), _t(L, (2, 1)))),
    ("linear 1-D weight", lambda L, F: F.linear(_t(L, (2, 3)), _t(L, (3,)))),
    ("linear in_features 0", lambda L, F: F.linear(_t(L, (2, 0)), _t(L, (4, 0)), _t(L, (4,)))),
    ("linear empty batch", lambda L, F: F.linear(_t(L, (0, 3)), _t(L, (4, 3)), _t(L, (4,)))),
    ("linear int64", lambda L, F: F.linear(_t(L, (2, 3), "int64", 2), _t(L, (4, 3), "int64", 3))),
    ("linear bool", lambda L, F: F.linear(_t(L, (2, 3), "bool", 1), _t(L, (4, 3), "bool", 1))),
    ("bilinear bias (1, 5)", lambda L, F: F.bilinear(_t(L, (2, 3)), _t(L, (2, 4)), _t(L, (5, 3, 4)), _t(L, (1, 5)))),
    # convolutions: empty batches, integer dtypes (int64 only for transposed), bool, empty weights
    ("conv2d batch 0", lambda L, F: F.conv2d(_t(L, (0, 2, 3, 3)), _t(L, (3, 2, 2, 2)))),
    ("conv_transpose2d batch 0", lambda L, F: F.conv_transpose2d(_t(L, (0, 2, 3, 3)), _t(L, (2, 3, 2, 2)))),
    ("conv_transpose2d output 0", lambda L, F: F.conv_transpose2d(_t(L, (1, 2, 2, 2)), _t(L, (2, 3, 1, 1)),
                                                                   padding=1)),
    ("conv_transpose2d 0 out channels", lambda L, F: F.conv_transpose2d(_t(L, (1, 2, 2, 2)), _t(L, (2, 0, 1, 1)))),
    ("conv2d 0 out channels", lambda L, F: F.conv2d(_t(L, (2, 2, 3, 3)), _t(L, (0, 2, 2, 2)))),
    ("conv2d int64", lambda L, F: F.conv2d(_t(L, (1, 2, 4, 4), "int64", 3), _t(L, (4, 1, 2, 2), "int64", -2),
                                           _t(L, (4,), "int64", 5), padding=1, stride=2, groups=2)),
    ("conv2d int32", lambda L, F: F.conv2d(_t(L, (2, 2, 3, 3), "int32", 1), _t(L, (3, 2, 2, 2), "int32", 2))),
    ("conv1d uint8", lambda L, F: F.conv1d(_t(L, (2, 2, 5), "uint8", 1), _t(L, (3, 2, 2), "uint8", 2))),
    ("conv_transpose2d int64", lambda L, F: F.conv_transpose2d(_t(L, (1, 2, 3, 3), "int64", 1),
                                                               _t(L, (2, 3, 2, 2), "int64", 2), stride=2)),
    ("conv_transpose1d int32", lambda L, F: F.conv_transpose1d(_t(L, (1, 2, 3), "int32", 1),
                                                               _t(L, (2, 3, 2), "int32", 2))),
    ("conv2d bool", lambda L, F: F.conv2d(_t(L, (1, 2, 3, 3), "bool", 1), _t(L, (3, 2, 2, 2), "bool", 1))),
    ("conv2d input smaller than kernel", lambda L, F: F.conv2d(_t(L, (1, 2, 1, 1)), _t(L, (3, 2, 2, 2)))),
    ("unfold int64", lambda L, F: F.unfold(_t(L, (1, 2, 3, 3), "int64", 1), 2)),
    ("fold int64", lambda L, F: F.fold(_t(L, (1, 4, 4), "int64", 1), (3, 3), 2)),
    ("unfold batch 0", lambda L, F: F.unfold(_t(L, (0, 2, 3, 3)), 2)),
    # pooling: empty batches and outputs, channels 0, integer dtypes
    ("max_pool2d batch 0", lambda L, F: F.max_pool2d(_t(L, (0, 2, 4, 4)), 2)),
    ("max_pool2d channels 0", lambda L, F: F.max_pool2d(_t(L, (2, 0, 4, 4)), 2)),
    ("max_pool2d int16", lambda L, F: F.max_pool2d(_t(L, (1, 2, 4, 4), "int16", 1), 2)),
    ("max_pool1d int64", lambda L, F: F.max_pool1d(_t(L, (1, 2, 4), "int64", 1), 2)),
    ("max_pool1d int64 indices", lambda L, F: F.max_pool1d(_t(L, (1, 2, 4), "int64", 1), 2, return_indices=True)[0]),
    ("conv_transpose2d grouped, output 0", lambda L, F: F.conv_transpose2d(_t(L, (1, 4, 2, 2)), _t(L, (4, 2, 1, 1)),
                                                                            padding=(1, 0), groups=2)),
    ("conv_transpose2d grouped, output < 0", lambda L, F: F.conv_transpose2d(_t(L, (1, 4, 1, 1)), _t(L, (4, 2, 1, 1)),
                                                                              padding=1, groups=2)),
    ("max_pool2d bool", lambda L, F: F.max_pool2d(_t(L, (1, 2, 4, 4), "bool", 1), 2)),
    ("avg_pool2d int64", lambda L, F: F.avg_pool2d(_t(L, (1, 2, 4, 4), "int64", 7), 3, 2, 1)),
    ("avg_pool2d int32", lambda L, F: F.avg_pool2d(_t(L, (1, 2, 4, 4), "int32", 7), 2)),
    ("adaptive_max_pool2d batch 0", lambda L, F: F.adaptive_max_pool2d(_t(L, (0, 2, 4, 4)), 2)),
    ("adaptive_max_pool2d output 0", lambda L, F: F.adaptive_max_pool2d(_t(L, (1, 2, 4, 4)), (0, 2))),
    ("adaptive_avg_pool2d output 0", lambda L, F: F.adaptive_avg_pool2d(_t(L, (1, 2, 4, 4)), (0, 2))),
    ("adaptive_avg_pool2d output -1", lambda L, F: F.adaptive_avg_pool2d(_t(L, (1, 2, 4, 4)), (-1, 2))),
    ("adaptive_avg_pool2d int64", lambda L, F: F.adaptive_avg_pool2d(_t(L, (1, 2, 4, 4), "int64", 1), 3)),
    ("adaptive_max_pool2d int64", lambda L, F: F.adaptive_max_pool2d(_t(L, (1, 2, 4, 4), "int64", 1), 3)),
    # norms on empty inputs
    ("batch_norm empty batch", lambda L, F: F.batch_norm(_t(L, (0, 4)), None, None, training=True)),
    ("batch_norm empty batch affine", lambda L, F: F.batch_norm(_t(L, (0, 4, 3)), L.zeros(4), L.ones(4), L.ones(4),
                                                                L.zeros(4), training=True)),
    ("batch_norm 0 channels", lambda L, F: F.batch_norm(_t(L, (2, 0, 3)), None, None, training=True)),
    ("batch_norm one value per channel", lambda L, F: F.batch_norm(_t(L, (1, 4)), None, None, training=True)),
    ("group_norm empty batch", lambda L, F: F.group_norm(_t(L, (0, 4, 2)), 2)),
    ("group_norm 0 channels", lambda L, F: F.group_norm(_t(L, (2, 0, 3)), 1)),
    ("group_norm empty, groups not dividing", lambda L, F: F.group_norm(_t(L, (0, 4, 2)), 3)),
    ("instance_norm empty batch", lambda L, F: F.instance_norm(_t(L, (0, 4, 3)))),
    ("layer_norm empty", lambda L, F: F.layer_norm(_t(L, (0, 4)), (4,))),
]


@pytest.mark.parametrize("name,call", PARITY, ids=[p[0] for p in PARITY])
def test_raises_where_torch_raises_and_returns_where_it_returns(name, call):
    # PyTorch at one thread: its answer can depend on its thread count (2.13's grouped conv_transpose2d with
    # an empty output raises "Output size is too small" at one thread and returns a (1, 4, 0, 2) tensor at two)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        expected = call(torch, TF)
    except Exception as e:        # torch raises: ember must raise an exception of the same kind
        kind = RuntimeError if isinstance(e, RuntimeError) and not isinstance(e, NotImplementedError) else type(e)
        with pytest.raises(kind):
            call(ember, F)
        return
    finally:
        torch.set_num_threads(threads)
    out = call(ember, F)
    assert tuple(out.shape) == tuple(expected.shape), name
    assert str(out.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1], name
    assert_close(out, expected, atol=1e-5)


def test_linear_broadcast_bias_gradients():
    compare(lambda m, x, w, b: _lib(m).linear(x, w, b), [(2, 3), (4, 3), (2, 4)])
    compare(lambda m, x, w, b: _lib(m).linear(x, w, b), [(2, 3), (4, 3), (1, 4)])
    compare(lambda m, x, w, b: _lib(m).linear(x, w, b), [(5, 2, 2, 3), (4, 3), (2, 1, 4)])
    compare(lambda m, x, w: _lib(m).linear(x, w), [(2, 3), (3,)])


X_KINK = [[0.0, 1.0, 0.0], [2.0, 1.0, 1.0], [0.5, 0.5, 1.5], [1.0, 1.0, 0.0]]   # hinge terms exactly 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,call", [
    ("multi_margin p=1", lambda L, F, x: F.multi_margin_loss(x, L.tensor([1, 0, 2, 0]))),
    ("multi_margin p=2", lambda L, F, x: F.multi_margin_loss(x, L.tensor([1, 0, 2, 0]), p=2)),
    ("multi_margin margin=0", lambda L, F, x: F.multi_margin_loss(x, L.tensor([1, 0, 2, 2]), margin=0.0)),
    ("multi_margin margin=.5 weight", lambda L, F, x: F.multi_margin_loss(
        x, L.tensor([1, 0, 2, 1]), margin=0.5, weight=L.tensor([1.0, 2.0, 3.0], dtype=x.dtype), reduction="sum")),
    ("multilabel_margin", lambda L, F, x: F.multilabel_margin_loss(x, L.tensor([[1, -1, 0], [0, 2, -1], [2, -1, 1],
                                                                                [0, -1, 2]]))),
    ("hinge_embedding", lambda L, F, x: F.hinge_embedding_loss(x, L.tensor([[1.0, -1.0, -1.0]] * 4, dtype=x.dtype))),
    ("margin_ranking", lambda L, F, x: F.margin_ranking_loss(x[0], x[1], L.tensor([1.0, -1.0, 1.0], dtype=x.dtype),
                                                             margin=1.0)),
    ("smooth_l1 at beta", lambda L, F, x: F.smooth_l1_loss(x, L.zeros(4, 3, dtype=x.dtype), beta=0.5)),
    ("huber at delta", lambda L, F, x: F.huber_loss(x, L.zeros(4, 3, dtype=x.dtype), delta=0.5)),
    ("l1 at 0", lambda L, F, x: F.l1_loss(x, L.zeros(4, 3, dtype=x.dtype))),
])
def test_loss_gradients_at_kinks_match_torch(name, call, dtype):
    a = np.array(X_KINK, dtype=dtype)
    e, t = ember.tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)
    eo, to = call(ember, F, e), call(torch, TF, t)
    assert_close(eo, to, atol=1e-6)
    eo.backward()
    to.backward()
    assert_close(e.grad, t.grad, atol=1e-6, what=f"{name} gradient")


def test_margin_losses_keep_inf_and_nan_like_torch():
    a = np.array([[np.nan, 1.0, 0.0], [1.0, 2.0, np.inf]])
    for call in (lambda L, F: F.multi_margin_loss(L.tensor(a), L.tensor([1, 0]), reduction="none"),
                 lambda L, F: F.multilabel_margin_loss(L.tensor(a), L.tensor([[1, -1, 0], [0, -1, 1]]),
                                                       reduction="none")):
        np.testing.assert_array_equal(call(ember, F).numpy(), call(torch, TF).numpy())


def test_triplet_margin_must_be_positive():
    args = [np.ones((2, 3))] * 3
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        TF.triplet_margin_loss(*[torch.tensor(a) for a in args], margin=0.0)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(*[ember.tensor(a) for a in args], margin=0.0)


def test_sdpa_fully_masked_query_gets_zeros_like_torch():
    """PyTorch 2.13's scaled_dot_product_attention gives a query that may attend to nothing zeros (not NaN),
    with zero gradients; also through a second derivative."""
    m = np.array([[True, False, True], [False, False, False]])
    compare(lambda L, q, k, v: _lib(L).scaled_dot_product_attention(q, k, v, attn_mask=L.tensor(m)),
            [(2, 2, 4), (2, 3, 4), (2, 3, 5)])
    fm = np.where(m, 0.0, -np.inf)
    compare(lambda L, q, k, v: _lib(L).scaled_dot_product_attention(q, k, v, attn_mask=L.tensor(fm)),
            [(2, 2, 4), (2, 3, 4), (2, 3, 5)])
    q = np.random.default_rng(0).standard_normal((1, 2, 3))
    grads = []
    for L in (ember, torch):
        x = L.tensor(q.copy(), requires_grad=True)
        y = _lib(L).scaled_dot_product_attention(x, x, x, attn_mask=L.tensor(m[:, :2]))
        (g,) = L.autograd.grad(y.sum(), x, create_graph=True)
        g.sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-10)


@pytest.mark.parametrize("call,shapes", [
    (lambda L, x, w: _lib(L).rms_norm(x, (3,), w), [(4, 3), (3,)]),
    (lambda L, x: _lib(L).rms_norm(x, (2, 3), eps=1e-3), [(4, 2, 3)]),
    (lambda L, x: _lib(L).local_response_norm(x, 3), [(2, 5, 3, 2)]),
    (lambda L, x: _lib(L).local_response_norm(x, 4, alpha=0.1, beta=0.5, k=2.0), [(2, 5, 3)]),
    (lambda L, x: _lib(L).lp_pool2d(x, 2, 2), [(2, 3, 4, 5)]),
    (lambda L, x: _lib(L).lp_pool2d(x.abs() + 0.1, 3, (2, 3), stride=1, ceil_mode=True), [(2, 3, 4, 5)]),
    (lambda L, x: _lib(L).lp_pool1d(x, 2, 3, 2), [(2, 3, 7)]),
    (lambda L, x: _lib(L).lp_pool1d(x, float("inf"), 3, 2), [(2, 3, 7)]),
    (lambda L, x: _lib(L).channel_shuffle(x, 3), [(2, 6, 2, 3)]),
    (lambda L, x: _lib(L).adaptive_max_pool2d_with_indices(x, 3), [(2, 6, 5, 4)]),
    (lambda L, x: _lib(L).adaptive_max_pool1d_with_indices(x, 3), [(2, 6, 5)]),
    (lambda L, x: _lib(L).rrelu(x, 0.1, 0.3), [(3, 4)]),
])
def test_functional_forms_that_were_missing(call, shapes):
    compare(call, shapes)


def test_rrelu_training_and_gumbel_softmax_are_random_but_well_formed():
    ember.manual_seed(0)
    x = ember.tensor([[-2.0, 3.0, -1.0]], requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    y.sum().backward()
    slope = x.grad.numpy()[0, [0, 2]]
    assert ((slope >= 0.1) & (slope <= 0.3)).all() and x.grad.numpy()[0, 1] == 1.0
    np.testing.assert_allclose(y.detach().numpy()[0, [0, 2]], [-2.0, -1.0] * slope)
    g = F.gumbel_softmax(ember.randn(4, 5), tau=0.5, hard=True)
    np.testing.assert_array_equal(g.numpy().sum(-1), np.ones(4))
    np.testing.assert_allclose(F.gumbel_softmax(ember.randn(4, 5), dim=0).numpy().sum(0), np.ones(5), rtol=1e-6)


@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, 3.0, 0.5, 1.5, float("inf")])
def test_pdist_values_and_gradients_including_equal_rows(p):
    compare(lambda L, x: _lib(L).pdist(x, p), [(5, 3)])
    a = np.random.default_rng(0).standard_normal((4, 3))
    a[2] = a[0]                 # a zero distance
    a[3, 1] = a[1, 1]           # a zero difference
    compare(lambda L, x: _lib(L).pdist(x, p), [a])


def test_pdist_errors_like_torch():
    for call in (lambda L: _lib(L).pdist(L.ones(2, 3, 4)), lambda L: _lib(L).pdist(L.ones(2, 3), -1.0)):
        with pytest.raises(RuntimeError):
            call(torch)
        with pytest.raises(RuntimeError):
            call(ember)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_family_signature_and_implicit_dim_warning_like_torch(name):
    import inspect
    assert list(inspect.signature(getattr(F, name)).parameters) == list(inspect.signature(getattr(TF, name)).parameters)
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
        e = getattr(F, name)(ember.tensor(a))
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
        t = getattr(TF, name)(torch.tensor(a))
    assert_close(e, t)
    assert_close(getattr(F, name)(ember.tensor(a), 2, 3, ember.float32), getattr(TF, name)(torch.tensor(a), 2, 3,
                                                                                          torch.float32))


def test_empty_batches_and_no_keys_like_torch():
    compare(lambda L, q, k, v: _lib(L).scaled_dot_product_attention(q, k, v), [(2, 2, 4), (2, 0, 4), (2, 0, 5)])
    compare(lambda L, q, k, v: _lib(L).scaled_dot_product_attention(q, k, v), [(2, 0, 4), (2, 3, 4), (2, 3, 5)])
    # PyTorch 2.13 returns uninitialized memory for an empty batch here (0, or garbage like 1.6e37); ember the
    # mean of nothing, NaN, as PyTorch's other losses give (known difference margin-loss-empty-mean)
    assert np.isnan(float(F.multi_margin_loss(ember.zeros(0, 4), ember.tensor(np.zeros(0, dtype=np.int64)))))
