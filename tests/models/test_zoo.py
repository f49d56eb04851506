"""Tests for the model zoo (``ember.models``): every registered model builds with its defaults, gives the
documented output shape on a tiny batch and passes gradients to every parameter; ``parameter_table`` matches
the lecture's formulas; the ``training_step`` of VAE, GAN, RBM and EmbeddingNet returns a finite scalar and
trains through ``Trainer``; model-specific behaviour (perceptron rule, exposure offset, causality, ...)."""
import math

import numpy as np
import pytest

import ember
import ember.models as M
from ember.train import Trainer

# name -> (input builder, expected output shape or None for a tuple output)
_IMG = lambda n=2: ember.rand(n, 1, 28, 28)          # noqa: E731
SPECS = {
    "mlp": (lambda: ember.randn(2, 784), (2, 10)),
    "lenet5": (lambda: _IMG(), (2, 10)),
    "lenet": (lambda: _IMG(), (2, 10)),
    "linear_regression": (lambda: ember.randn(3, 1), (3, 1)),
    "logistic_regression": (lambda: ember.randn(3, 2), (3, 1)),
    "perceptron": (lambda: ember.randn(3, 2), (3,)),
    "poisson_mlp": (lambda: ember.randn(3, 6), (3,)),
    "multilabel_mlp": (lambda: ember.randn(3, 20), (3, 5)),
    "typical_dnn": (lambda: ember.randn(2, 3, 32, 32), (2, 4)),
    "fashion_cnn": (lambda: _IMG(), (2, 10)),
    "sum_rnn": (lambda: ember.rand(2, 5, 1), (2,)),
    "char_rnn": (lambda: ember.randint(0, 65, (2, 7)), (2, 65, 7)),
    "transformer_lm": (lambda: ember.randint(0, 65, (2, 7)), (2, 65, 7)),
    "dense_autoencoder": (lambda: _IMG(), (2, 1, 28, 28)),
    "conv_autoencoder": (lambda: _IMG(), (2, 1, 28, 28)),
    "vae": (lambda: ember.rand(2, 784), None),
    "generator": (lambda: ember.randn(2, 64), (2, 784)),
    "discriminator": (lambda: ember.randn(2, 784), (2, 1)),
    "gan": (lambda: ember.randn(2, 64), (2, 784)),
    "rbm": (lambda: (ember.rand(2, 784) > 0.5).float(), (2, 784)),
    "embedding_net": (lambda: _IMG(4), (4, 32)),
    "fcn": (lambda: ember.randn(2, 1, 32, 32), (2, 3, 32, 32)),
    "hopfield": (lambda: ember.where(ember.randn(2, 100) > 0, 1.0, -1.0), (2, 100)),
    "grid_detector": (lambda: ember.rand(2, 3, 32, 32), (2, 8, 4, 4)),
    "small_resnet": (lambda: _IMG(), (2, 10)),
}
# models that need arguments, take several inputs or return several outputs: name -> (kwargs, inputs builder,
# expected shape per output)
MULTI = {
    "caption_net": ({"vocab_size": 20}, lambda: (ember.rand(2, 3, 32, 32), ember.randint(3, 20, (2, 6))),
                    {"logits": (2, 20, 5)}),
    "multitask_net": ({"heads": {"digit": 10, "ink": 1}}, lambda: (_IMG(),), {"digit": (2, 10), "ink": (2,)}),
    # forward takes no inputs and returns the image being optimised (its one parameter); see tests/test_cli_style.py
    "style_transfer": ({"size": 16}, lambda: (), {"logits": (1, 3, 16, 16)}),
}
STEP_MODELS = {"vae", "gan", "rbm"}          # gradients come from training_step, not forward


def test_every_registered_model_has_a_spec():
    assert set(M.available()) == set(SPECS) | set(MULTI), "register new models in SPECS (or MULTI) too"


