"""ember.profiler (torch.profiler): what is recorded for a known model step, nesting and self-time invariants,
schedule cycles, the Chrome trace, the table, and that an idle profiler leaves Function.apply untouched."""
import gzip
import json
import os
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import engine as _engine
from ember.autograd import function as _fn
from ember.profiler import (profile, record_function, schedule, ProfilerActivity, ProfilerAction,
                            tensorboard_trace_handler)


def _model():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))


def _step(m, x):
    y = m(x)
    y.sum().backward()


def _names(prof):
    return [e.name for e in prof.events()]


def test_counts_of_a_known_training_step():
    m, x = _model(), ember.randn(4, 8)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            y = m(x)
        y.sum().backward()
    counts = {a.key: a.count for a in prof.key_averages()}
    assert counts["model_inference"] == 1
    assert counts["Linear"] == 2 and counts["Relu"] == 1 and counts["Sum"] == 1
    # one node per op of the graph, each inside its evaluate_function span, and one AccumulateGrad per parameter
    assert counts["AddmmBackward0"] == 2 and counts["ReluBackward0"] == 1 and counts["SumBackward0"] == 1
    assert counts["autograd::engine::evaluate_function: AddmmBackward0"] == 2
    assert counts["torch::autograd::AccumulateGrad"] == 4
    # the forward ops are children of the user range; the backward nodes are not
    ev = prof.events()
    lin = [e for e in ev if e.name == "Linear"]
    assert all(e.cpu_parent is not None and e.cpu_parent.name == "model_inference" for e in lin)
    assert lin[0].input_shapes == [[4, 8], [16, 8], [16]]
    node = next(e for e in ev if e.name == "AddmmBackward0")
    assert node.cpu_parent.name == "autograd::engine::evaluate_function: AddmmBackward0"
    assert node.input_shapes == [[4, 2]]
    # the step itself is unchanged by profiling
    assert m[0].weight.grad is not None and m[0].weight.grad.shape == (16, 8)


def test_backward_ops_recorded_under_their_node_with_create_graph():
    x = ember.randn(3, requires_grad=True)
    with profile() as prof:
        (g,) = ember.autograd.grad((x * x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * x.detach().numpy(), rtol=1e-6)
    ev = prof.events()
    mulb = next(e for e in ev if e.name == "MulBackward0")
    # a Tensor backward runs ember ops: they are the node's children
    assert any(c.name == "Mul" for c in mulb.cpu_children)


def test_self_and_total_time_invariants():
    m, x = _model(), ember.randn(4, 8)
    with profile() as prof:
        with record_function("outer"):
            with record_function("inner"):
                m(x)
            _step(m, x)
    ev = prof.events()
    for e in ev:
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total + 1e-9
        assert e.cpu_time_total + 1e-9 >= sum(c.cpu_time_total for c in e.cpu_children)
        for c in e.cpu_children:
            assert c.time_range.start >= e.time_range.start and c.time_range.end <= e.time_range.end
    outer = next(e for e in ev if e.name == "outer")
    # every span recorded inside the outer range is a descendant; their self times add up to its total

    def desc(e):
        yield e
        for c in e.cpu_children:
            yield from desc(c)
    inside = list(desc(outer))
    assert len(inside) == sum(1 for e in ev if e.time_range.start >= outer.time_range.start)
    assert sum(e.self_cpu_time_total for e in inside) == pytest.approx(outer.cpu_time_total, rel=1e-9)
    avg = prof.key_averages()
    for a in avg:
        assert a.self_cpu_time_total <= a.cpu_time_total + 1e-9
        assert a.cpu_time == pytest.approx(a.cpu_time_total / a.count)
    # the table's footer total is the sum of the self times of all the spans
    assert sum(a.self_cpu_time_total for a in avg) == pytest.approx(ev.self_cpu_time_total)


def test_record_function_decorator_and_idle_use():
    @record_function("my_fn")
    def f(a):
        return a * 2 + 1

    x = ember.ones(3)
    assert f(x).tolist() == [3.0, 3.0, 3.0]         # no profiler: a plain call
    with record_function("idle"):
        pass
    with profile() as prof:
        f(x)
        f(x)
    ka = {a.key: a for a in prof.key_averages()}
    assert ka["my_fn"].count == 2
    assert {c.name for e in prof.events() if e.name == "my_fn" for c in e.cpu_children} == {"Mul", "Add"}


def test_table_layout_and_contents():
    m, x = _model(), ember.randn(4, 8)
    with profile(record_shapes=True, profile_memory=True) as prof:
        _step(m, x)
    t = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    lines = t.splitlines()
    assert lines[0].startswith("-") and lines[2].startswith("-")
    header = lines[1].split()
    for col in ("Name", "Self", "CPU", "%", "total", "avg", "Mem", "#", "Calls"):
        assert col in header
    assert "Input Shapes" not in lines[1]               # only when grouped by input shape, as PyTorch
    assert lines[-1].startswith("Self CPU time total: ")
    assert len(lines) == 3 + 5 + 2                      # row_limit rows
    assert "Linear" in t
    # rows sorted by total time, descending
    ka = sorted(prof.key_averages(), key=lambda a: a.cpu_time_total, reverse=True)
    assert lines[3].split()[0] == ka[0].key[:52].split()[0]
    shaped = prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=100)
    assert "Input Shapes" in shaped and "[[4, 8], [16, 8], [16]]" in shaped
    lin = [a for a in prof.key_averages(group_by_input_shape=True) if a.key == "Linear"]
    assert len(lin) == 2 and all(a.count == 1 for a in lin)
    with pytest.raises(AttributeError, match="sort_by='nope'"):
        prof.key_averages().table(sort_by="nope")


