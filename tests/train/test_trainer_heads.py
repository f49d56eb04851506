"""Trainer with several outputs: one loss per head (fixed weights or learned uncertainty weighting), metrics per
head logged as ``head/metric``, the ways a batch may carry one target per head, checkpoints and the errors."""
import math

import numpy as np
import pytest

import ember
from ember import nn
from ember.data import DataLoader, TensorDataset
from ember.models import UncertaintyWeighting
from ember.train import Trainer


class TwoHeads(nn.Module):
    def __init__(self, as_tuple=False):
        super().__init__()
        self.trunk = nn.Linear(4, 8)
        self.cls = nn.Linear(8, 3)
        self.reg = nn.Linear(8, 1)
        self.as_tuple = as_tuple

    def forward(self, x):
        z = ember.relu(self.trunk(x))
        a, b = self.cls(z), self.reg(z).squeeze(1)
        return (a, b) if self.as_tuple else {"cls": a, "reg": b}


def _data(n=96, seed=0):
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, 4)).astype(np.float32)
    y = ((x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0))
    r = (2 * x[:, 2]).astype(np.float32)
    return ember.tensor(x), ember.tensor(y), ember.tensor(r)


LOSSES = {"cls": nn.CrossEntropyLoss(), "reg": nn.MSELoss()}


def test_fixed_weights_train_the_weighted_sum_and_log_each_head():
    x, y, r = _data()
    ember.manual_seed(0)
    net = TwoHeads()
    ref = TwoHeads()
    ref.load_state_dict(net.state_dict())
    opt = ember.optim.SGD(net.parameters(), lr=0.1)
    tr = Trainer(net, LOSSES, opt, loss_weights={"cls": 1.0, "reg": 0.25},
                 metrics={"cls": ["accuracy"], "reg": ["r2", "mae"]})
    hist = tr.fit(DataLoader(TensorDataset(x, y, r), batch_size=96), epochs=1, verbose=0)
    # one full batch: the same step by hand
    ropt = ember.optim.SGD(ref.parameters(), lr=0.1)
    out = ref(x)
    l_cls, l_reg = nn.functional.cross_entropy(out["cls"], y), nn.functional.mse_loss(out["reg"], r)
    (l_cls + 0.25 * l_reg).backward()
    ropt.step()
    for (k, p), q in zip(net.state_dict().items(), ref.state_dict().values()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=k)
    assert math.isclose(hist["loss"][0], float(l_cls + 0.25 * l_reg), rel_tol=1e-6)
    assert math.isclose(hist["cls/loss"][0], float(l_cls), rel_tol=1e-6)
    assert math.isclose(hist["reg/loss"][0], float(l_reg), rel_tol=1e-6)
    acc = float((out["cls"].argmax(1) == y).float().mean())
    assert math.isclose(hist["cls/accuracy"][0], acc, rel_tol=1e-6)
    assert {"reg/r2", "reg/mae"} <= set(hist.history)
    res = tr.evaluate((x, (y, r)))
    assert set(res) == {"loss", "cls/loss", "reg/loss", "cls/accuracy", "reg/r2", "reg/mae"}
    with ember.no_grad():
        o = net(x)
    assert math.isclose(res["reg/loss"], float(nn.functional.mse_loss(o["reg"], r)), rel_tol=1e-6)


@pytest.mark.parametrize("layout", ["flat", "tuple", "dict"])
def test_targets_flat_tuple_or_dict_and_tuple_outputs(layout):
    x, y, r = _data()
    if layout == "flat":
        batches = [(x, y, r)]
    elif layout == "tuple":
        batches = [(x, (y, r))]
    else:
        batches = [(x, {"cls": y, "reg": r})]
    results = []
    for as_tuple in (False, True):
        ember.manual_seed(0)
        net = TwoHeads(as_tuple)
        tr = Trainer(net, LOSSES if not as_tuple else [LOSSES["cls"], LOSSES["reg"]],
                     ember.optim.SGD(net.parameters(), lr=0.1))
        if as_tuple and layout == "dict":
            batches = [(x, {"0": y, "1": r})]
        tr.fit(batches, epochs=2, verbose=0)
        results.append(tr.evaluate(batches))
    assert math.isclose(results[0]["loss"], results[1]["loss"], rel_tol=1e-6)
    assert "0/loss" in results[1] and "cls/loss" in results[0]
    pred = tr.predict(x)
    assert isinstance(pred, tuple) and pred[0].shape == (96, 3) and pred[1].shape == (96,)