@pytest.mark.parametrize("name", sorted(MULTI))
def test_models_with_arguments_or_several_inputs_and_outputs(name):
    kwargs, make, shapes = MULTI[name]
    model = M.get(name, **kwargs)
    assert type(model).__doc__
    out = model(*make())
    outs = out if isinstance(out, dict) else {"logits": out}
    assert {k: tuple(v.shape) for k, v in outs.items()} == shapes
    sum((v * ember.randn(*v.shape)).sum() for v in outs.values()).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and np.isfinite(p.grad.numpy()).all(), f"{name}: no gradient reached {pname}"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_builds_with_defaults_forward_shape_and_gradients(name):
    model = M.get(name)
    assert isinstance(model, ember.nn.Module)
    assert type(model).__doc__, f"{type(model).__name__} needs a docstring"
    make, shape = SPECS[name]
    x = make()
    out = model(x)
    if shape is None:
        assert isinstance(out, tuple) and tuple(out[0].shape) == (2, 784)
    else:
        assert tuple(out.shape) == shape
    params = list(model.named_parameters())
    if not params:
        return
    if name in STEP_MODELS:
        res = model.training_step((make() if name != "gan" else ember.rand(4, 784) * 2 - 1,))
        loss = res["loss"] if isinstance(res, dict) else res
    else:
        loss = (out * ember.randn(*out.shape)).sum()
    loss.backward()
    for pname, p in params:
        assert p.grad is not None, f"{name}: no gradient reached {pname}"
        g = p.grad.numpy()
        assert np.isfinite(g).all() and np.abs(g).max() > 0, f"{name}: zero/non-finite gradient for {pname}"


@pytest.mark.parametrize("name,bad", [
    ("mlp", ember.randn(2, 100)), ("lenet5", ember.randn(2, 3, 28, 28)), ("fashion_cnn", ember.randn(2, 1, 32, 32)),
    ("typical_dnn", ember.randn(2, 1, 32, 32)), ("sum_rnn", ember.randn(2, 5)), ("vae", ember.randn(2, 100)),
    ("embedding_net", ember.randn(2, 784)), ("fcn", ember.randn(2, 1, 31, 32)), ("poisson_mlp", ember.randn(2, 5)),
])
def test_bad_input_errors_name_the_model_and_shapes(name, bad):
    model = M.get(name)
    with pytest.raises(ValueError) as e:
        model(bad)
    msg = str(e.value)
    assert type(model).__name__ in msg and str(tuple(bad.shape)) in msg


def test_typical_dnn_parameter_table_matches_the_formula():
    model = M.TypicalDNN()
    rows = M.parameter_table(model, (3, 32, 32))
    assert rows[0]["params"] == 448 and rows[0]["formula"] == "(3*3*3+1)*16"
    assert rows[0]["output_shape"] == (16, 32, 32)
    with_formula = [r for r in rows if r["formula_params"] is not None]
    assert len(with_formula) == 7                          # 5 convolutions, 2 fully connected layers
    for r in with_formula:
        assert r["params"] == r["formula_params"], r
    assert rows[-1]["name"] == "total" and rows[-1]["params"] == sum(p.numel() for p in model.parameters())
    assert rows[-1]["output_shape"] == (4,)
    fc = [r for r in rows if r["layer"] == "Linear"]
    assert fc[0]["formula"] == "(512+1)*64" and fc[-1]["params"] == (64 + 1) * 4
    assert "MISMATCH" not in M.format_parameter_table(rows)
    # batch norm layers are covered too (2 * C), and a bad input shape names the failing layer
    rows = M.parameter_table(M.FashionCNN(), (1, 28, 28))
    assert all(r["params"] == r["formula_params"] for r in rows if r["formula_params"] is not None)
    with pytest.raises(ValueError, match="parameter_table: layer"):
        M.parameter_table(model, (1, 32, 32))


def _finite_scalar(res):
    loss = res["loss"] if isinstance(res, dict) else res
    assert isinstance(loss, ember.Tensor) and loss.numel() == 1 and loss.requires_grad
    assert math.isfinite(loss.item())
    return loss


