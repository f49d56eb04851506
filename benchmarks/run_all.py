"""``make bench``: every workload of ``workloads.py``, ember and PyTorch CPU, each in a fresh process of its own.

Two frameworks' thread pools in one process fight over the same cores, which measures contention rather than
speed, so each (library, workload) pair runs in its own interpreter (``worker.py``), one after the other, with the
same thread count (OpenMP, OpenBLAS and torch's intra-op pool).  Each worker times ``--repeat`` blocks of calls
after a warm-up; the table gives the medians, each side's spread ((max - min) / median over the blocks), the ratio
ember / torch (below 1: ember is faster) and the peak memory growth of the first calls.  The machine, library
versions and thread counts head the table.  Nothing here asserts on time.

    python benchmarks/run_all.py [--threads 2] [--repeat 5] [--runs 1] [--only SUBSTRING]
                                 [--group core|kernels|models] [--json FILE] [--interleave]

With ``--runs N`` every row is timed N times (a fresh pair of processes each time, ember and PyTorch
alternating), and the table gives the median over the runs of each side's time and of the ratio, with the
ratios' range across the runs: how much the comparison itself moves from one run to the next.

With ``--interleave`` both libraries' workers are set up at once (one after the other) and their timed blocks
alternate, a short pause between blocks, so that every ember block has a PyTorch block timed next to it in
the same state of the machine: on a machine whose speed drifts by tens of percent from minute to minute (a
shared virtual machine) the ratio is the median of these paired ratios and the range their lowest and highest.
Only one library runs at a time; the other waits on its pipe.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from workloads import WORKLOADS  # noqa: E402


# the rows ``--device cuda`` runs (issue 18's goal: each at most 1.5x PyTorch CUDA's step time)
CUDA_ROWS = ("MLP 784-512-256-10, batch 128, SGD momentum step", "MLP 784-512-256-10, batch 128, Adam step",
             "LeNet-5, batch 64, training step", "ResNet-18 on 3x32x32, batch 64, training step",
             "LSTM h128, 40 steps, batch 64, training step",
             "transformer LM, 2 layers d128, 32x64 tokens, training step")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_worker(lib: str, bench: str, threads: int, repeat: int, timeout: float, device: str = "cpu") -> dict | None:
    cmd = [sys.executable, os.path.join(HERE, "worker.py"), "--lib", lib, "--bench", bench, "--threads", str(threads),
           "--repeat", str(repeat), "--device", device]
    env = dict(os.environ, PYTHONHASHSEED="0")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        print(f"  ({lib}: {bench}: over {timeout:.0f} s, skipped)", file=sys.stderr)
        return None
    if out.returncode != 0:
        print(f"  ({lib}: {bench}: failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else '?'})",
              file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


class _Served:
    """A worker in ``--serve`` mode: set up, warmed up and calibrated, then timing one block per request."""

    def __init__(self, lib, bench, threads, device, timeout):
        cmd = [sys.executable, os.path.join(HERE, "worker.py"), "--lib", lib, "--bench", bench, "--threads",
               str(threads), "--device", device, "--serve"]
        self.lib, self.timeout = lib, timeout
        self.err = tempfile.TemporaryFile("w+")      # (a pipe nobody reads could fill and stall the worker)
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                  text=True, bufsize=1, env=dict(os.environ, PYTHONHASHSEED="0"))
        self.lines = queue.SimpleQueue()        # the worker's stdout, line by line ("" at its end)
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            self.read("ready")
        except RuntimeError:
            self.kill()             # (one that did not answer in time is still running)
            raise

    def read(self, key):
        """The next JSON line from the worker that has ``key``; RuntimeError when it exits first or gives no
        answer within the timeout."""
        end = time.monotonic() + self.timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise RuntimeError(f"{self.lib}: no answer within the timeout") from None
            if not line:
                raise RuntimeError(f"{self.lib}: exited: {self.error()}")
            try:
                msg = json.loads(line)
            except ValueError:          # something the workload printed
                continue
            if key in msg:
                return msg

    def _pump(self):
        for line in self.p.stdout:
            self.lines.put(line)
        self.lines.put("")

    def error(self):
        self.kill()
        self.err.seek(0)
        err = self.err.read().strip()
        return err.splitlines()[-1] if err else "?"

    def block(self):
        self.p.stdin.write("block\n")
        return self.read("block")["block"]

    def finish(self):
        self.p.stdin.write("done\n")
        self.p.stdin.close()
        r = self.read("median")
        self.p.wait(self.timeout)
        return r

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        try:
            self.p.stdin.close()
        except OSError:             # (a closed pipe's last flush)
            pass


def run_interleaved(bench, threads, repeat, timeout, device="cpu", pause=0.05):
    """Both libraries' workers at once, each in its own process, their timed blocks alternating (ember
    first in even pairs, PyTorch first in odd ones) with a pause between blocks, so that each pair of
    blocks sees the machine in the same state: {"ember": result, "torch": result, "pairs": [ember block /
    torch block]}, or None where a worker failed.  One library's process waits on its pipe while the other
    runs."""
    workers = []
    try:
        for lib in ("ember", "torch"):
            workers.append(_Served(lib, bench, threads, device, timeout))     # set up one after the other
        pairs = []
        for i in range(repeat):
            t = {}
            for w in (workers if i % 2 == 0 else workers[::-1]):
                time.sleep(pause)       # (the other library's idle threads settle)
                t[w.lib] = w.block()
            pairs.append(t["ember"] / t["torch"])
        res = {w.lib: w.finish() for w in workers}
        res["pairs"] = pairs
        return res
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        print(f"  ({bench}: {e}; skipped)", file=sys.stderr)
        return None
    finally:
        for w in workers:
            w.kill()


def spread_f(r: dict) -> float:
    """The spread of one run's timed blocks, (max - min) / median, in percent."""
    return 100 * (r['max'] - r['min']) / r['median']


