"""The generated captioned scenes: reproducible, and every caption, box and label agrees with the pixels."""
import numpy as np
import pytest

import ember
from ember.vision import datasets
from ember.vision.scenes import COLOURS, SHAPES, CaptionedScenes, Vocabulary, make_scenes


def test_same_seed_same_scenes_and_different_seed_differs():
    a, b, c = make_scenes(20, seed=3), make_scenes(20, seed=3), make_scenes(20, seed=4)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.captions == b.captions
    assert a.captions != c.captions
    assert a.images.shape == (20, 3, 32, 32) and a.images.dtype == np.float32
    assert 0.0 <= a.images.min() and a.images.max() <= 1.0


def _centre_colour(img, box):
    cx, cy = int((box[0] + box[2]) / 2), int((box[1] + box[3]) / 2)
    return img[:, cy, cx]


@pytest.mark.parametrize("k", [(1, 1), (2, 2), (1, 3)])
def test_captions_boxes_and_labels_agree_with_the_pixels(k):
    s = make_scenes(60, min_objects=k[0], max_objects=k[1], seed=1)
    for img, cap, boxes, labels, cols, sizes in zip(s.images, s.captions, s.boxes, s.labels, s.colours, s.sizes):
        assert k[0] <= len(boxes) <= k[1] and boxes.shape[1] == 4 and labels.dtype == np.int64
        for box, lab, col, size in zip(boxes, labels, cols, sizes):
            np.testing.assert_allclose(_centre_colour(img, box), COLOURS[col], atol=1e-6)
            side = box[2] - box[0]
            assert (side > 10) == (size == "large")
            assert f"a {size} {col} {SHAPES[lab]}" in cap
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        if len(boxes) == 2:
            rel = "left of" if " left of " in cap else "above"
            along, across = (0, 1) if rel == "left of" else (1, 0)
            assert centres[0, along] < centres[1, along]           # the first-named shape is left / above
            assert abs(centres[0, across] - centres[1, across]) <= 0.5 * (centres[1, along] - centres[0, along])
        elif len(boxes) > 2:
            assert cap.count(" and ") == len(boxes) - 1 and np.all(np.diff(centres[:, 0]) > 0)
        for i in range(len(boxes)):                               # shapes never overlap
            for j in range(i + 1, len(boxes)):
                assert (boxes[i, 2] <= boxes[j, 0] or boxes[j, 2] <= boxes[i, 0] or
                        boxes[i, 3] <= boxes[j, 1] or boxes[j, 3] <= boxes[i, 1])


def test_vocabulary_round_trip_padding_and_errors():
    v = Vocabulary.for_scenes()
    s = make_scenes(30, seed=0)
    for cap in s.captions:
        ids = v.encode(cap, max_len=14)
        assert ids[0] == v.BOS and len(ids) == 14 and v.UNK not in ids
        assert v.decode(ids) == cap
    assert v.decode([v.BOS, v.stoi["red"], v.EOS, v.stoi["blue"]]) == "red"
    with pytest.raises(ValueError, match="max_len=3"):
        v.encode("a small red circle", max_len=3)


def test_captioned_scenes_dataset_and_reexport():
    assert datasets.CaptionedScenes is CaptionedScenes
    ds = CaptionedScenes(10, max_len=12, seed=0)
    img, tok = ds[3]
    assert img.shape == (3, 32, 32) and tok.shape == (12,) and tok.dtype == np.int64
    assert ds.vocab.decode(tok) == ds.scenes.captions[3]
    loader = ember.data.DataLoader(ds, batch_size=4)
    x, t = next(iter(loader))
    assert tuple(x.shape) == (4, 3, 32, 32) and tuple(t.shape) == (4, 12)


def test_make_scenes_errors_name_the_argument():
    with pytest.raises(ValueError, match="make_scenes: n_samples"):
        make_scenes(0)
    with pytest.raises(ValueError, match="make_scenes: size"):
        make_scenes(5, size=8)
    with pytest.raises(ValueError, match="make_scenes: relations"):
        make_scenes(5, relations=("near",))
    with pytest.raises(ValueError, match="min_objects"):
        make_scenes(5, min_objects=3, max_objects=2)


def _component(mask, y, x):
    """The 4-connected component of ``mask`` holding (y, x), by flood fill."""
    seen, todo = set(), [(y, x)]
    while todo:
        p = todo.pop()
        if p in seen or not (0 <= p[0] < mask.shape[0] and 0 <= p[1] < mask.shape[1]) or not mask[p]:
            continue
        seen.add(p)
        todo += [(p[0] + 1, p[1]), (p[0] - 1, p[1]), (p[0], p[1] + 1), (p[0], p[1] - 1)]
    return np.array(sorted(seen))


def test_boxes_are_tight_around_the_painted_pixels():
    s = make_scenes(40, min_objects=1, max_objects=3, seed=7)
    for img, boxes, cols in zip(s.images, s.boxes, s.colours):
        for box, col in zip(boxes, cols):
            mask = np.all(np.abs(img - np.array(COLOURS[col], np.float32)[:, None, None]) < 1e-6, axis=0)
            pix = _component(mask, int((box[1] + box[3]) / 2), int((box[0] + box[2]) / 2))
            painted = (pix[:, 1].min(), pix[:, 0].min(), pix[:, 1].max() + 1, pix[:, 0].max() + 1)
            np.testing.assert_allclose(painted, box, atol=1.5)        # a triangle's apex is thinner than a pixel
