"""benchmarks/run_all.py's interleaved mode: both libraries' workers up at once, their blocks alternating."""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_interleaved_blocks_pair_up(tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "run_all.py"), "--threads", "1",
                        "--interleave", "--repeat", "3", "--only", "forward under no_grad", "--json", str(out)],
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    assert "Interleaved" in r.stdout and "| per-op overhead, forward under no_grad" in r.stdout
    row = json.loads(out.read_text())["rows"][0]
    e, t = row["ember"], row["torch"]
    assert len(row["pairs"]) == 3 and len(e["blocks"]) == len(t["blocks"]) == 3
    # each pair is the ratio of the two libraries' blocks timed next to each other
    assert row["pairs"] == pytest.approx([a / b for a, b in zip(e["blocks"], t["blocks"])])
    assert e["lib"] == "ember" and t["lib"] == "torch"


def test_interleaved_worker_failure_is_reported_not_hung(capsys):
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import run_all
    finally:
        sys.path.pop(0)
    assert run_all.run_interleaved("no such workload", 1, 2, timeout=120) is None
    err = capsys.readouterr().err
    assert "no such workload" in err and "ember: exited" in err and "KeyError" in err


@pytest.mark.slow
def test_ops_sweep_times_both_libraries_in_their_own_processes(tmp_path):
    """benchmarks/ops_sweep.py: one row per op (both libraries' times and their ratios), worst first."""
    out = tmp_path / "ops.json"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "ops_sweep.py"), "--only", "topk",
                        "--json", str(out)], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    assert "| topk 128x1000 k=5 |" in r.stdout and "1 ops, 1 thread(s)" in r.stdout
    times = json.loads(out.read_text())
    assert set(times) == {"ember", "torch"}
    for lib in times.values():
        fwd, fwd_bwd = lib["topk 128x1000 k=5"]
        # (both timed, in microseconds; not their order: beside other tests' processes a no-grad block can
        # come out slower than a forward + backward one)
        assert 0 < fwd < 1e6 and 0 < fwd_bwd < 1e6