def test_profile_memory_counts_new_output_bytes():
    x = ember.ones(100, dtype=ember.float32)
    with profile(profile_memory=True) as prof:
        x * 2
    mul = next(e for e in prof.events() if e.name == "Mul")
    assert mul.cpu_memory_usage == 400 and mul.self_cpu_memory_usage == 400


def test_with_stack_names_the_calling_line():
    x = ember.ones(2)
    with profile(with_stack=True) as prof:
        x + 1
    add = next(e for e in prof.events() if e.name == "Add")
    assert add.stack and os.path.basename(__file__) in add.stack[0]


@pytest.mark.parametrize("kw, steps, expect", [
    (dict(wait=1, warmup=1, active=2, repeat=2), 10, [(4, ["ProfilerStep#2", "ProfilerStep#3"]),
                                                      (8, ["ProfilerStep#6", "ProfilerStep#7"])]),
    (dict(wait=2, warmup=1, active=3, skip_first=1), 9, [(7, ["ProfilerStep#4", "ProfilerStep#5",
                                                              "ProfilerStep#6"])]),
    # stop() inside an active cycle still hands over what was recorded
    (dict(wait=1, warmup=1, active=2), 3, [(3, ["ProfilerStep#2", "ProfilerStep#3"])]),
])
def test_schedule_cycles_call_on_trace_ready_at_the_right_steps(kw, steps, expect):
    # (the step numbers and the steps recorded are those torch 2.13 gives for the same schedules)
    m, x = nn.Linear(3, 2), ember.randn(2, 3)
    seen = []

    def ready(p):
        names = sorted({e.trace_name for e in p.events() if e.name == "ProfilerStep*"})
        seen.append((p.step_num, names))
        assert p.key_averages()[0].key                  # results are readable inside the callback

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with profile(schedule=schedule(**kw), on_trace_ready=ready) as prof:
            for _ in range(steps):
                _step(m, x)
                prof.step()
    assert seen == expect
    assert _fn.Function.__dict__["apply"].__func__ is _APPLY        # hooks removed between and after cycles