def test_training_steps_return_finite_scalars():
    x = ember.rand(16, 1, 28, 28)
    y = ember.tensor(np.repeat(np.arange(4), 4))
    res = M.VAE().training_step((x, y))
    assert res["loss"].item() == pytest.approx(res["recon"] + res["kl"], rel=1e-5)
    _finite_scalar(res)
    res = M.GAN().training_step((x * 2 - 1,))
    _finite_scalar(res)
    assert res["loss"].item() == pytest.approx(res["d_loss"] + res["g_loss"], rel=1e-5)
    res = M.RBM().training_step(((x > 0.5).float(),))
    _finite_scalar(res)
    assert 0 <= res["recon_mse"] <= 1
    for loss in ("contrastive", "triplet"):
        _finite_scalar(M.EmbeddingNet(loss=loss).training_step((x, y)))
    with pytest.raises(ValueError, match="loss must be one of"):
        M.EmbeddingNet(loss="hinge")
    with pytest.raises(ValueError, match="batch-hard triplets need"):
        M.EmbeddingNet(loss="triplet").training_step((x[:3], ember.tensor([0, 1, 2])))


def test_gan_step_gives_d_only_its_own_gradient():
    """The combined loss must give D the gradient of d_loss alone (g_loss is computed with D frozen) and G the
    gradient of g_loss alone (the fake batch is detached for D)."""
    gan = M.GAN(dropout=0.0)
    real = ember.rand(8, 784) * 2 - 1
    ember.manual_seed(1)
    gan.training_step((real,))["loss"].backward()
    got_d = [p.grad.numpy().copy() for p in gan.discriminator.parameters()]
    got_g = [p.grad.numpy().copy() for p in gan.generator.parameters()]
    assert all(p.requires_grad for p in gan.discriminator.parameters())      # unfrozen again
    gan.zero_grad()
    ember.manual_seed(1)
    d_loss, g_loss = gan._losses(real, freeze_d=False)
    d_loss.backward(retain_graph=True)
    want_d = [p.grad.numpy().copy() for p in gan.discriminator.parameters()]
    assert all(p.grad is None or not np.abs(p.grad.numpy()).any() for p in gan.generator.parameters())
    gan.zero_grad()
    g_loss.backward()
    want_g = [p.grad.numpy().copy() for p in gan.generator.parameters()]
    for a, b in zip(got_d + got_g, want_d + want_g):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name,data", [
    ("vae", lambda x, y: (x,)), ("gan", lambda x, y: (x * 2 - 1,)), ("rbm", lambda x, y: ((x > 0.5).float(),)),
    ("embedding_net", lambda x, y: (x, y)),
])
def test_training_step_models_fit_through_the_trainer(name, data):
    from ember.data import DataLoader, TensorDataset
    x = ember.rand(32, 1, 28, 28)
    y = ember.tensor(np.repeat(np.arange(4), 8))
    ds = TensorDataset(*data(x, y))
    model = M.get(name)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    trainer = Trainer(model, None, ember.optim.Adam(model.parameters(), 1e-3))
    hist = trainer.fit(DataLoader(ds, batch_size=16, shuffle=True), val_data=DataLoader(ds, batch_size=16),
                       epochs=1, verbose=0)
    assert math.isfinite(hist["loss"][0]) and math.isfinite(hist["val_loss"][0])
    assert any(not np.array_equal(b, p.detach().numpy()) for b, p in zip(before, model.parameters()))
    if name == "gan":
        assert "d_loss" in hist.history and "val_g_loss" in hist.history
    if name == "embedding_net":
        assert 0 <= hist["val_knn_accuracy"][0] <= 1
    res = trainer.evaluate(DataLoader(ds, batch_size=16))
    assert math.isfinite(res["loss"])


