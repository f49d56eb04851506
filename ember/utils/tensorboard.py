"""``SummaryWriter`` with ``torch.utils.tensorboard``'s interface, writing TensorBoard event files by hand: no
TensorFlow and no protobuf package are needed to write them (TensorBoard itself is needed only to look at them).

    from ember.utils.tensorboard import SummaryWriter
    with SummaryWriter("runs/exp1") as w:
        for step in range(100):
            w.add_scalar("loss/train", loss, step)
        w.add_histogram("fc1.weight", model.fc1.weight, step)

An event file is a sequence of TFRecords (``uint64 length, uint32 masked CRC32C of the length, data, uint32
masked CRC32C of the data``), each holding one ``Event`` protocol buffer; the messages used here (Event, Summary,
HistogramProto, Image, TensorProto, SummaryMetadata, GraphDef and the hparams plugin's messages) are encoded
field by field below, with the field numbers of TensorBoard's .proto files.
"""
from __future__ import annotations

import os
import socket
import struct
import time
import zlib

__all__ = ["SummaryWriter"]


# -- CRC32C (Castagnoli), as TFRecord uses it ----------------------------------------------------------------------

def _crc_table():
    poly = 0x82F63B78
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """The CRC-32C checksum of ``data``."""
    crc = 0xFFFFFFFF
    t = _TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotate right by 15 bits and add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data: bytes) -> bytes:
    """One TFRecord holding ``data``."""
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))


# -- protocol buffer encoding ----------------------------------------------------------------------------------------

def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64                    # int64 negatives: ten-byte two's complement, as protobuf does
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _f_varint(field: int, n: int) -> bytes:
    return _key(field, 0) + _varint(int(n))


def _f_double(field: int, x: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", float(x))


def _f_float(field: int, x: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", float(x))


def _f_bytes(field: int, b) -> bytes:
    if isinstance(b, str):
        b = b.encode("utf-8")
    return _key(field, 2) + _varint(len(b)) + bytes(b)


def _f_packed_doubles(field: int, xs) -> bytes:
    return _f_bytes(field, b"".join(struct.pack("<d", float(x)) for x in xs))


def _event(summary: bytes | None = None, step: int = 0, wall_time: float | None = None, **other) -> bytes:
    """Event: wall_time=1 (double), step=2 (int64), file_version=3, graph_def=4, summary=5."""
    out = _f_double(1, time.time() if wall_time is None else wall_time)
    if step:
        out += _f_varint(2, step)
    if "file_version" in other:
        out += _f_bytes(3, other["file_version"])
    if "graph_def" in other:
        out += _f_bytes(4, other["graph_def"])
    if summary is not None:
        out += _f_bytes(5, summary)
    return out


def _value(tag: str, metadata: bytes | None = None, **kind) -> bytes:
    """Summary.Value: tag=1, simple_value=2 (float), image=4, histo=5, tensor=8, metadata=9."""
    out = _f_bytes(1, tag)
    if metadata is not None:
        out += _f_bytes(9, metadata)
    if "simple_value" in kind:
        out += _f_float(2, kind["simple_value"])
    if "image" in kind:
        out += _f_bytes(4, kind["image"])
    if "histo" in kind:
        out += _f_bytes(5, kind["histo"])
    if "tensor" in kind:
        out += _f_bytes(8, kind["tensor"])
    return _f_bytes(1, out)             # Summary: repeated Value value = 1


def _metadata(plugin: str, content: bytes = b"", display_name: str | None = None) -> bytes:
    """SummaryMetadata: plugin_data=1 {plugin_name=1, content=2}, display_name=2."""
    pd = _f_bytes(1, plugin) + (_f_bytes(2, content) if content else b"")
    out = _f_bytes(1, pd)
    if display_name is not None:
        out += _f_bytes(2, display_name)
    return out


def _string_tensor(strings) -> bytes:
    """TensorProto of DT_STRING (7), shape [len(strings)]: dtype=1, tensor_shape=2 {dim=2 {size=1}}, string_val=8."""
    shape = _f_bytes(2, _f_varint(1, len(strings)))
    return _f_varint(1, 7) + _f_bytes(2, shape) + b"".join(_f_bytes(8, s) for s in strings)


def _pb_value(v) -> bytes:
    """google.protobuf.Value: number_value=2, string_value=3, bool_value=4."""
    if isinstance(v, bool):
        return _f_varint(4, int(v))
    if isinstance(v, (int, float)):
        return _f_double(2, v)
    return _f_bytes(3, str(v))


# -- values -------------------------------------------------------------------------------------------------------

def _array(x, who: str):
    from ..backend import np
    a = getattr(x, "_data", None)
    if a is None:
        if hasattr(x, "detach") and hasattr(x, "cpu"):       # a torch tensor
            x = x.detach().cpu().numpy()
        a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"SummaryWriter.{who}: expected numbers, got an array of dtype {a.dtype}")
    return a


def _scalar(x, who: str) -> float:
    a = _array(x, who)
    if a.size != 1:
        raise ValueError(f"SummaryWriter.{who}: expected a single number, got an array of shape {tuple(a.shape)}")
    return float(a.reshape(()))


def _tf_bins():
    """TensorFlow's default histogram bucket edges: +-1e-12 * 1.1^k up to 1e20, and 0."""
    v, pos = 1e-12, []
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-x for x in reversed(pos)] + [0.0] + pos


