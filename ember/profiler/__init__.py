"""``torch.profiler`` on ember: a real profiler of ember's ops.

    from ember.profiler import profile, ProfilerActivity, record_function

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            model(x)
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

While a profiler records, every op call (``Function.apply``, named by its op class: ``Linear``, ``Conv2d``,
``Mul``...) and every backward node (``autograd::engine::evaluate_function: MulBackward0`` around
``MulBackward0``) is timed, with its input shapes (``record_shapes``), the bytes of its new outputs
(``profile_memory``), the calling user frames (``with_stack``) and the FLOPs of matrix products, linear layers,
convolutions and elementwise Mul/Add (``with_flops``).  ``record_function`` ranges nest around
them, so self and total times are exact.  When no profiler records, ember pays nothing (see ``_record.py``).
ember computes on the CPU: device activities are accepted with a warning and record the same CPU ops.
See docs/profiler.md.
"""
from __future__ import annotations

import enum
import functools
import os
import warnings

from . import _record
from ._events import EventList, FunctionEvent, FunctionEventAvg  # noqa: F401

__all__ = ["profile", "schedule", "supported_activities", "tensorboard_trace_handler", "ProfilerAction",
           "ProfilerActivity", "kineto_available", "DeviceType", "record_function"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class DeviceType(enum.Enum):
    CPU = 0
    CUDA = 1


class ProfilerAction(enum.Enum):
    """What the profiler does at a step (the values a ``schedule`` returns)."""
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def supported_activities() -> set:
    """ember records CPU activity only."""
    return {ProfilerActivity.CPU}


def kineto_available() -> bool:
    """True: ember's profiler provides what PyTorch's Kineto-based one does for CPU activity."""
    return True


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """The step -> ``ProfilerAction`` function of PyTorch: skip ``skip_first`` steps, then cycles of ``wait``
    idle, ``warmup`` and ``active`` recorded steps (the last one ``RECORD_AND_SAVE``), ``repeat`` times (0:
    until the profiler stops)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError(f"ember.profiler.schedule: invalid arguments wait={wait} (need >= 0), warmup={warmup} "
                         f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
                         f"skip_first={skip_first} (need >= 0)")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise ValueError(f"ember.profiler.schedule: step must be non-negative, got {step}")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        n = wait + warmup + active
        if repeat > 0 and step / n >= repeat:
            return ProfilerAction.NONE
        m = step % n
        if m < wait:
            return ProfilerAction.NONE
        if m < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if m < n - 1 else ProfilerAction.RECORD_AND_SAVE
    return schedule_fn


def _default_schedule_fn(_: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, use_gzip: bool = False,
                              use_python_export: bool = False):
    """An ``on_trace_ready`` that writes each trace to ``dir_name/<worker>.<time_ns>.pt.trace.json[.gz]``
    (``worker`` defaults to ``<hostname>_<pid>``), the files TensorBoard's profiler plugin reads."""
    import socket
    import time

    def handler_fn(prof) -> None:
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except OSError as e:
                raise RuntimeError(f"tensorboard_trace_handler: can't create directory {dir_name!r}: {e}") from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, file_name))
    return handler_fn


class record_function:
    """A named range in the profile, as a context manager or a decorator; ops called inside it are its
    children (its self time excludes them).  Costs nothing when no profiler records."""

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self.args = args
        self._span = None
        self._rec = None

    def __enter__(self):
        rec = _record._active
        if rec is not None:
            self._rec = rec
            self._span = rec.begin(self.name, "user_annotation")
        return self

    def __exit__(self, *exc):
        if self._span is not None:
            if self._rec is _record._active:
                self._rec.end(self._span)
            self._span = self._rec = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapper


class _KinetoProfile:
    """Recording and results without a schedule (PyTorch's base of ``profile``)."""

    def __init__(self, *, activities=None, record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False, with_modules: bool = False,
                 experimental_config=None, execution_trace_observer=None, acc_events: bool = False,
                 custom_trace_id_callback=None, post_processing_timeout_s=None):
        acts = set()
        for a in (activities if activities is not None else supported_activities()):
            if isinstance(a, dict):
                acts.update(a.keys())
            elif isinstance(a, ProfilerActivity):
                acts.add(a)
            else:
                raise TypeError(f"ember.profiler.profile: activities must be ProfilerActivity values, got "
                                f"{a!r} ({type(a).__name__})")
        if not acts:
            raise ValueError("ember.profiler.profile: activities is empty; pass [ProfilerActivity.CPU]")
        device = sorted(a.name for a in acts if a is not ProfilerActivity.CPU)
        if device:
            warnings.warn(f"ember.profiler: activities {device} requested, but ember records CPU activity only "
                          f"(its kernels run on the host); the table shows the CPU time of each op and no "
                          f"device time", stacklevel=3)
        self.activities = acts
        self.record_shapes = bool(record_shapes)
        self.profile_memory = bool(profile_memory)
        self.with_stack = bool(with_stack)
        self.with_flops = bool(with_flops)
        self.with_modules = bool(with_modules)
        self.acc_events = bool(acc_events)
        self._rec = None
        self._events = None

    # -- recording ---------------------------------------------------------------------------------------
    def prepare_trace(self) -> None:
        if not self.acc_events:
            self._events = None

    def start_trace(self) -> None:
        rec = _record._Recorder(self.record_shapes, self.profile_memory, self.with_stack, self.with_flops)
        _record.install(rec)
        self._rec = rec

    def stop_trace(self) -> None:
        rec = self._rec
        if rec is None:
            return
        if _record._active is rec:
            _record.uninstall()
        self._rec = None
        from ._events import build_events
        ev = build_events(rec)
        if self.acc_events and self._events is not None:
            ev = EventList(list(self._events) + list(ev), profile_memory=ev._profile_memory,
                           with_flops=ev._with_flops, trace_meta=self._events._trace_meta)
        self._events = ev

    def start(self) -> None:
        self.prepare_trace()
        self.start_trace()

    def stop(self) -> None:
        self.stop_trace()

    # -- results -----------------------------------------------------------------------------------------
    def events(self) -> EventList:
        """Every recorded span (``FunctionEvent``), in start order; empty before the first recording ends."""
        if self._events is None:
            return EventList(profile_memory=self.profile_memory, with_flops=self.with_flops)
        return self._events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        if group_by_input_shape and not self.record_shapes:
            raise ValueError("key_averages(group_by_input_shape=True) needs the profiler to record shapes: pass "
                             "record_shapes=True to profile()")
        if group_by_stack_n and not self.with_stack:
            raise ValueError("key_averages(group_by_stack_n=...) needs with_stack=True in profile()")
        return self.events().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path: str, use_python_export: bool = False) -> None:
        """The recorded spans as Chrome trace JSON (chrome://tracing, Perfetto, TensorBoard)."""
        self.events().export_chrome_trace(path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        if not self.with_stack:
            raise ValueError("export_stacks needs the profiler to record stacks: pass with_stack=True to "
                             "profile()")
        self.events().export_stacks(path, metric)

    def add_metadata(self, key: str, value: str) -> None:
        pass

    def add_metadata_json(self, key: str, value: str) -> None:
        pass


class profile(_KinetoProfile):
    """``torch.profiler.profile``: records ember's ops between ``start()`` and ``stop()`` (or in a ``with``
    block).  With a ``schedule``, ``step()`` marks each training step: steps are skipped, warmed up or
    recorded as it says, each recorded step is a ``ProfilerStep#<n>`` range, and ``on_trace_ready(prof)`` runs
    at the end of every active cycle (and at ``stop()`` inside one)."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config=None, execution_trace_observer=None,
                 acc_events: bool = False, use_cuda=None, custom_trace_id_callback=None,
                 post_processing_timeout_s=None):
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead", FutureWarning,
                          stacklevel=2)
            acts = set(activities) if activities is not None else supported_activities()
            if use_cuda:
                acts.add(ProfilerActivity.CUDA)
            activities = acts
        super().__init__(activities=activities, record_shapes=record_shapes, profile_memory=profile_memory,
                         with_stack=with_stack, with_flops=with_flops, with_modules=with_modules,
                         acc_events=acc_events)
        if schedule is not None:
            self.schedule = schedule
            self.record_steps = True
        else:
            self.schedule = _default_schedule_fn
            self.record_steps = False
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self._check_action(self.schedule(0))
        self.step_rec_fn = None
        A = ProfilerAction
        prep, start, stop, ready = self.prepare_trace, self.start_trace, self.stop_trace, self._trace_ready

        def warn_(msg):
            return lambda: warnings.warn(msg, stacklevel=4)
        self._actions = {
            (A.NONE, A.NONE): [], (A.NONE, A.WARMUP): [prep], (A.NONE, A.RECORD): [prep, start],
            (A.NONE, A.RECORD_AND_SAVE): [prep, start],
            (A.WARMUP, A.NONE): [warn_("Incorrect schedule: WARMUP followed by NONE"), start, stop],
            (A.WARMUP, A.WARMUP): [], (A.WARMUP, A.RECORD): [start], (A.WARMUP, A.RECORD_AND_SAVE): [start],
            (A.RECORD, A.NONE): [warn_("Incorrect schedule: RECORD followed by NONE"), stop],
            (A.RECORD, A.WARMUP): [warn_("Incorrect schedule: RECORD followed by WARMUP"), stop],
            (A.RECORD, A.RECORD): [], (A.RECORD, A.RECORD_AND_SAVE): [],
            (A.RECORD_AND_SAVE, A.NONE): [stop, ready], (A.RECORD_AND_SAVE, A.WARMUP): [stop, ready, prep],
            (A.RECORD_AND_SAVE, A.RECORD): [stop, ready, prep, start],
            (A.RECORD_AND_SAVE, A.RECORD_AND_SAVE): [stop, ready, prep, start],
            (A.NONE, None): [], (A.WARMUP, None): [start, stop], (A.RECORD, None): [stop, ready],
            (A.RECORD_AND_SAVE, None): [stop, ready],
        }

    @staticmethod
    def _check_action(action):
        if not isinstance(action, ProfilerAction) or action is ProfilerAction.DEVICE_STOPPED:
            raise ValueError(f"ember.profiler.profile: a schedule must return a ProfilerAction (NONE, WARMUP, "
                             f"RECORD or RECORD_AND_SAVE), got {action!r}")
        return action

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self) -> None:
        self._transit(ProfilerAction.NONE, self.current_action)
        if self.record_steps:
            self._enter_step()

    def stop(self) -> None:
        self._exit_step()
        self._transit(self.current_action, None)

    def step(self) -> None:
        """Mark the start of the next step: the schedule decides what happens from there."""
        self._exit_step()
        prev = self.current_action
        action = self._check_action(self.schedule(self.step_num + 1))
        self.step_num += 1
        self.current_action = action
        self._transit(prev, action)
        if self.record_steps:
            self._enter_step()

    def _enter_step(self) -> None:
        self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
        self.step_rec_fn.__enter__()

    def _exit_step(self) -> None:
        if self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None

    def _transit(self, prev, cur) -> None:
        for fn in self._actions.get((prev, cur), ()):
            fn()

    def _trace_ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)
