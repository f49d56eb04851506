"""The zoo's captioning and detection models and BLEU: shapes, teacher forcing equals step-by-step decoding,
exact beam search equals brute-force search, detector targets decode back to the boxes."""
import itertools
import math
from collections import Counter

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.models import CaptionNet, GridDetector
from ember.vision.metrics import bleu_score, bleu_scores
from ember.vision.scenes import SHAPES, CaptionedScenes, make_scenes


@pytest.fixture(scope="module")
def scenes():
    return CaptionedScenes(6, max_len=12, seed=0)


@pytest.mark.parametrize("attention", [False, True])
def test_caption_net_teacher_forcing_matches_stepping(scenes, attention):
    ember.manual_seed(0)
    m = CaptionNet(len(scenes.vocab), attention=attention)
    x, t = ember.tensor(scenes.scenes.images), ember.tensor(scenes.tokens)
    logits = m(x, t)
    assert tuple(logits.shape) == (6, len(scenes.vocab), 11)
    state, memory = m.encode(x)
    for k in range(11):
        out, state, alpha = m.step(t[:, k], state, memory)
        np.testing.assert_allclose(out.detach().numpy(), logits[:, :, k].detach().numpy(), rtol=1e-5, atol=1e-6)
        if attention:
            np.testing.assert_allclose(alpha.detach().numpy().sum(1), 1.0, rtol=1e-5)
    loss = F.cross_entropy(logits, t[:, 1:], ignore_index=0)
    loss.backward()
    assert all(p.grad is not None for p in m.parameters())       # every weight takes part (incl. the encoder)


def _seq_logprob(m, x, words, max_len):
    """Sum of log-probabilities of ``words`` (+ EOS unless max_len words) for one image, by teacher forcing."""
    state, memory = m.encode(x)
    tok, total = ember.tensor([1]), 0.0
    for w in (list(words) + [2])[:max_len]:
        out, state, _ = m.step(tok, state, memory)
        total += float(F.log_softmax(out, dim=1)[0, w])
        tok = ember.tensor([w])
    return total


@pytest.mark.parametrize("attention", [False, True])
def test_beam_search_exact_when_wide_and_greedy_when_one(attention):
    ember.manual_seed(1)
    vocab, max_len = 5, 3                                          # words 3, 4; EOS 2
    m = CaptionNet(vocab, attention=attention, hidden_size=8, embed_dim=4, channels=4, attn_dim=4, image_size=16)
    m.eval()
    x = ember.rand(2, 3, 16, 16)
    with ember.no_grad():
        beam = m.beam_search(x, beam_size=27, max_len=max_len)
        one = m.beam_search(x, beam_size=1, max_len=max_len)
        greedy = m.greedy(x, max_len=max_len).numpy()
        for i in range(2):
            cands = [list(c[:c.index(2)] if 2 in c else c) for L in range(1, max_len + 1)
                     for c in itertools.product([2, 3, 4], repeat=L) if 2 not in c[:-1] and (L == max_len or c[-1] == 2)]
            best = max(cands, key=lambda c: _seq_logprob(m, x[i:i + 1], c, max_len))
            assert beam[i] == best
            g = [int(w) for w in greedy[i] if w != 0]
            assert one[i] == (g[:g.index(2)] if 2 in g else g)


def test_caption_net_errors(scenes):
    m = CaptionNet(vocab_size=len(scenes.vocab))
    with pytest.raises(ValueError, match=r"CaptionNet expected tokens of shape \(2, T >= 2\)"):
        m(ember.rand(2, 3, 32, 32), ember.zeros(3, 5, dtype=ember.int64))
    with pytest.raises(ValueError, match=r"CaptionEncoder expected images of shape \(N, 3, H, W\), got \(2, 1, 32, 32\)"):
        m(ember.rand(2, 1, 32, 32), ember.zeros(2, 5, dtype=ember.int64))


def _bleu_reference(cands, refs, n_max):
    """BLEU written out directly from Papineni et al.'s definitions (lists instead of Counters)."""
    log_sum, c_len, r_len = 0.0, 0, 0
    for n in range(1, n_max + 1):
        match = tot = 0
        for c, rs in zip(cands, refs):
            grams = [tuple(c[i:i + n]) for i in range(len(c) - n + 1)]
            for g in set(grams):
                most = max([sum(1 for i in range(len(r) - n + 1) if tuple(r[i:i + n]) == g) for r in rs])
                match += min(grams.count(g), most)
            tot += len(grams)
        if match == 0:
            return 0.0
        log_sum += math.log(match / tot) / n_max
    for c, rs in zip(cands, refs):
        c_len += len(c)
        diffs = [abs(len(r) - len(c)) for r in rs]
        r_len += len(rs[diffs.index(min(diffs))])
    return (1.0 if c_len > r_len else math.exp(1 - r_len / c_len)) * math.exp(log_sum)