def _histogram(values, bins, max_bins=None) -> bytes:
    """HistogramProto: min=1, max=2, num=3, sum=4, sum_squares=5, bucket_limit=6, bucket=7 (packed doubles)."""
    from ..backend import np
    a = np.asarray(values, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError("SummaryWriter.add_histogram: the values are empty")
    if not np.isfinite(a).all():
        raise ValueError("SummaryWriter.add_histogram: the values contain NaN or infinity")
    edges = _tf_bins() if isinstance(bins, str) and bins == "tensorflow" else bins
    counts, limits = np.histogram(a, bins=edges)
    if max_bins is not None and len(counts) > max_bins:
        k = -(-len(counts) // max_bins)
        pad = (-len(counts)) % k
        counts = np.pad(counts, (0, pad)).reshape(-1, k).sum(axis=1)
        limits = np.concatenate([limits[:-1:k], limits[-1:]])
    nz = np.nonzero(counts)[0]
    first, last = (int(nz[0]), int(nz[-1])) if nz.size else (0, len(counts) - 1)
    # as torch's make_histogram: the occupied buckets and one empty bucket before them; bucket_limit holds each
    # bucket's right edge
    if first > 0:
        counts, limits = counts[first - 1:last + 1], limits[first:last + 2]
    else:
        counts, limits = np.concatenate([[0], counts[:last + 1]]), limits[:last + 2]
    return (_f_double(1, a.min()) + _f_double(2, a.max()) + _f_double(3, a.size) + _f_double(4, a.sum()) +
            _f_double(5, float(np.dot(a, a))) + _f_packed_doubles(6, limits) + _f_packed_doubles(7, counts))


def _png(hwc) -> bytes:
    """A PNG (8-bit grayscale, RGB or RGBA) written with zlib, no imaging library needed."""
    h, w, c = hwc.shape
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + hwc[i].tobytes() for i in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def _image_hwc(img, dataformats: str, who: str):
    from ..backend import np
    a = _array(img, who)
    fmt = dataformats.upper()
    if sorted(fmt) != sorted(set(fmt)) or set(fmt) - set("NCHW") or len(fmt) != a.ndim:
        raise ValueError(f"SummaryWriter.{who}: dataformats {dataformats!r} does not describe an image of shape "
                         f"{tuple(a.shape)} (expected one of CHW, HWC, HW, NCHW, NHWC with one letter per dim)")
    if "N" in fmt:                       # a batch: tile into a grid, as torchvision's make_grid
        a = np.moveaxis(a, [fmt.index(x) for x in "NHW" + ("C" if "C" in fmt else "")],
                        list(range(4 if "C" in fmt else 3)))
        if "C" not in fmt:
            a = a[..., None]
        n, h, w, c = a.shape
        cols = int(np.ceil(np.sqrt(n)))
        rows = int(np.ceil(n / cols))
        grid = np.zeros((rows * (h + 2) + 2, cols * (w + 2) + 2, c), dtype=a.dtype)
        for i in range(n):
            r, k = divmod(i, cols)
            grid[2 + r * (h + 2): 2 + r * (h + 2) + h, 2 + k * (w + 2): 2 + k * (w + 2) + w] = a[i]
        a = grid
    else:
        order = [fmt.index(x) for x in "HW"] + ([fmt.index("C")] if "C" in fmt else [])
        a = np.transpose(a, order)
        if "C" not in fmt:
            a = a[..., None]
    if a.shape[2] not in (1, 3, 4):
        raise ValueError(f"SummaryWriter.{who}: an image needs 1, 3 or 4 channels, got {a.shape[2]}")
    if a.dtype != np.uint8:             # as torch: anything but uint8 is scaled by 255, clipped and truncated
        a = np.clip(a.astype(np.float32) * np.float32(255), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def _image(hwc) -> bytes:
    """Image: height=1, width=2, colorspace=3, encoded_image_string=4."""
    h, w, c = hwc.shape
    return _f_varint(1, h) + _f_varint(2, w) + _f_varint(3, c) + _f_bytes(4, _png(hwc))


# -- the writer ---------------------------------------------------------------------------------------------------

class _EventFile:
    def __init__(self, logdir: str, suffix: str = "") -> None:
        os.makedirs(logdir, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{id(self) % 100000}"
        self.path = os.path.join(logdir, name + suffix)
        self.f = open(self.path, "ab")
        self.write(_event(file_version="brain.Event:2"))
        self.f.flush()

    def write(self, event: bytes) -> None:
        self.f.write(tfrecord(event))

    def flush(self) -> None:
        if not self.f.closed:
            self.f.flush()

    def close(self) -> None:
        if not self.f.closed:
            self.f.close()


class SummaryWriter:
    """Writes TensorBoard event files in ``log_dir`` (default ``runs/<date>_<host><comment>``), as
    ``torch.utils.tensorboard.SummaryWriter``: ``add_scalar``, ``add_scalars``, ``add_histogram``, ``add_image``,
    ``add_images``, ``add_figure``, ``add_text``, ``add_hparams``, ``add_graph`` (the traced forward graph),
    ``flush``, ``close``; usable as a context manager.  Values may be ember tensors, NumPy arrays or numbers.
    Not implemented: ``purge_step`` (accepted, ignored), audio, video, embeddings, PR curves, meshes, custom
    scalar layouts."""

    def __init__(self, log_dir=None, comment: str = "", purge_step=None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        if log_dir is None:
            stamp = time.strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue = int(max_queue)
        self.flush_secs = float(flush_secs)
        self.filename_suffix = filename_suffix
        self._file = _EventFile(self.log_dir, filename_suffix)
        self._children: dict = {}
        self._pending = 0
        self._last_flush = time.time()
        self._closed = False

    def get_logdir(self) -> str:
        """The directory the event files are written to."""
        return self.log_dir

    # -- plumbing ---------------------------------------------------------------------------------------------
    def _write(self, summary: bytes, step, walltime, file=None) -> None:
        if self._closed:
            raise RuntimeError("SummaryWriter: the writer is closed; make a new one to write more")
        step = 0 if step is None else int(_scalar(step, "global_step"))
        (file or self._file).write(_event(summary, step, walltime))
        self._pending += 1
        if self._pending >= self.max_queue or time.time() - self._last_flush >= self.flush_secs:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered to disk."""
        self._file.flush()
        for f in self._children.values():
            f.flush()
        self._pending = 0
        self._last_flush = time.time()

    def close(self) -> None:
        """Flush and close the event files (further writes raise)."""
        if self._closed:
            return
        self.flush()
        self._file.close()
        for f in self._children.values():
            f.close()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- values -----------------------------------------------------------------------------------------------
    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """One number under ``tag`` at ``global_step`` (a float32 ``simple_value``, as torch writes by default;
        ``new_style=True`` writes a scalars-plugin tensor instead)."""
        v = _scalar(scalar_value, "add_scalar")
        if new_style:
            dtype, field = (2, 6) if double_precision else (1, 5)       # DT_DOUBLE double_val / DT_FLOAT float_val
            pack = "<d" if double_precision else "<f"
            tensor = _f_varint(1, dtype) + _f_bytes(2, b"") + _f_bytes(field, struct.pack(pack, v))
            self._write(_value(tag, _metadata("scalars"), tensor=tensor), global_step, walltime)
        else:
            self._write(_value(tag, simple_value=v), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None, walltime=None) -> None:
        """Several numbers drawn on one chart: each goes to its own run ``<log_dir>/<main_tag>_<key>`` under
        the tag ``main_tag``, as torch does."""
        for key, v in tag_scalar_dict.items():
            sub = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + str(key))
            if sub not in self._children:
                self._children[sub] = _EventFile(sub, self.filename_suffix)
            self._write(_value(main_tag, simple_value=_scalar(v, "add_scalars")), global_step, walltime,
                        file=self._children[sub])

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None) -> None:
        """A histogram of ``values``; ``bins``: "tensorflow" (TensorFlow's exponential buckets, torch's
        default), an int, a NumPy rule name ("auto", "fd", ...) or the edges."""
        self._write(_value(tag, histo=_histogram(_array(values, "add_histogram"), bins, max_bins)), global_step,
                    walltime)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "CHW") -> None:
        """One image (uint8, or [0, 1] values that are scaled by 255 and truncated as torch does), as PNG; ``dataformats`` CHW, HWC, HW (or NCHW/NHWC,
        tiled into a grid)."""
        self._write(_value(tag, image=_image(_image_hwc(img_tensor, dataformats, "add_image"))), global_step,
                    walltime)

    def add_images(self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "NCHW") -> None:
        """A batch of images tiled into one grid picture."""
        self._write(_value(tag, image=_image(_image_hwc(img_tensor, dataformats, "add_images"))), global_step,
                    walltime)

    def add_figure(self, tag: str, figure, global_step=None, close: bool = True, walltime=None) -> None:
        """A matplotlib Figure (or a list of them, tiled) rendered to an image; ``close`` closes it after."""
        from ..backend import np
        figs = figure if isinstance(figure, (list, tuple)) else [figure]
        images = []
        for f in figs:
            f.canvas.draw()
            images.append(np.asarray(f.canvas.buffer_rgba())[..., :3].copy())
            if close:
                import matplotlib.pyplot as plt
                plt.close(f)
        if len(images) == 1:
            self.add_image(tag, images[0], global_step, walltime, dataformats="HWC")
        else:
            self.add_images(tag, np.stack(images), global_step, walltime, dataformats="NHWC")

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """Markdown text, under ``<tag>/text_summary`` as torch writes it (the text plugin's tensor)."""
        if not isinstance(text_string, str):
            raise TypeError(f"SummaryWriter.add_text: expected a str, got {type(text_string).__name__}")
        self._write(_value(tag + "/text_summary", _metadata("text"), tensor=_string_tensor([text_string])),
                    global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None) -> None:
        """A hyper-parameter run for TensorBoard's HParams tab: the experiment, session start (the values) and
        end, written to the run ``<log_dir>/<run_name or time>``, with each metric written there as a scalar."""
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("SummaryWriter.add_hparams: hparam_dict and metric_dict must be dicts")
        for k, v in hparam_dict.items():
            if not (v is None or isinstance(v, (bool, int, float, str)) or hasattr(v, "_data")):
                raise ValueError(f"SummaryWriter.add_hparams: value of {k!r} must be a bool, number, string or "
                                 f"tensor, got {type(v).__name__}")
        hp = {k: (_scalar(v, "add_hparams") if hasattr(v, "_data") else v) for k, v in hparam_dict.items()}
        hp = {k: v for k, v in hp.items() if v is not None}
        domains = hparam_domain_discrete or {}
        infos = b""
        for k, v in hp.items():
            info = _f_bytes(1, k)
            dtype = 3 if isinstance(v, bool) else 2 if isinstance(v, (int, float)) else 1   # BOOL, FLOAT64, STRING
            info += _f_varint(4, dtype)
            if k in domains:
                lv = b"".join(_f_bytes(1, _pb_value(d)) for d in domains[k])        # ListValue: values = 1
                info += _f_bytes(5, lv)
            infos += _f_bytes(4, info)
        metrics = b"".join(_f_bytes(5, _f_bytes(1, _f_bytes(2, m))) for m in metric_dict)
        experiment = infos + metrics
        start = b"".join(_f_bytes(1, _f_bytes(1, k) + _f_bytes(2, _pb_value(v))) for k, v in hp.items())
        start += _f_double(5, time.time())
        end = _f_varint(1, 1) + _f_double(2, time.time())         # STATUS_SUCCESS

        def plugin(field, body):        # HParamsPluginData: version=1, experiment=2, session_start=3, end=4
            return _metadata("hparams", _f_bytes(field, body))
        run = os.path.join(self.log_dir, str(run_name) if run_name is not None else str(time.time()))
        f = self._children.get(run)
        if f is None:
            f = self._children[run] = _EventFile(run, self.filename_suffix)
        for tag, field, body in (("_hparams_/experiment", 2, experiment),
                                 ("_hparams_/session_start_info", 3, start),
                                 ("_hparams_/session_end_info", 4, end)):
            self._write(_value(tag, plugin(field, body)), None, None, file=f)
        for k, v in metric_dict.items():
            self._write(_value(k, simple_value=_scalar(v, "add_hparams")), global_step, None, file=f)

    def add_graph(self, model, input_to_model=None, verbose: bool = False, use_strict_trace: bool = True) -> None:
        """The graph of ``model(input_to_model)`` as a GraphDef for TensorBoard's Graphs tab: the forward graph
        ``ember.jit.trace`` records (as torch traces it: inputs, parameters by name, one node per op call), or,
        given a tensor as ``model``, the autograd graph behind it (backward nodes, parameters, saved tensors)."""
        from ..viz.graph import draw_graph
        g = draw_graph(model, input_to_model, mode="trace") if input_to_model is not None else draw_graph(model)
        names: dict = {}
        used: set = set()
        for nid, n in g.nodes.items():
            base = n["label"].split("\n")[0].replace(" ", "_").replace("::", "_").replace(":", "") or n["kind"]
            name, i = base, 1
            while name in used:
                name, i = f"{base}_{i}", i + 1
            used.add(name)
            names[nid] = name
        inputs: dict = {nid: [] for nid in g.nodes}
        for s, d, style in g.edges:
            inputs[d].append(("^" if style == "dashed" else "") + names[s])
        nodes = b""
        for nid, n in g.nodes.items():
            op = {"op": n["label"].split("\n")[0], "param": "Parameter", "leaf": "Input", "saved": "Saved",
                  "output": "Output"}[n["kind"]]
            body = _f_bytes(1, names[nid]) + _f_bytes(2, op) + b"".join(_f_bytes(3, x) for x in inputs[nid])
            if n["shape"] is not None:
                # attr map entry {key=1: "_output_shapes", value=2: AttrValue{list=1 {shape=7 {dim=2 {size=1}}}}}
                shape = b"".join(_f_bytes(2, _f_varint(1, s)) for s in n["shape"])
                attr = _f_bytes(1, _f_bytes(7, shape))
                body += _f_bytes(5, _f_bytes(1, "_output_shapes") + _f_bytes(2, attr))
            nodes += _f_bytes(1, body)
        if self._closed:
            raise RuntimeError("SummaryWriter: the writer is closed; make a new one to write more")
        self._file.write(_event(graph_def=nodes))
        self._pending += 1
