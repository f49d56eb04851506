"""PyTorch's profiler result objects (``torch.autograd.profiler_util``): ``FunctionEvent`` (one recorded span),
``FunctionEventAvg`` (spans grouped by name, ``key_averages``), ``EventList`` (a list of either, with
``table``, ``key_averages``, ``export_chrome_trace``).  Times are microseconds (floats), as in PyTorch.
"""
from __future__ import annotations

import gzip
import json
import math
import os
import socket

from . import _record as _r


class Interval:
    def __init__(self, start: float, end: float):
        self.start, self.end = start, end

    def elapsed_us(self) -> float:
        return self.end - self.start

    def __repr__(self) -> str:
        return f"Interval(start={self.start}, end={self.end})"


def _format_time(time_us: float) -> str:
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_share(time_us: float, total_us: float) -> str:
    if total_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_us:.2f}%"


def _format_memory(nbytes: int) -> str:
    kb, mb, gb = 1024, 1024 ** 2, 1024 ** 3
    if abs(nbytes) >= gb:
        return f"{nbytes / gb:.2f} Gb"
    if abs(nbytes) >= mb:
        return f"{nbytes / mb:.2f} Mb"
    if abs(nbytes) >= kb:
        return f"{nbytes / kb:.2f} Kb"
    return f"{nbytes} b"


class _TimeStrs:
    """The ``*_str`` properties and device-time fields (always zero: ember records CPU only)."""
    device_time_total = 0.0
    self_device_time_total = 0.0
    device_memory_usage = 0
    self_device_memory_usage = 0
    cuda_time_total = 0.0
    self_cuda_time_total = 0.0
    use_device = None
    is_async = False
    is_remote = False
    is_legacy = False
    node_id = -1
    overload_name = ""
    flops = 0
    scope = 0

    @property
    def cpu_time_str(self) -> str:
        return _format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self) -> str:
        return _format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self) -> str:
        return _format_time(self.self_cpu_time_total)

    @property
    def device_time(self) -> float:
        return 0.0

    cuda_time = device_time

    @property
    def device_type(self):
        from . import DeviceType
        return DeviceType.CPU


class FunctionEvent(_TimeStrs):
    """One recorded span: an op call, a backward node or a ``record_function`` range."""

    def __init__(self, id, name, thread, start_us, end_us, input_shapes=None, cat="cpu_op", cpu_memory_usage=0,
                 stack=None, trace_name=None, flops=0):
        self.id = id
        self.flops = flops
        self.name = name
        self.thread = thread
        self.time_range = Interval(start_us, end_us)
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.cat = cat
        self.is_user_annotation = cat == "user_annotation"
        self.cpu_memory_usage = cpu_memory_usage
        self.stack = stack if stack is not None else []
        self.cpu_children: list = []
        self.cpu_parent = None
        self.count = 1
        self.sequence_nr = -1
        self.trace_name = trace_name if trace_name is not None else name

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.time_range.elapsed_us()

    cpu_time = cpu_time_total

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    def append_cpu_child(self, child) -> None:
        self.cpu_children.append(child)

    def set_cpu_parent(self, parent) -> None:
        self.cpu_parent = parent

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={self.cpu_time_str} "
                f"start_us={self.time_range.start:.3f} end_us={self.time_range.end:.3f} "
                f"cpu_children={[c.id for c in self.cpu_children]} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg(_TimeStrs):
    """Spans with the same key (and input shapes / stack, when grouped by them) added together."""

    def __init__(self):
        self.key = None
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.input_shapes = None
        self.stack = None
        self.cpu_parent = None
        self.cpu_children = None
        self.is_user_annotation = False
        self.flops = 0

    def add(self, other):
        if self.key is None:
            self.key = other.key
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.cpu_parent = other.cpu_parent
            self.is_user_annotation = other.is_user_annotation
        elif other.key != self.key:
            raise ValueError(f"FunctionEventAvg.add: cannot add an event named {other.key!r} to the average of "
                             f"{self.key!r}")
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.flops += other.flops
        return self

    def __iadd__(self, other):
        return self.add(other)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str}  self_cuda_time=0.000us cuda_time=0.000us "
                f"input_shapes={self.input_shapes if self.input_shapes else ''} "
                f"cpu_memory_usage={self.cpu_memory_usage} cuda_memory_usage=0>")


_SORT_KEYS = ("cpu_time", "cuda_time", "device_time", "cpu_time_total", "cuda_time_total", "device_time_total",
              "self_cpu_time_total", "self_cuda_time_total", "self_device_time_total", "cpu_memory_usage",
              "self_cpu_memory_usage", "device_memory_usage", "self_device_memory_usage", "count")