def test_trainer_rejects_metrics_and_bad_steps_for_training_step_models():
    from ember.data import DataLoader, TensorDataset
    ds = TensorDataset(ember.rand(8, 784))
    model = M.VAE()
    with pytest.raises(ValueError, match="trains through its training_step"):
        Trainer(model, None, ember.optim.Adam(model.parameters()), metrics=["accuracy"]).fit(
            DataLoader(ds, batch_size=4), verbose=0)
    with pytest.raises(TypeError, match="loss_fn is None but MLP defines no training_step"):
        Trainer(M.MLP(), None)

    class Bad(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = ember.nn.Linear(784, 2)

        def forward(self, x):
            return self.lin(x)

        def training_step(self, batch):
            return {"oops": self.lin(batch[0]).sum()}

    bad = Bad()
    with pytest.raises(ValueError, match="Bad.training_step returned a dict without 'loss'"):
        Trainer(bad, None, ember.optim.SGD(bad.parameters(), 0.1)).fit(DataLoader(ds, batch_size=4), verbose=0)


def test_perceptron_rule_separable_converges_xor_does_not():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-3, 0.5, (20, 2)), rng.normal(3, 0.5, (20, 2))]).astype(np.float32)
    y = np.hstack([-np.ones(20), np.ones(20)]).astype(np.float32)
    p = M.Perceptron(2)
    ok, epochs = p.fit_rosenblatt(ember.tensor(X), ember.tensor(y))
    assert ok and epochs < 100
    assert (p.predict(ember.tensor(X)).numpy() == y).all()
    xor = M.Perceptron(2)
    ok, epochs = xor.fit_rosenblatt(ember.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]]),
                                    ember.tensor([-1., 1., 1., -1.]), epochs=50)
    assert not ok and epochs == 50
    with pytest.raises(ValueError, match=r"labels in \{0, 1\} or \{-1, \+1\}"):
        xor.fit_rosenblatt(ember.zeros(2, 2), ember.tensor([2., 1.]))


def test_logistic_regression_probabilities():
    m = M.LogisticRegression(3)
    x = ember.randn(5, 3)
    np.testing.assert_allclose(m.predict_proba(x).numpy(), 1 / (1 + np.exp(-m(x).detach().numpy())), rtol=1e-5)


def test_poisson_mlp_exposure_offset():
    m = M.PoissonMLP(6)
    x, expo = ember.randn(4, 6), ember.rand(4) + 0.1
    np.testing.assert_allclose(m(x, ember.log(expo)).detach().numpy(),
                               (m(x) + ember.log(expo)).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(m.predict_mean(x, expo).numpy(), expo.numpy() * np.exp(m(x).detach().numpy()),
                               rtol=1e-5)
    with pytest.raises(ValueError, match=r"log_exposure of shape \(4,\)"):
        m(x, ember.zeros(3))


def test_char_rnn_state_layouts_and_gru():
    m = M.CharRNN(30, hidden_size=16, cell="gru", vocab_dim=-1)
    x = ember.randint(0, 30, (2, 5))
    logits, state = m(x, return_state=True)
    assert tuple(logits.shape) == (2, 5, 30)
    # feeding the text in two pieces with the state carried over gives the same logits
    a, s = m(x[:, :3], return_state=True)
    b = m(x[:, 3:], s)
    np.testing.assert_allclose(ember.cat([a, b], 1).detach().numpy(), logits.detach().numpy(), rtol=1e-4, atol=1e-5)
    ids = M.CharRNN(30, hidden_size=8).sample([1, 2], n=5)
    assert len(ids) == 7 and all(0 <= i < 30 for i in ids)
    with pytest.raises(ValueError, match="cell must be 'lstm' or 'gru'"):
        M.CharRNN(30, cell="rnn")


def test_transformer_lm_is_causal():
    m = M.TransformerLM(20, d_model=16, nhead=2, num_layers=1, dim_feedforward=32, max_len=8, vocab_dim=-1)
    m.eval()
    x = ember.randint(0, 20, (1, 6))
    y = x.clone()
    y[0, 4] = (int(x[0, 4]) + 1) % 20
    with ember.no_grad():
        a, b = m(x).numpy(), m(y).numpy()
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=1e-5, atol=1e-6)     # earlier positions unchanged
    assert not np.allclose(a[:, 4:], b[:, 4:])
    with pytest.raises(ValueError, match="at most max_len=8"):
        m(ember.randint(0, 20, (1, 9)))
    assert len(m.sample([1], n=10)) == 11