def test_schedule_actions_and_validation():
    s = schedule(wait=1, warmup=1, active=2, repeat=1)
    assert [s(i) for i in range(5)] == [ProfilerAction.NONE, ProfilerAction.WARMUP, ProfilerAction.RECORD,
                                        ProfilerAction.RECORD_AND_SAVE, ProfilerAction.NONE]
    with pytest.raises(ValueError, match="active=0"):
        schedule(wait=0, warmup=1, active=0)
    with pytest.warns(UserWarning, match="warmup"):
        schedule(wait=0, warmup=0, active=1)
    with pytest.raises(ValueError, match="ProfilerAction"):
        profile(schedule=lambda step: "record")


def test_chrome_trace_is_valid_json_with_the_events(tmp_path):
    m, x = _model(), ember.randn(4, 8)
    with profile(record_shapes=True) as prof:
        with record_function("fwd"):
            m(x)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    doc = json.loads(path.read_text())
    spans = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert [e["name"] for e in spans] == _names(prof)
    assert {e["cat"] for e in spans} == {"cpu_op", "user_annotation"}
    lin = next(e for e in spans if e["name"] == "Linear")
    assert lin["args"]["Input Dims"] == [[4, 8], [16, 8], [16]]
    fwd = next(e for e in spans if e["name"] == "fwd")
    assert fwd["ts"] <= lin["ts"] and lin["ts"] + lin["dur"] <= fwd["ts"] + fwd["dur"] + 1e-3
    assert doc["displayTimeUnit"] == "ms" and doc["schemaVersion"] == 1
    gz = tmp_path / "trace.json.gz"
    prof.export_chrome_trace(str(gz))
    with gzip.open(gz, "rt") as f:
        assert json.load(f)["traceEvents"] == doc["traceEvents"]


def test_tensorboard_trace_handler_writes_torch_named_files(tmp_path):
    m, x = nn.Linear(3, 2), ember.randn(2, 3)
    out = tmp_path / "tb"
    with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=2),
                 on_trace_ready=tensorboard_trace_handler(str(out), worker_name="w0")) as prof:
        for _ in range(5):
            _step(m, x)
            prof.step()
    files = sorted(os.listdir(out))
    assert len(files) == 2
    for f in files:
        assert f.startswith("w0.") and f.endswith(".pt.trace.json")
        assert f[3:-len(".pt.trace.json")].isdigit()
        spans = [e["name"] for e in json.loads((out / f).read_text())["traceEvents"] if e["ph"] == "X"]
        assert "Linear" in spans and any(n.startswith("ProfilerStep#") for n in spans)


_APPLY = _fn.Function.__dict__["apply"].__func__      # (another test may re-wrap the same function)


def test_idle_profiler_leaves_apply_and_engine_untouched():
    call_backward, accumulate, raw = _engine._call_backward, _engine._accumulate_leaf, _engine.RAW_BACKWARD
    m, x = _model(), ember.randn(4, 8)
    before = m(x).detach().numpy().copy()
    p = profile()
    p.start()
    assert _fn.Function.__dict__["apply"].__func__ is not _APPLY
    during = m(x).detach().numpy().copy()
    p.stop()
    # every hook is the original object again: an idle profiler adds nothing to an op call
    assert _fn.Function.__dict__["apply"].__func__ is _APPLY
    assert _engine._call_backward is call_backward and _engine._accumulate_leaf is accumulate
    assert _engine.RAW_BACKWARD is raw
    after = m(x).detach().numpy()
    np.testing.assert_array_equal(before, during)
    np.testing.assert_array_equal(before, after)
    # and a raising op inside a profile still restores them
    with pytest.raises(RuntimeError):
        with profile():
            ember.ones(2, 3) @ ember.ones(2, 3)
    assert _fn.Function.__dict__["apply"].__func__ is _APPLY and _engine._call_backward is call_backward


def test_nested_profilers_refused_and_device_activity_warns():
    with profile():
        with pytest.raises(RuntimeError, match="already recording"):
            with profile():
                pass
    with pytest.warns(UserWarning, match="CPU activity only"):
        p = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
    with p:
        ember.ones(2) + 1
    assert "Add" in _names(p)
    with pytest.raises(TypeError, match="ProfilerActivity"):
        profile(activities=["cpu"])


