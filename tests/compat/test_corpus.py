"""The compatibility corpus: complete small PyTorch programs (``programs/*.py``), each run with the real
torch and with ember imported as ``torch`` through the import hook (``python -m ember.compat``); what they
print must be identical, but for one unit in the last printed digit of a decimal number (``_same_numbers``:
float32 products round in different orders in PyTorch's MKL and NumPy's OpenBLAS on some CPUs, which moves a
6-decimal loss after training by 1e-6).

The programs make their data and weights deterministically (``arange``/``sin``, copied weights), since the
two libraries' random generators differ, and print rounded numbers.  All programs of one library run in one
interpreter (``run_programs.py``), the two libraries' runs in parallel; a program marked
``# compat: isolated`` (multiprocessing) gets interpreters of its own.  The runs happen once per test session
(shared between pytest-xdist workers through a lock file) and each program is one test.
"""
import fcntl
import json
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROGRAMS = sorted(f for f in os.listdir(os.path.join(HERE, "programs")) if f.endswith(".py")
                  and not f.startswith("_"))

# programs that fail today because of work not done yet (strict: one that starts passing must leave this list)
XFAIL: dict = {}


def _isolated(name: str) -> bool:
    with open(os.path.join(HERE, "programs", name)) as fh:
        return "# compat: isolated" in fh.read()


def _env():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("OMP_NUM_THREADS", "1")
    env["PYTHONHASHSEED"] = "0"
    return env


def _run_all(folder: str) -> dict:
    """Both libraries' runs, in parallel subprocesses; returns {library: {program: result}}."""
    progs = [os.path.join(HERE, "programs", p) for p in PROGRAMS]
    shared = [p for p in progs if not _isolated(os.path.basename(p))]
    alone = [p for p in progs if _isolated(os.path.basename(p))]
    driver = os.path.join(HERE, "run_programs.py")
    jobs = []
    for lib, prefix in (("torch", []), ("ember", ["-m", "ember.compat"])):
        out = os.path.join(folder, f"{lib}-shared.json")
        jobs.append((lib, out, [sys.executable, *prefix, driver, out, *shared]))
        for p in alone:
            out = os.path.join(folder, f"{lib}-{os.path.basename(p)}.json")
            jobs.append((lib, out, [sys.executable, *prefix, driver, out, p]))
    procs = [(lib, out, subprocess.Popen(cmd, cwd=folder, env=_env(), stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)) for lib, out, cmd in jobs]
    results: dict = {"torch": {}, "ember": {}}
    for lib, out, proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        if proc.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"the {lib} driver failed (exit {proc.returncode}):\n{stderr[-3000:]}")
        with open(out) as fh:
            data = json.load(fh)
        assert data["library"] == lib, data["library"]
        results[lib].update(data["results"])
    return results


@pytest.fixture(scope="session")
def corpus_results(tmp_path_factory, request):
    # pytest-xdist runs several workers: the first one to get here runs the corpus, the others read its
    # results (the standard "session fixture once" pattern, with a lock file)
    base = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):      # an xdist worker: the workers share the parent folder
        base = base.parent
    folder = base / "compat-corpus"
    folder.mkdir(exist_ok=True)
    done = folder / "results.json"
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            results = _run_all(str(folder))
            done.write_text(json.dumps(results))
        fcntl.flock(lock, fcntl.LOCK_UN)
    return json.loads(done.read_text())


def test_corpus_has_enough_programs():
    assert len(PROGRAMS) >= 25, PROGRAMS


@pytest.mark.slow       # the first one runs the whole corpus (about 30-60 s on 2 busy cores), once per session
@pytest.mark.parametrize("name", [pytest.param(p, marks=pytest.mark.xfail(reason=XFAIL[p], strict=True))
                                  if p in XFAIL else p for p in PROGRAMS])
def test_program_prints_the_same_with_ember(name, corpus_results):
    ref = corpus_results["torch"][name]
    got = corpus_results["ember"][name]
    assert ref["error"] is None, f"{name} fails with the real torch:\n{ref['error']}"
    assert ref["stdout"].strip(), f"{name} printed nothing with torch"
    assert got["error"] is None, f"{name} fails with ember:\n{got['error']}\nprinted so far:\n{got['stdout']}"
    assert _same_numbers(ref["stdout"], got["stdout"]), _diff(ref["stdout"], got["stdout"])


_NUMBER = re.compile(r"[-+]?\d+\.\d+(?:[eE][-+]?\d+)?")


def _same_numbers(ref: str, got: str) -> bool:
    """The same text, where decimal numbers printed with the same digits may differ by one unit in their last
    digit (integers, and everything else, exactly)."""
    if ref == got:
        return True
    a, b = ref.splitlines(), got.splitlines()
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x == y:
            continue
        xs, ys = _NUMBER.split(x), _NUMBER.split(y)
        xn, yn = _NUMBER.findall(x), _NUMBER.findall(y)
        if xs != ys or len(xn) != len(yn):
            return False
        for p, q in zip(xn, yn):
            if p != q and not _one_unit_apart(p, q):
                return False
    return True


def _one_unit_apart(p: str, q: str) -> bool:
    mp, _, ep = p.lower().partition("e")
    mq, _, eq = q.lower().partition("e")
    decimals = len(mp.partition(".")[2])
    if decimals != len(mq.partition(".")[2]) or ep != eq:
        return False
    unit = 10.0 ** (int(ep or 0) - decimals)
    return abs(float(p) - float(q)) <= unit * 1.0001


def test_numbers_may_differ_by_one_unit_in_the_last_digit_only():
    assert _same_numbers("loss: 1.633579 \nacc 15.6%", "loss: 1.633580 \nacc 15.6%")
    assert _same_numbers("x 1.25e-03", "x 1.26e-03")
    assert not _same_numbers("loss: 1.633579", "loss: 1.633581")
    assert not _same_numbers("loss: 1.633579", "loss: 1.63358")        # other digits: a format difference
    assert not _same_numbers("x 1.25e-03", "x 1.25e-04")
    assert not _same_numbers("n 9876", "n 9877")                        # integers exactly
    assert not _same_numbers("loss: 1.5", "Loss: 1.5")
    assert not _same_numbers("a\nb", "a")


def _diff(a: str, b: str) -> str:
    import difflib
    return "output differs (- torch, + ember):\n" + "\n".join(
        difflib.unified_diff(a.splitlines(), b.splitlines(), "torch", "ember", lineterm="", n=1))