def test_sum_rnn_and_autoencoder_helpers():
    assert tuple(M.SumRNN()(ember.rand(3, 11, 1)).shape) == (3,)      # any length
    ae = M.DenseAutoencoder()
    z = ae.encode(ember.rand(3, 784))
    assert tuple(z.shape) == (3, 2) and tuple(ae.decode(z).shape) == (3, 784)
    assert tuple(M.VAE(latent_dim=4).sample(5).shape) == (5, 784)
    assert tuple(M.GAN().sample(3).shape) == (3, 784)


def test_sum_rnn_lengths_ignore_padding():
    """With ``lengths``, each sequence's sum is read after its own last element: padding changes nothing."""
    ember.manual_seed(0)
    m = M.SumRNN()
    x = ember.rand(3, 6, 1)
    lengths = ember.tensor([4, 6, 2])
    padded = x.clone()
    padded[0, 4:] = 123.0                      # garbage in the padding must not matter
    padded[2, 2:] = -7.0
    got = m(padded, lengths)
    want = ember.stack([m(x[0:1, :4])[0], m(x[1:2])[0], m(x[2:3, :2])[0]])
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6)
    got.sum().backward()
    assert m.head.weight.grad is not None
    with pytest.raises(ValueError, match=r"lengths must be in \[1, 6\]"):
        m(x, ember.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="integer lengths of shape"):
        m(x, ember.tensor([1.0, 2.0, 3.0]))


def test_embedding_net_normalize_option():
    """``normalize=True`` gives unit-length embeddings from the same weights (same init and parameter count),
    and the triplet loss still trains through it; the default stays raw."""
    x = ember.rand(6, 1, 28, 28)
    ember.manual_seed(0)
    raw = M.EmbeddingNet()
    ember.manual_seed(0)
    unit = M.EmbeddingNet(loss="triplet", normalize=True)
    assert sum(p.numel() for p in unit.parameters()) == sum(p.numel() for p in raw.parameters())
    e_raw, e_unit = raw(x), unit(x)
    assert not np.allclose(np.linalg.norm(e_raw.detach().numpy(), axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(e_unit.detach().numpy(), axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(e_unit.detach().numpy(),
                               (e_raw / e_raw.norm(dim=1, keepdim=True)).detach().numpy(), rtol=1e-5, atol=1e-6)
    loss = unit.training_step((x, ember.tensor([0, 0, 1, 1, 2, 2])))
    loss.backward()
    assert math.isfinite(loss.item()) and all(p.grad is not None for p in unit.parameters())


def test_linear_regression_closed_form_matches_lstsq_and_gradient_descent():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]]) + np.array([0.3, -1.0]) + rng.normal(0, 0.1, (200, 2))
    m = M.LinearRegression(3, 2).double().fit_closed_form(ember.tensor(X), ember.tensor(y))
    want, *_ = np.linalg.lstsq(np.hstack([X, np.ones((200, 1))]), y, rcond=None)
    np.testing.assert_allclose(m.linear.weight.detach().numpy(), want[:-1].T, atol=1e-10)
    np.testing.assert_allclose(m.linear.bias.detach().numpy(), want[-1], atol=1e-10)
    gd = M.LinearRegression(3, 2).double()
    opt = ember.optim.SGD(gd.parameters(), lr=0.2)
    for _ in range(500):
        opt.zero_grad()
        ember.nn.functional.mse_loss(gd(ember.tensor(X)), ember.tensor(y)).backward()
        opt.step()
    np.testing.assert_allclose(gd.linear.weight.detach().numpy(), want[:-1].T, atol=1e-4)
    with pytest.raises(ValueError, match="singular"):
        M.LinearRegression(2).fit_closed_form(ember.ones(5, 2), ember.ones(5))
    with pytest.raises(ValueError, match=r"expected targets of shape \(200, 1\), got \(200, 2\)"):
        M.LinearRegression(3).fit_closed_form(ember.tensor(X), ember.tensor(y))