class EventList(list):
    """A list of ``FunctionEvent`` or ``FunctionEventAvg`` with PyTorch's summary methods."""

    def __init__(self, *args, profile_memory: bool = False, with_flops: bool = False, trace_meta=None, **kwargs):
        kwargs.pop("use_device", None)
        super().__init__(*args, **kwargs)
        self._profile_memory = profile_memory
        self._with_flops = with_flops
        self._trace_meta = trace_meta

    def __str__(self) -> str:
        return self.table()

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> "EventList":
        """One ``FunctionEventAvg`` per name (and per input shapes / innermost ``group_by_stack_n`` frames when
        asked), in order of first appearance."""
        groups: dict = {}
        for e in self:
            key = (e.key,)
            if group_by_input_shapes:
                key += (str(e.input_shapes),)
            if group_by_stack_n > 0:
                key += tuple((e.stack or [])[:group_by_stack_n])
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg()
            avg.add(e)
        out = EventList(groups.values(), profile_memory=self._profile_memory, with_flops=self._with_flops,
                        trace_meta=self._trace_meta)
        if not group_by_input_shapes:       # (PyTorch shows the shapes only when grouped by them)
            for a in out:
                a.input_shapes = []
        if not group_by_stack_n:
            for a in out:
                a.stack = []
        return out

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg()
        for e in self:
            total.count += e.count
            total.cpu_time_total += e.cpu_time_total
            total.self_cpu_time_total += e.self_cpu_time_total
            total.cpu_memory_usage += e.cpu_memory_usage
            total.self_cpu_memory_usage += e.self_cpu_memory_usage
        total.key = "Total"
        return total

    def table(self, sort_by=None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header=None,
              top_level_events_only: bool = False, time_unit=None) -> str:
        """The summary table in PyTorch's layout (Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time
        avg, [CPU Mem, Self CPU Mem,] # of Calls[, Input Shapes][, Source Location])."""
        return _build_table(self, sort_by, row_limit, max_src_column_width, max_name_column_width,
                            max_shapes_column_width, header, top_level_events_only, time_unit,
                            self._profile_memory, self._with_flops)

    def export_chrome_trace(self, path: str) -> None:
        """Write the events (``FunctionEvent``s, not averages) as Chrome trace JSON (chrome://tracing,
        Perfetto); a path ending in ``.gz`` is gzipped."""
        _export_chrome_trace(self, path, self._trace_meta or {})

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Write ``frame;frame;...;op value`` lines (flame graph input) for events recorded ``with_stack``."""
        if metric not in ("self_cpu_time_total", "self_cuda_time_total", "self_device_time_total"):
            raise ValueError(f"export_stacks: metric must be 'self_cpu_time_total' (or a device metric), got "
                             f"{metric!r}")
        with open(path, "w") as f:
            for e in self:
                if e.stack:
                    v = int(getattr(e, metric))
                    if v > 0:
                        f.write(";".join(reversed(e.stack)) + ";" + e.name + " " + str(v) + "\n")


def _build_table(events, sort_by, row_limit, max_src_width, max_name_width, max_shapes_width, header,
                 top_level_only, time_unit, profile_memory, with_flops=False) -> str:
    if len(events) == 0:
        return ""
    if sort_by is not None:
        attr = sort_by.replace("cuda", "device").replace("xpu", "device").replace("privateuse1", "device")
        if attr not in _SORT_KEYS and not hasattr(events[0], attr):
            raise AttributeError(f"profiler table: sort_by={sort_by!r} is not an event attribute; expected one "
                                 f"of {', '.join(_SORT_KEYS)}")
        events = sorted(events, key=lambda e: getattr(e, attr), reverse=True)
    has_shapes = any(e.input_shapes for e in events)
    stacks = [e.stack for e in events if e.stack]
    name_w = max(len(e.key) for e in events) + 4
    if max_name_width is not None:
        name_w = min(name_w, max_name_width)
    shapes_w = max(len(str(e.input_shapes)) for e in events) + 4
    if max_shapes_width is not None:
        shapes_w = min(shapes_w, max_shapes_width)
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    widths = [name_w] + [12] * (len(headers) - 1)
    aligns = [">"] * len(headers)
    if has_shapes:
        headers.append("Input Shapes")
        widths.append(shapes_w)
        aligns.append(">")
    flops = [e.flops for e in events if e.flops > 0] if with_flops else []
    if flops:
        # PyTorch's auto-scaled unit: the one that fits the smallest count
        k = max(0, min(int(math.log10(min(flops)) // 3), 5))
        flops_scale = 10.0 ** (-3 * k)
        headers.append(f"Total {('', 'K', 'M', 'G', 'T', 'P')[k]}FLOPs")
        widths.append(12)
        aligns.append(">")
    src_w = None
    if stacks:
        src_w = max(max(len(s) for s in st) for st in stacks) + 4
        if max_src_width is not None:
            src_w = min(src_w, max_src_width)
        headers.append("Source Location")
        widths.append(src_w)
        aligns.append("<")
    row_format = "".join("{: " + a + str(w) + "}  " for a, w in zip(aligns, widths))
    sep = "".join("-" * w + "  " for w in widths)
    line_length = sum(w + 2 for w in widths) - 2
    total_self = sum(e.self_cpu_time_total for e in events)

    def t(us):
        if time_unit == "s":
            return f"{us / 1e6:.3f}s"
        if time_unit == "ms":
            return f"{us / 1e3:.3f}ms"
        if time_unit == "us":
            return f"{us:.3f}us"
        return _format_time(us)

    lines = []
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [sep, row_format.format(*headers), sep]

    def trim_path(path):
        if len(path) > src_w:
            path = path[len(path) - src_w:]
            if len(path) > 3:
                path = "..." + path[3:]
        return path

    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key
        if max_name_width is not None and len(name) >= max_name_width - 3:
            name = name[:max_name_width - 3] + "..."
        row = [name, _format_share(e.self_cpu_time_total, total_self), t(e.self_cpu_time_total),
               _format_share(e.cpu_time_total, total_self), t(e.cpu_time_total), t(e.cpu_time)]
        if profile_memory:
            row += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        row.append(e.count)
        if has_shapes:
            row.append(str(e.input_shapes)[:shapes_w])
        if flops:
            row.append("--" if e.flops <= 0 else f"{e.flops * flops_scale:8.3f}")
        if stacks:
            st = e.stack or [""]
            row.append(trim_path(st[0]) if st[0] else "")
            lines.append(row_format.format(*row))
            empty = [""] * (len(headers) - 1)
            for s in st[1:]:
                lines.append(row_format.format(*(empty + [trim_path(s)])))
            lines.append(row_format.format(*(empty + [""])))
            continue
        lines.append(row_format.format(*row))
    lines.append(sep)
    lines.append(f"Self CPU time total: {t(total_self)}")
    return "\n".join(lines) + "\n"


def build_events(rec) -> EventList:
    """The ``FunctionEvent``s of one recording (``_record._Recorder``), in start order, with parents and
    children linked."""
    base = rec.t0_ns
    wall0_us = rec.wall0_ns / 1000.0
    out = EventList(profile_memory=rec.profile_memory, with_flops=rec.with_flops,
                    trace_meta={"wall0_us": wall0_us, "record_shapes": rec.record_shapes})
    made: dict = {}
    for s in rec.spans:
        if s[_r.NAME] is None:
            continue
        name = s[_r.NAME]
        # PyTorch names every step range "ProfilerStep*" in the events (so the table adds them up); the trace
        # keeps "ProfilerStep#<n>"
        e = FunctionEvent(len(out), "ProfilerStep*" if name.startswith("ProfilerStep#") else name, s[_r.TID],
                          (s[_r.T0] - base) / 1000.0, (s[_r.T1] - base) / 1000.0, s[_r.SHAPES], s[_r.CAT],
                          s[_r.MEM], s[_r.STACK], name, s[_r.FLOPS])
        made[id(s)] = e
        p = s[_r.PARENT]
        while p is not None and p[_r.NAME] is None:
            p = p[_r.PARENT]
        if p is not None:
            pe = made.get(id(p))
            if pe is not None:
                e.set_cpu_parent(pe)
                pe.append_cpu_child(e)
        out.append(e)
    return out


def _export_chrome_trace(events, path: str, meta: dict) -> None:
    pid = os.getpid()
    wall0 = meta.get("wall0_us", 0.0)
    trace = []
    for name, args in (("process_name", {"name": "python"}), ("process_labels", {"labels": "CPU"}),
                       ("process_sort_index", {"sort_index": pid})):
        trace.append({"ph": "M", "name": name, "ts": wall0, "pid": pid, "tid": 0, "args": args})
    tids = []
    for i, e in enumerate(events):
        if not isinstance(e, FunctionEvent):
            raise TypeError("export_chrome_trace: expected the recorded events (prof.events()), got averaged "
                            "events (key_averages()); export from the profiler or its events() list")
        if e.thread not in tids:
            tids.append(e.thread)
        args = {"External id": e.id + 1, "Ev Idx": i}
        if e.input_shapes:
            args["Input Dims"] = e.input_shapes
        if e.cpu_memory_usage:
            args["CPU Mem"] = e.cpu_memory_usage
        if e.flops:
            args["flops"] = e.flops
        trace.append({"ph": "X", "cat": e.cat, "name": e.trace_name, "pid": pid, "tid": e.thread,
                      "ts": wall0 + e.time_range.start, "dur": e.cpu_time_total, "args": args})
    for k, tid in enumerate(tids):
        trace.append({"ph": "M", "name": "thread_name", "ts": wall0, "pid": pid, "tid": tid,
                      "args": {"name": f"thread {tid} ({'python' if k == 0 else 'worker'})"}})
    doc = {"schemaVersion": 1, "deviceProperties": [], "record_shapes": int(bool(meta.get("record_shapes"))),
           "host_name": socket.gethostname(), "displayTimeUnit": "ms",
           "baseTimeNanoseconds": int(wall0 * 1000), "traceEvents": trace, "traceName": str(path)}
    data = json.dumps(doc)
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(data)
    else:
        with open(path, "w") as f:
            f.write(data)