@pytest.mark.parametrize("seed", range(5))
def test_bleu_matches_the_definition(seed):
    rng = np.random.default_rng(seed)
    words = list("abcde")
    cands = [list(rng.choice(words, rng.integers(4, 9))) for _ in range(6)]
    refs = [[list(rng.choice(words, rng.integers(4, 9))) for _ in range(rng.integers(1, 3))] for _ in range(6)]
    for n in (1, 2, 3, 4):
        assert math.isclose(bleu_score(cands, refs, max_n=n), _bleu_reference(cands, refs, n), rel_tol=1e-12)


def test_bleu_edge_cases():
    s = "a small red circle left of a large blue square".split()
    assert bleu_scores([s], [[s]]) == {"bleu1": 1.0, "bleu2": 1.0, "bleu3": 1.0, "bleu4": 1.0}
    short = s[:5]                                                   # all n-grams match: only the brevity penalty
    assert math.isclose(bleu_score([short], [[s]]), math.exp(1 - len(s) / 5), rel_tol=1e-12)
    assert bleu_score([["x", "y", "z", "w"]], [[s]]) == 0.0
    with pytest.raises(ValueError, match="bleu_score: 1 candidates but 2 reference lists"):
        bleu_score([s], [[s], [s]])


def test_grid_detector_targets_decode_back_to_the_boxes():
    s = make_scenes(5, min_objects=1, max_objects=3, seed=2)
    det = GridDetector(num_classes=len(SHAPES), grid=4, image_size=32)
    tgt = det.encode_targets(s.boxes, s.labels)
    obj, box, cls = tgt["obj"].numpy(), tgt["box"].numpy(), tgt["cls"].numpy()
    assert obj.sum() == sum(len(b) for b in s.boxes)
    # raw outputs that say exactly the targets: logit(obj), logit(box terms), one-hot class logits
    eps = 1e-6
    raw = np.zeros((5, 5 + len(SHAPES), 4, 4))
    raw[:, 0] = np.where(obj > 0, 20.0, -20.0)
    b = np.clip(box, eps, 1 - eps)
    raw[:, 1:5] = np.log(b / (1 - b))
    for c in range(len(SHAPES)):
        raw[:, 5 + c] = np.where(cls == c, 20.0, 0.0)
    det.forward = lambda x: ember.tensor(raw)
    for (boxes, scores, labels), gb, gl in zip(det.detect(ember.zeros(5, 3, 32, 32)), s.boxes, s.labels):
        order = np.argsort(boxes[:, 0])
        np.testing.assert_allclose(boxes[order], gb[np.argsort(gb[:, 0])], atol=1e-3)
        np.testing.assert_array_equal(labels[order], gl[np.argsort(gb[:, 0])])
    out = ember.tensor(raw, requires_grad=True)
    loss = det.loss(out, tgt)
    loss.backward()
    assert float(loss) < 1e-3 and out.grad.shape == out.shape


def test_grid_detector_loss_gradient_matches_finite_differences():
    s = make_scenes(2, min_objects=1, max_objects=3, seed=4)
    det = GridDetector(num_classes=3, grid=4, image_size=32)
    tgt = {k: (v.to(ember.float64) if v.is_floating_point() else v) for k, v in det.encode_targets(s.boxes, s.labels).items()}
    raw = np.random.default_rng(0).normal(size=(2, 8, 4, 4))
    out = ember.tensor(raw, requires_grad=True)
    det.loss(out, tgt).backward()
    g = out.grad.numpy()
    for idx in [(0, 0, 1, 1), (1, 2, 0, 3), (0, 6, 2, 2), (1, 4, 3, 0)]:
        d = np.zeros_like(raw)
        d[idx] = 1e-6
        num = (float(det.loss(ember.tensor(raw + d), tgt)) - float(det.loss(ember.tensor(raw - d), tgt))) / 2e-6
        assert math.isclose(g[idx], num, rel_tol=1e-5, abs_tol=1e-7)
    with pytest.raises(ValueError, match=r"GridDetector expected images of shape \(N, 3, 32, 32\)"):
        det(ember.rand(1, 3, 28, 28))