def test_profiling_a_jit_trace_records_each_op_once():
    m, x = nn.Sequential(nn.Linear(4, 3), nn.ReLU()), ember.randn(2, 4)
    with profile() as prof:
        tm = ember.jit.trace(m, x)
    counts = {a.key: a.count for a in prof.key_averages()}
    assert counts == {"Linear": 1, "Relu": 1}
    np.testing.assert_allclose(tm(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)


def test_legacy_autograd_profiler_alias():
    x = ember.randn(3, requires_grad=True)
    with ember.autograd.profiler.profile(record_shapes=True) as p:
        with ember.autograd.profiler.record_function("blk"):
            (x * 2).sum().backward()
    assert "blk" in p.table() and p.self_cpu_time_total > 0
    assert {e.key for e in p.function_events.key_averages()} >= {"blk", "Mul", "Sum", "MulBackward0"}
    with ember.autograd.profiler.profile(enabled=False) as q:
        x * 2
    assert len(q.events()) == 0
    assert ember.profiler.profile is profile


def test_torch_profiler_imports_under_the_compat_hook(tmp_path):
    import subprocess
    import sys
    script = tmp_path / "prof.py"
    script.write_text(
        "import torch\n"
        "from torch.profiler import profile, ProfilerActivity, record_function\n"
        "import torch.autograd.profiler as ap\n"
        "x = torch.randn(3, 3, requires_grad=True)\n"
        "with profile(activities=[ProfilerActivity.CPU]) as prof:\n"
        "    with record_function('blk'):\n"
        "        (x * 2).sum().backward()\n"
        "assert torch.profiler.profile is profile and ap.record_function is record_function\n"
        "print(prof.key_averages().table(sort_by='cpu_time_total', row_limit=3))\n")
    r = subprocess.run([sys.executable, "-m", "ember.compat", str(script)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "blk" in r.stdout and "Self CPU time total" in r.stdout


def test_with_flops_counts_as_torch():
    # torch 2.13 reports conv2d 6912, addmm 420 (under linear), bmm 240 and mul 3 FLOPs for these calls
    x = ember.randn(2, 3, 8, 8)
    c, lin = nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.Linear(6, 5)
    with profile(with_flops=True) as prof:
        c(x)
        lin(ember.randn(7, 6))
        ember.randn(2, 3, 4) @ ember.randn(2, 4, 5)
        ember.ones(3) * ember.ones(3)
    flops = {a.key: a.flops for a in prof.key_averages() if a.flops}
    assert flops == {"Conv2d": 6912, "Linear": 420, "MatMul": 240, "Mul": 3}
    t = prof.key_averages().table()
    assert "Total FLOPs" in t and "6912.000" in t
    with profile() as plain:
        c(x)
    assert "FLOPs" not in plain.key_averages().table()


def test_raw_backward_table_while_recording():
    real = _engine.RAW_BACKWARD
    with profile():
        table = _engine.RAW_BACKWARD
        assert len(table) == len(real) and set(table) == set(real)

        class _Probe(_fn.Function):
            pass
        table[_Probe] = real.get(next(iter(real)))      # a module imported while recording registers its formula
    assert _engine.RAW_BACKWARD is real and _Probe in real
    del real[_Probe]


def test_recording_does_not_make_leaves_copy_their_gradients():
    """The engine adopts a gradient buffer that only it holds as the leaf's ``.grad`` (no copy); the recorder's
    wrapper around the leaf accumulation holds one more reference, which must not turn adoption into a copy
    (it made each AccumulateGrad look 10x slower than it is)."""
    ids = {}

    class Twice(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            out = ember.tensor(np.full((300, 300), 2.0, np.float32)) * g
            ids["grad"] = id(out._data)          # (an id, not a reference: a reference would force the copy)
            return out

    def grad_is_adopted():
        w = ember.zeros(300, 300, requires_grad=True)
        Twice.apply(w).sum().backward()
        return id(w.grad._data) == ids["grad"]

    assert grad_is_adopted()
    with profile():
        assert grad_is_adopted()
    assert grad_is_adopted()
