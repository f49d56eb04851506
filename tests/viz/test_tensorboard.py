"""ember.utils.tensorboard.SummaryWriter: event files written by hand, read back with TensorBoard's own reader and
compared with what torch.utils.tensorboard writes for the same calls."""
import os
import struct

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.utils.tensorboard import SummaryWriter, crc32c, masked_crc32c, tfrecord

tb = pytest.importorskip("tensorboard", reason="tensorboard (a test dependency) reads the event files back")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader  # noqa: E402


def _acc(d):
    ea = EventAccumulator(str(d), size_guidance={"tensors": 0, "scalars": 0, "histograms": 0, "images": 0})
    ea.Reload()
    return ea


def _events(d):
    files = sorted(f for f in os.listdir(d) if f.startswith("events.out.tfevents"))
    assert len(files) == 1
    return list(EventFileLoader(os.path.join(d, files[0])).Load())


def test_reachable_as_torch_names_it():
    import subprocess
    import sys
    code = "import ember; print(ember.utils.tensorboard.SummaryWriter.__name__)"     # no import of the module
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "SummaryWriter", out.stderr[-1000:]


def test_crc32c_and_record_framing():
    assert crc32c(b"123456789") == 0xE3069283              # the CRC-32C check value
    assert crc32c(b"") == 0
    rec = tfrecord(b"abc")
    n, = struct.unpack("<Q", rec[:8])
    assert n == 3 and rec[12:15] == b"abc"
    assert struct.unpack("<I", rec[8:12])[0] == masked_crc32c(rec[:8])
    assert struct.unpack("<I", rec[15:])[0] == masked_crc32c(b"abc")