def test_multitask_net_heads_and_uncertainty_weighting():
    from ember.models import FixedWeighting, MultiTaskNet, UncertaintyWeighting, mnist_trunk
    ember.manual_seed(0)
    net = MultiTaskNet(mnist_trunk(16, width=4), {"digit": 10, "parity": 1}, features=16)
    out = net(ember.rand(3, 1, 28, 28))
    assert tuple(out["digit"].shape) == (3, 10) and tuple(out["parity"].shape) == (3,)
    uw = UncertaintyWeighting(["a", "b"], kinds={"b": "regression"})
    with ember.no_grad():
        uw.log_vars.copy_(ember.tensor([0.3, -0.7]))
    la = ember.tensor(1.5, requires_grad=True)
    lb = ember.tensor(0.4, requires_grad=True)
    total = uw({"a": la, "b": lb})
    s = np.array([0.3, -0.7])
    expected = np.exp(-s[0]) * 1.5 + s[0] / 2 + 0.5 * np.exp(-s[1]) * 0.4 + s[1] / 2      # Kendall et al. (2018)
    assert math.isclose(float(total), expected, rel_tol=1e-6)
    total.backward()
    # d/ds_i: -c_i exp(-s_i) L_i + 1/2; d/dL_i: c_i exp(-s_i)
    np.testing.assert_allclose(uw.log_vars.grad.numpy(), [-np.exp(-0.3) * 1.5 + 0.5, -0.5 * np.exp(0.7) * 0.4 + 0.5], rtol=1e-6)
    assert math.isclose(float(la.grad), np.exp(-0.3), rel_tol=1e-6)
    assert uw.weights() == pytest.approx({"a": np.exp(-0.3), "b": 0.5 * np.exp(0.7)}, rel=1e-6)
    assert float(FixedWeighting({"a": 2.0})({"a": la, "b": lb})) == pytest.approx(3.4)
    with pytest.raises(ValueError, match=r"UncertaintyWeighting expected losses for \['a', 'b'\], got \['a'\]"):
        uw({"a": la})
    with pytest.raises(ValueError, match="UncertaintyWeighting: kinds must map"):
        UncertaintyWeighting(["a"], kinds={"a": "ranking"})
    with pytest.raises(ValueError, match="MultiTaskNet: expected at least one head"):
        MultiTaskNet(mnist_trunk(), {}, features=64)


def test_style_transfer_shapes_gram_and_decreasing_losses():
    from ember.models.style_transfer import StyleLoss, gram_matrix, style_transfer
    from ember import nn
    from ember.models.style_transfer import VGG19_CONTENT_LAYERS, VGG19_STYLE_LAYERS
    from ember.vision.models.vgg import CFGS
    from tests.helpers import compare
    compare(lambda m, f: (lambda g: g @ g.transpose(1, 2) / 24)(f.reshape(2, 3, 8)) if m is not ember
            else gram_matrix(f), [(2, 3, 2, 4)])
    ember.manual_seed(0)
    # the default layers are the ReLUs after conv1_1 .. conv5_1 and conv4_2 in torchvision's VGG-19 layout
    layout = [("M" if v == "M" else k) for v in CFGS["E"] for k in (["M"] if v == "M" else ["conv", "relu"])]
    assert all(layout[i] == "relu" for i in VGG19_STYLE_LAYERS + VGG19_CONTENT_LAYERS)
    assert [sum(1 for x in layout[:i] if x == "M") for i in VGG19_STYLE_LAYERS] == [0, 1, 2, 3, 4]
    # a small VGG-like stack with random weights: only shapes and the optimisation are checked
    features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
    content, style = ember.rand(1, 3, 32, 32), ember.rand(1, 3, 32, 32)
    image, hist = style_transfer(content, style, features, steps=8, style_layers=(1, 4, 7), content_layers=(9,),
                                 style_weight=1e3, lr=0.01)
    assert tuple(image.shape) == (1, 3, 32, 32) and 0 <= float(image.min()) and float(image.max()) <= 1
    assert all(b[0] < a[0] for a, b in zip(hist, hist[1:]))      # the total falls at every step
    assert hist[-1][2] < hist[0][2] / 2
    loss = StyleLoss(features, content, content, style_layers=(1,), content_layers=(4,))
    c, s = loss(content)
    assert float(c) == 0.0 and float(s) == 0.0
    with pytest.raises(ValueError, match="StyleLoss: layer index 99 out of range"):
        StyleLoss(features, content, style, style_layers=(99,))


def test_caption_net_trains_with_the_trainer(scenes):
    from ember.train import Trainer
    ember.manual_seed(0)
    m = CaptionNet(len(scenes.vocab), hidden_size=16, embed_dim=8, channels=8)
    loader = ember.data.DataLoader(scenes, batch_size=3)
    opt = ember.optim.Adam(m.parameters(), lr=1e-2)
    before = float(m.training_step(next(iter(loader)))["loss"])
    Trainer(m, None, opt).fit(loader, epochs=5, verbose=0)
    after = m.training_step(next(iter(loader)))
    assert float(after["loss"]) < before and 0.0 <= after["token_accuracy"] <= 1.0