def _median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=int(os.environ.get("EMBER_BENCH_THREADS", os.cpu_count() or 1)))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--runs", type=int, default=1, help="time every row this many times (fresh processes each)")
    ap.add_argument("--only", default=None, help="run the workloads whose name contains this")
    ap.add_argument("--group", choices=("core", "kernels", "models"), default=None)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--json", default=None, help="also write the raw results to this file")
    ap.add_argument("--interleave", action="store_true",
                    help="run both libraries' workers at once and alternate their timed blocks (ratio: the "
                         "median of the paired blocks' ratios); for machines whose speed drifts")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                    help="cuda: the training-step rows on the GPU, ember (CuPy) against PyTorch CUDA")
    a = ap.parse_args(argv)
    names = [n for n, (_, g) in WORKLOADS.items()
             if (a.only is None or a.only.lower() in n.lower()) and (a.group is None or g == a.group)
             and (a.device == "cpu" or n in CUDA_ROWS)]
    rows, raw, meta = [], [], {}
    for name in names:
        runs = []
        for _ in range(max(1, a.runs)):
            if a.interleave:
                res = run_interleaved(name, a.threads, a.repeat, a.timeout, a.device) or \
                    {"ember": None, "torch": None}
            else:
                res = {lib: run_worker(lib, name, a.threads, a.repeat, a.timeout, a.device)
                       for lib in ("ember", "torch")}
            raw.append({"name": name, **res})
            for lib, r in res.items():
                if r:
                    meta[lib] = r
            runs.append(res)
        rows.append((name, runs))
        print(f"  {name}: done", file=sys.stderr, flush=True)
    e, t = meta.get("ember", {}), meta.get("torch", {})
    print(f"Machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
          f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}")
    print(f"ember {e.get('version', '?')} (NumPy {e.get('numpy', '?')}, BLAS: {e.get('blas', '?')}) vs "
          f"PyTorch {t.get('version', '?')} ({a.device.upper()}); {a.threads} threads each, float32; each library in its own "
          f"process; median of {a.repeat} timed blocks after a warm-up\n")
    if a.interleave:
        print(f"Interleaved: both libraries' workers run at once, their {a.repeat} timed blocks alternating "
              f"({a.runs} run{'s' if a.runs > 1 else ''} per row); times are medians of the blocks, 'ratio' "
              f"the median of the paired blocks' ratios and 'ratio range' their lowest and highest\n")
    elif a.runs > 1:
        print(f"{a.runs} runs per row; times and ratio are medians over the runs, 'ratio range' the lowest and "
              f"highest ratio of a run, 'spread' the largest block spread of a run\n")
    if a.runs > 1 or a.interleave:
        print("| workload | ember (ms) | spread | PyTorch (ms) | spread | ratio | ratio range | "
              "peak MiB ember / torch |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
    else:
        print("| workload | ember (ms) | spread | PyTorch (ms) | spread | ratio | peak MiB ember / torch |")
        print("|---|---:|---:|---:|---:|---:|---:|")
    for name, runs in rows:
        ok = [(r["ember"], r["torch"]) for r in runs if r["ember"] and r["torch"]]
        if not ok:
            re_, rt = runs[-1]["ember"], runs[-1]["torch"]
            ms = ["failed" if r is None else f"{r['median'] * 1e3:.3f}" for r in (re_, rt)]
            ranged = a.runs > 1 or a.interleave
            print(f"| {name} | {ms[0]} | | {ms[1]} | |" + (" |" if ranged else "") + " | |")
            continue
        ratios = sorted(e["median"] / t["median"] for e, t in ok)
        if a.interleave:        # the paired blocks' ratios, over every run
            ratios = sorted(q for r in runs if r.get("pairs") for q in r["pairs"])
        te = _median([e["median"] for e, _ in ok])
        tt = _median([t["median"] for _, t in ok])
        se = max((spread_f(e) for e, _ in ok))
        st = max((spread_f(t) for _, t in ok))
        rng = f" {ratios[0]:.2f}-{ratios[-1]:.2f} |" if a.runs > 1 or a.interleave else ""
        mem = f"{_median([e['rss_mib'] for e, _ in ok]):.0f} / {_median([t['rss_mib'] for _, t in ok]):.0f}"
        print(f"| {name} | {te * 1e3:.3f} | {se:.0f}% | {tt * 1e3:.3f} | {st:.0f}% | {_median(ratios):.2f} |{rng} "
              f"{mem} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"threads": a.threads, "cpu": cpu_model(), "rows": raw}, f, indent=1)


if __name__ == "__main__":
    main()