def test_uncertainty_weighting_learns_and_resumes_exactly(tmp_path):
    x, y, r = _data(128)

    def make():
        ember.manual_seed(0)
        net = TwoHeads()
        uw = UncertaintyWeighting(["cls", "reg"], kinds={"reg": "regression"})
        opt = ember.optim.Adam(list(net.parameters()) + list(uw.parameters()), lr=0.01)
        loader = DataLoader(TensorDataset(x, y, r), batch_size=32, shuffle=True,
                            generator=ember.Generator().manual_seed(0))
        return net, uw, Trainer(net, LOSSES, opt, loss_weights=uw, metrics={"cls": "accuracy"}), loader

    net, uw, tr, loader = make()
    hist = tr.fit(loader, epochs=4, verbose=0)
    assert not np.allclose(uw.log_vars.detach().numpy(), 0)           # the weights were learned
    w = uw.weights()
    assert math.isclose(hist["reg/weight"][-1], w["reg"]) and math.isclose(hist["cls/weight"][-1], w["cls"])
    # stop after 2 epochs, resume from the checkpoint in fresh objects: the same weights and log-variances
    net2, uw2, tr2, loader2 = make()
    tr2.fit(loader2, epochs=2, verbose=0)
    tr2.save_checkpoint(tmp_path / "ck.safetensors")
    net3, uw3, tr3, loader3 = make()
    tr3.fit(loader3, epochs=4, resume_from=tmp_path / "ck.safetensors", verbose=0)
    np.testing.assert_array_equal(uw3.log_vars.detach().numpy(), uw.log_vars.detach().numpy())
    for p, q in zip(net3.parameters(), net.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_weighting_outside_the_optimizer_is_an_error():
    net = TwoHeads()
    uw = UncertaintyWeighting(["cls", "reg"])
    tr = Trainer(net, LOSSES, ember.optim.SGD(net.parameters(), lr=0.1), loss_weights=uw)
    x, y, r = _data(8)
    with pytest.raises(ValueError, match="log_vars' is not in the optimizer"):
        tr.fit([(x, y, r)], epochs=1, verbose=0)


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"loss_weights": {"cls": 1.0}, "loss_fn": nn.MSELoss()}, TypeError, "loss_weights needs one loss per head"),
    ({"loss_weights": {"clss": 2.0}}, ValueError, "loss_weights names head 'clss'"),
    ({"loss_weights": {"cls": -1.0}}, ValueError, "head 'cls' must be a finite number >= 0"),
    ({"metrics": ["accuracy"]}, TypeError, "metrics must be a dict"),
    ({"metrics": {"regg": ["r2"]}}, ValueError, "metrics name head 'regg'"),
    ({"loss_fn": {"cls": "ce"}}, TypeError, "the loss of head 'cls' is not callable"),
])
def test_constructor_errors(kwargs, exc, match):
    kw = {"loss_fn": LOSSES, **kwargs}
    with pytest.raises(exc, match=match):
        Trainer(TwoHeads(), kw.pop("loss_fn"), **kw)


def test_batch_and_output_errors_name_the_heads():
    x, y, r = _data(8)
    tr = Trainer(TwoHeads(), LOSSES, ember.optim.SGD(TwoHeads().parameters(), lr=0.1))
    with pytest.raises(ValueError, match="targets have no 'reg'"):
        tr.evaluate([(x, {"cls": y})])
    with pytest.raises(ValueError, match="1 targets for 2 heads"):
        tr.evaluate([(x, (y,))])
    with pytest.raises(ValueError, match="cannot hold inputs and one target for each of the 2 heads"):
        tr.evaluate([(x, y)])
    one = Trainer(nn.Linear(4, 3), LOSSES)
    with pytest.raises(ValueError, match=r"returned one Tensor of shape \(8, 3\).*2 heads \(cls, reg\)"):
        one.evaluate([(x, y, r)])
    with pytest.raises(ValueError, match="the loss of head 'cls' failed"):
        tr.evaluate([(x, r, r)])


def test_a_metric_object_passed_in_is_not_renamed():
    m = ember.metrics.Accuracy()
    tr = Trainer(TwoHeads(), LOSSES, metrics={"cls": [m]})
    assert m.name == "accuracy" and tr.metrics[0].name == "cls/accuracy"


def test_head_metrics_improve_the_way_their_metric_does(tmp_path):
    # (regression: "digit/accuracy" counted as lower-is-better, so EarlyStopping and the plots' best marks
    # picked the worst epoch of a head's accuracy)
    from ember.train.history import History, metric_mode
    assert metric_mode("val_digit/accuracy") == "max" and metric_mode("ink/r2") == "max"
    assert metric_mode("val_digit/loss") == "min" and metric_mode("digit/weight") == "min"
    es = ember.train.EarlyStopping(monitor="val_cls/accuracy", patience=0)
    es.set_trainer(Trainer(TwoHeads(), LOSSES))
    es.on_train_begin({})
    assert es.mode == "max"
    # many panels wrap into rows of four
    h = History()
    for e in range(2):
        h.record(e, {"loss": 1.0 - e / 4, **{f"h{i}/loss": 0.5 + i - e / 8 for i in range(6)}})
    import matplotlib.image
    img = matplotlib.image.imread(h.plot(tmp_path / "c.png"))
    assert img.shape[0] > img.shape[1] / 4            # two rows of four (0.41), not one row of seven (0.12)
