"""``torch.autograd.profiler``: PyTorch's older profiler API, the same recorder as ``ember.profiler``.

    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        model(x)
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))
"""
from __future__ import annotations

from ..profiler import record_function, EventList, FunctionEvent, FunctionEventAvg  # noqa: F401
from ..profiler import _KinetoProfile, ProfilerActivity

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile(_KinetoProfile):
    """``torch.autograd.profiler.profile``: records ember's ops inside the ``with`` block (nothing when
    ``enabled=False``); results as ``torch.profiler.profile``'s, plus ``table()``, ``function_events`` and
    ``self_cpu_time_total``.  ``use_cuda``/``use_device`` are accepted with a warning (CPU only)."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device=None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False, with_stack: bool = False,
                 with_modules: bool = False, use_kineto: bool = False, use_cpu: bool = True,
                 experimental_config=None, acc_events: bool = False, custom_trace_id_callback=None):
        acts = [ProfilerActivity.CPU]
        if use_cuda or (use_device is not None and str(use_device) != "cpu"):
            acts.append(ProfilerActivity.CUDA)
        super().__init__(activities=acts, record_shapes=record_shapes, profile_memory=profile_memory,
                         with_stack=with_stack, with_flops=with_flops, with_modules=with_modules,
                         acc_events=acc_events)
        self.enabled = bool(enabled)
        self.entered = False

    def __enter__(self):
        if self.entered:
            raise RuntimeError("torch.autograd.profiler.profile: the profiler context manager is not reentrant")
        self.entered = True
        if self.enabled:
            self.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.stop()
        return False

    @property
    def function_events(self) -> EventList:
        return self.events()

    @property
    def self_cpu_time_total(self) -> float:
        return self.events().self_cpu_time_total

    def total_average(self):
        return self.events().total_average()

    def table(self, sort_by=None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header=None,
              top_level_events_only: bool = False, time_unit=None) -> str:
        return self.events().table(sort_by, row_limit, max_src_column_width, max_name_column_width,
                                   max_shapes_column_width, header, top_level_events_only, time_unit)

    def __str__(self) -> str:
        return self.table()
