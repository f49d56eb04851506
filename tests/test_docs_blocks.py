"""Every ```python block in README.md and docs/*.md runs as written (in a temporary folder, the blocks of one
file in order and sharing their names, as a reader pasting them one after the other would), and the README's
Keras sentence names calls and callbacks that exist and work, so that documented calls keep working.

A block that cannot run here (it needs data that is not offline, or takes minutes) may be skipped only by adding
it to SKIP below with the written reason; none is skipped today."""
import contextlib
import io
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]

# (file relative to the repository, the block's first line) -> why it cannot run in the test suite
SKIP: dict = {}
# file -> code run before its blocks, with the reason the page's blocks need it
PRELUDE = {
    # the fuzzer's reproducers name the module under test `m` (ember here; the page says what torch does instead),
    # and its "fuzz case" blocks are literals of the fuzzer's own Case/Arr records over NumPy arrays
    "docs/differences.md": "import numpy as np\nfrom numpy import inf, nan\nimport ember as m\nfrom tests.fuzz.oracle import Arr, Case",
}
# file -> why its blocks may raise (a block that does not parse or uses a name it never defines always fails)
MAY_RAISE = {
    "docs/differences.md": "each block reproduces a known difference from torch, where raising (or a missing "
                           "function) is one side of it; tests/fuzz checks that each one still differs",
}

# file -> why its blocks run in a fresh interpreter rather than in the test process
SUBPROCESS = {
    "docs/compat.md": "it installs the torch -> ember import hook, which refuses once the real torch is imported "
                      "(other tests import it) and would redirect later imports in the test process",
}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n`]*)$")


def python_blocks(text: str):
    """``(line number, code)`` of each fenced block whose info string is python/py (1-based line of the fence)."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, indent = m.group("fence"), m.group("info").strip().split(" ")[0].lower(), m.group("indent")
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        if lang in ("python", "py", "python3"):
            body = [ln[len(indent):] if ln.startswith(indent) else ln for ln in lines[i + 1:j]]
            blocks.append((i + 1, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def test_the_block_finder():
    text = "a\n```python\nx = 1\n```\n```bash\nls\n```\n  ```py\n  y = 2\n  ```\n````python\nz = '```'\n````\n"
    assert python_blocks(text) == [(2, "x = 1\n"), (8, "y = 2\n"), (11, "z = '```'\n")]


_CASES = [(doc, ln, code) for doc in DOCS for ln, code in python_blocks(doc.read_text(encoding="utf-8"))]


def test_there_are_blocks_to_run():
    assert any(doc.name == "README.md" for doc, _, _ in _CASES)


@pytest.mark.parametrize("doc", sorted({doc for doc, _, _ in _CASES}), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run_as_written(doc, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                     # whatever a block writes lands in a temporary folder
    namespace = {"__name__": "__main__"}
    rel = str(doc.relative_to(ROOT))
    if rel in SUBPROCESS:
        import os
        import subprocess
        import sys
        script = tmp_path / "blocks.py"
        script.write_text("".join(c for d, _, c in _CASES if d == doc))
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env)
        assert out.returncode == 0, f"the python blocks of {rel} fail in a fresh interpreter:\n{out.stderr[-3000:]}"
        return
    if rel in PRELUDE:
        exec(PRELUDE[rel], namespace)
    for line, code in [(ln, c) for d, ln, c in _CASES if d == doc]:
        reason = SKIP.get((rel, code.splitlines()[0] if code.strip() else ""))
        if reason:
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, f"{rel}:{line}", "exec"), namespace)
        except Exception as e:  # noqa: BLE001 - name the block that failed
            if rel in MAY_RAISE and type(e) not in (NameError, SyntaxError):
                continue
            pytest.fail(f"the python block at {rel}:{line} fails as written: {type(e).__name__}: {e}")


def test_readme_keras_sentence_works_as_written(tmp_path, monkeypatch):
    """The README's 'Keras way' paragraph: every callback it names exists, and the calls it shows work, including
    callbacks given to fit as Keras takes them and resume_from."""
    import ember
    import ember.nn as nn
    import ember.optim as optim
    from ember import train
    from ember.data import DataLoader, TensorDataset
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("Or the Keras way")
    para = readme[start:readme.index("\n\n", start)]
    names = set(re.findall(r"`([A-Z][A-Za-z]+)`", para))
    assert {"EarlyStopping", "ModelCheckpoint", "TerminateOnNaN"} <= names
    for name in names:
        assert hasattr(train, name) or hasattr(optim.lr_scheduler, name), name
    assert "fit(loader" in para and "callbacks=[" in para        # Keras: callbacks go to fit

    monkeypatch.chdir(tmp_path)
    ember.manual_seed(0)
    x, y = ember.randn(64, 4), ember.randint(0, 2, (64,))
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    model = nn.Linear(4, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    cbs = [train.EarlyStopping(patience=2), train.ModelCheckpoint("ck"), train.CSVLogger("log.csv"),
           train.TerminateOnNaN(), train.BackupAndRestore("backup"),
           train.LRSchedulerCallback(optim.lr_scheduler.ReduceLROnPlateau(opt))]
    history = train.Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy"]).fit(
        loader, val_data=(x, y), epochs=2, callbacks=cbs, verbose=0)
    assert len(history) == 2 and (tmp_path / "ck" / "last.safetensors").exists()
    history.plot(str(tmp_path / "curves.png"))
    t2 = train.Trainer(nn.Linear(4, 2), nn.CrossEntropyLoss(), None)
    t2.optimizer = optim.SGD(t2.model.parameters(), lr=0.1)
    h2 = t2.fit(loader, val_data=(x, y), epochs=3, resume_from=tmp_path / "ck" / "last.safetensors", verbose=0)
    assert len(h2) == 3
