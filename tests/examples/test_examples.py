"""Every example runs end to end in --quick mode (a few batches) and prints its result line."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))


def _needs_real_data(script) -> bool:
    text = script.read_text(encoding="utf-8")
    return "load_mnist_arrays(" in text or "shakespeare" in text.lower()


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_quick(script, tmp_path, request):
    if _needs_real_data(script):
        request.getfixturevalue("real_data")            # skipped, with the reason, when the data root lacks them
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{script.name} failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    assert r.stdout.strip(), f"{script.name} printed nothing"
    if "for epoch in" in script.read_text(encoding="utf-8"):     # into a pipe, a line per epoch as it ends
        assert any(line.startswith("epoch 1: ") for line in r.stdout.splitlines()), r.stdout[-2000:]


EPOCH_LOOPS = [p for p in EXAMPLES if "for epoch in" in p.read_text(encoding="utf-8")]


def test_every_epoch_loop_prints_per_epoch():
    """Each example with an epoch loop prints a line per epoch inside it (so `> log` shows progress)."""
    for script in EPOCH_LOOPS:
        text = script.read_text(encoding="utf-8")
        assert 'print(f"epoch {epoch + 1}' in text, script.name


def test_progress_helper_prints_plain_lines_with_an_eta(capsys):
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from _common import progress
    finally:
        sys.path.remove(str(ROOT / "examples"))
    seen = list(progress(range(5), epoch=1, epochs=3, log_every=1e-9))
    assert seen == [0, 1, 2, 3, 4]
    lines = capsys.readouterr().out.splitlines()           # not a terminal: plain lines, none for the last batch
    assert [ln.split(" - ")[:2] for ln in lines] == [["Epoch 2/3", f"batch {i}/5"] for i in range(1, 5)]
    assert all("ETA " in ln for ln in lines)