def test_scalars_read_back(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for i in range(5):
            w.add_scalar("loss/train", ember.tensor(1.0 / (i + 1)), i)
        w.add_scalar("lr", 0.1, 7, walltime=1234.5)
        w.add_scalar("big", np.float64(3.25), 2**40)
    ev = _events(tmp_path)
    assert ev[0].file_version == "brain.Event:2"
    ea = _acc(tmp_path)
    assert [(e.step, e.value) for e in ea.Scalars("loss/train")] == \
        [(i, float(np.float32(1.0 / (i + 1)))) for i in range(5)]
    lr = ea.Scalars("lr")[0]
    assert (lr.step, lr.wall_time, lr.value) == (7, 1234.5, pytest.approx(0.1))
    assert ea.Scalars("big")[0].step == 2**40
    with pytest.raises(RuntimeError, match="closed"):
        w.add_scalar("x", 1.0, 0)
    with pytest.raises(ValueError, match="a single number, got an array of shape \\(2,\\)"):
        SummaryWriter(tmp_path / "b").add_scalar("x", ember.zeros(2), 0)


def test_add_scalars_writes_one_run_per_key(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalars("loss", {"train": 1.0, "val": 2.0}, 3)
    for key, v in (("train", 1.0), ("val", 2.0)):
        e = _acc(tmp_path / f"loss_{key}").Scalars("loss")[0]
        assert (e.step, e.value) == (3, v)


def _torch_events(tmp_path, fn):
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    d = tmp_path / "torch"
    w = TorchWriter(str(d))
    fn(w)
    w.close()
    return [e for e in _events(d) if e.HasField("summary")]


def test_histogram_matches_torch(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.standard_normal(500).astype(np.float32)
    for bins in ("tensorflow", 30, "auto"):
        d = tmp_path / f"e{bins}"
        with SummaryWriter(d) as w:
            w.add_histogram("w", ember.tensor(values), 4, bins=bins)
        ours = [e for e in _events(d) if e.HasField("summary")][0].summary.value[0].histo
        ref = _torch_events(tmp_path / f"t{bins}", lambda w: w.add_histogram("w", values, 4, bins=bins))
        theirs = ref[0].summary.value[0].histo
        assert list(ours.bucket) == list(theirs.bucket)
        np.testing.assert_allclose(ours.bucket_limit, theirs.bucket_limit, rtol=1e-12)
        assert (ours.min, ours.max, ours.num) == (theirs.min, theirs.max, theirs.num)
        assert ours.sum == pytest.approx(theirs.sum, rel=1e-6, abs=1e-6)
        assert ours.sum_squares == pytest.approx(theirs.sum_squares, rel=1e-6)
    assert _acc(tmp_path / "etensorflow").Histograms("w")[0].step == 4
    with pytest.raises(ValueError, match="NaN"):
        SummaryWriter(tmp_path / "n").add_histogram("w", np.array([1.0, np.nan]))


def test_images_decode_to_the_pixels(tmp_path):
    from PIL import Image
    import io
    rng = np.random.default_rng(1)
    chw = rng.random((3, 6, 9)).astype(np.float32)
    gray = (rng.random((5, 4)) * 255).astype(np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_image("rgb", ember.tensor(chw), 2)
        w.add_image("gray", gray, 3, dataformats="HW")
        w.add_images("batch", rng.random((5, 1, 4, 4)), 1)
    ea = _acc(tmp_path)
    im = ea.Images("rgb")[0]
    assert (im.step, im.width, im.height) == (2, 9, 6)
    px = np.asarray(Image.open(io.BytesIO(im.encoded_image_string)))
    # torch's rule: scaled by 255 in float32, clipped, truncated
    np.testing.assert_array_equal(px, np.clip(chw.transpose(1, 2, 0) * np.float32(255), 0, 255).astype(np.uint8))
    g = ea.Images("gray")[0]
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(g.encoded_image_string))), gray)
    b = ea.Images("batch")[0]
    assert (b.width, b.height) == (3 * 6 + 2, 2 * 6 + 2)        # 5 images in a 3 x 2 grid, 2-pixel borders
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = plt.figure(figsize=(2, 1.5), dpi=50)
    with SummaryWriter(tmp_path / "fig") as w:
        w.add_figure("plot", fig, 4)
    f = _acc(tmp_path / "fig").Images("plot")[0]
    assert (f.step, f.width, f.height) == (4, 100, 75) and not plt.fignum_exists(fig.number)
    with pytest.raises(ValueError, match="dataformats 'CHW' does not describe an image of shape \\(4, 4\\)"):
        SummaryWriter(tmp_path / "x").add_image("bad", np.zeros((4, 4)))


def test_text_and_hparams_as_torch_writes_them(tmp_path):
    from tensorboard.plugins.hparams import plugin_data_pb2
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "hello **world**", 5)
        w.add_hparams({"lr": 0.01, "opt": "adam", "bn": True}, {"hparam/acc": 0.9}, run_name="run1",
                      hparam_domain_discrete={"opt": ["adam", "sgd"]})
    ours = [e for e in _events(tmp_path) if e.HasField("summary")][0]
    ref = _torch_events(tmp_path, lambda w: w.add_text("notes", "hello **world**", 5))[0]
    assert ours.step == ref.step == 5
    assert ours.summary.value[0].tag == ref.summary.value[0].tag == "notes/text_summary"
    assert ours.summary.value[0].metadata.plugin_data.plugin_name == "text"
    assert ours.summary.value[0].tensor == ref.summary.value[0].tensor
    ea = _acc(tmp_path / "run1")
    assert ea.Scalars("hparam/acc")[0].value == pytest.approx(0.9)
    data = {}
    for e in _events(tmp_path / "run1"):
        for v in e.summary.value:
            if v.metadata.plugin_data.plugin_name == "hparams":
                data[v.tag] = plugin_data_pb2.HParamsPluginData.FromString(v.metadata.plugin_data.content)
    exp = data["_hparams_/experiment"].experiment
    assert [h.name for h in exp.hparam_infos] == ["lr", "opt", "bn"]
    assert [v.string_value for v in exp.hparam_infos[1].domain_discrete.values] == ["adam", "sgd"]
    assert [m.name.tag for m in exp.metric_infos] == ["hparam/acc"]
    start = data["_hparams_/session_start_info"].session_start_info
    assert start.hparams["lr"].number_value == 0.01 and start.hparams["opt"].string_value == "adam"
    assert start.hparams["bn"].bool_value is True
    assert data["_hparams_/session_end_info"].session_end_info.status == 1
    with pytest.raises(ValueError, match="value of 'x' must be"):
        SummaryWriter(tmp_path / "y").add_hparams({"x": [1, 2]}, {})


def test_graph_read_back(tmp_path):
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with SummaryWriter(tmp_path) as w:
        w.add_graph(model, ember.randn(5, 4))
    ea = _acc(tmp_path)
    g = ea.Graph()
    ops = {n.name: n for n in g.node}
    assert "0.weight" in ops and ops["0.weight"].op == "Parameter"
    assert [n.op for n in g.node if n.op not in ("Parameter", "Input", "Output")] == ["linear", "relu", "linear"]
    assert ops["input_x"].op == "Input"
    names = set(ops)
    assert all(i.lstrip("^") in names for n in g.node for i in n.input)
    out = [n for n in g.node if n.op == "Output"][0]
    assert [d.size for d in out.attr["_output_shapes"].list.shape[0].dim] == [5, 2]
    # a tensor: its autograd graph
    with SummaryWriter(tmp_path / "t") as w:
        w.add_graph(model(ember.randn(3, 4)).sum())
    names = {n.op for n in _acc(tmp_path / "t").Graph().node}
    assert {"AccumulateGrad", "Input", "Saved", "Output"} <= names      # unnamed leaves are inputs
