"""Data-parallel speed: LeNet-5 on MNIST-shaped images with 1 and 2 MPI processes (1 thread each).

Trains ``--images`` images (a slice of an epoch; random 28x28 images, the compute is the same as MNIST's) with a
global batch of ``--batch`` (each of N processes takes batch/N through ``DistributedSampler``), SGD with
momentum, ``DistributedDataParallel``.  Prints images per second for each process count, the speed-up, the bytes
each rank all-reduces per step, and how much of the all-reduce backward hid: ``hidden = 1 - wait / alone``, where
``wait`` is the time backward still waited for the collectives after its last gradient and ``alone`` the time the
same all-reduce takes by itself.  On a busy machine the wall-clock speed-up is noise; the CPU efficiency (CPU
seconds per image with 1 process / with 2, all ranks summed; busy-waiting in MPI counts as CPU) is what the
parallel version costs in extra work.  ``--repeat R`` alternates the process counts R times and reports the
median speed-up; the load average (``uptime``) before and after is printed, since other work on the machine
changes everything.  Usage: ``python benchmarks/bench_distributed.py [--images 3200] [--batch 64] [--repeat 3]``.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def worker(args) -> None:
    import numpy as np
    import ember
    import ember.distributed as dist
    import ember.nn.functional as F
    from ember.data import DataLoader, TensorDataset
    from ember.models.lenet import LeNet5
    from ember.nn.parallel import DistributedDataParallel as DDP
    from ember.utils.data import DistributedSampler
    from mpi4py import MPI

    dist.init_process_group("mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    g = np.random.default_rng(0)
    x = ember.tensor(g.standard_normal((args.images, 1, 28, 28)).astype(np.float32))
    y = ember.tensor(g.integers(0, 10, args.images))
    data = TensorDataset(x, y)
    loader = DataLoader(data, batch_size=args.batch // n, sampler=DistributedSampler(data, seed=1), drop_last=True)
    ember.manual_seed(0)
    model = DDP(LeNet5(), bucket_cap_mb=args.bucket_cap_mb, gradient_as_bucket_view=True)   # as ember train
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step(xb, yb):
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()

    it = iter(loader)
    for _ in range(3):                      # warm-up
        step(*next(it))
    dist.barrier()
    t0, c0 = time.perf_counter(), time.process_time()
    steps, wait = 0, 0.0
    for xb, yb in loader:
        step(xb, yb)
        steps += 1
        wait += model.wait_s_last_step
    cpu = time.process_time() - c0           # this rank's CPU seconds (the others' are added below)
    dist.barrier()
    seconds = time.perf_counter() - t0
    cpu_all, wait_all = [None] * n, [None] * n
    dist.all_gather_object(cpu_all, cpu)
    dist.all_gather_object(wait_all, wait)
    nbytes = model.bytes_last_step
    alone = 0.0
    if n > 1:                               # the same all-reduce with nothing else running
        buf = np.zeros(nbytes // 4, np.float32)
        dist.barrier()
        t1 = time.perf_counter()
        for _ in range(steps):
            model._comm.Allreduce(MPI.IN_PLACE, buf, MPI.SUM)
        alone = time.perf_counter() - t1
    if r == 0:
        print(json.dumps({"procs": n, "images": steps * args.batch, "seconds": seconds,
                          "images_per_s": steps * args.batch / seconds, "bytes_per_step": nbytes if n > 1 else 0,
                          "wait_s": wait, "alone_s": alone, "buckets": len(model._buckets),
                          "cpu_s": sum(cpu_all), "wait_all_s": sum(wait_all)}))


def run_once(n, args, env, batch=None) -> dict:
    out = subprocess.run([sys.executable, "-m", "ember.distributed.run", "-n", str(n), __file__, "--worker",
                          "--images", str(args.images), "--batch", str(batch or args.batch)]
                         + ([] if args.bucket_cap_mb is None else ["--bucket-cap-mb", str(args.bucket_cap_mb)]),
                         capture_output=True, text=True, env=env, cwd=str(ROOT), check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def estimate(a, b, half) -> float:
    """What 2 idle cores would give, from CPU times (which other work on the machine changes far less than wall
    time): one process's CPU time for the images, against each rank's share of the work, measured as one process
    training the same images at the per-rank batch (``half``), plus the all-reduce measured alone.  The DDP hooks'
    own work (about 0.1 ms a step) and any imbalance between the ranks are left out."""
    return a["cpu_s"] / (half["cpu_s"] / 2 + b["alone_s"])


def report(n, res) -> None:
    hidden = "" if n == 1 else (f", all-reduce {res['bytes_per_step']:,} B/step in {res['buckets']} bucket(s), "
                                f"waited {res['wait_s']:.3f} s vs {res['alone_s']:.3f} s alone")
    print(f"{n} process(es): {res['images_per_s']:.0f} images/s ({res['images']} images in "
          f"{res['seconds']:.2f} s, {1e3 * res['cpu_s'] / res['images']:.3f} CPU ms/image over all ranks)"
          f"{hidden}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--images", type=int, default=3200)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--procs", default="1,2")
    p.add_argument("--bucket-cap-mb", type=float, default=None, help="DDP bucket_cap_mb (default: PyTorch's)")
    p.add_argument("--repeat", type=int, default=1, help="alternate the process counts this many times")
    p.add_argument("--worker", action="store_true")
    args = p.parse_args()
    if args.worker:
        return worker(args)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    procs = [int(k) for k in args.procs.split(",")]
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs", flush=True)
    runs = {n: [] for n in procs}
    halves = []
    for _ in range(args.repeat):
        for n in procs:
            res = run_once(n, args, env)
            runs[n].append(res)
            report(n, res)
        if 1 in runs and 2 in runs:
            a, b = runs[1][-1], runs[2][-1]
            halves.append(run_once(1, args, env, batch=args.batch // 2))
            print(f"speed-up 1 -> 2 processes: {b['images_per_s'] / a['images_per_s']:.2f}x; CPU efficiency "
                  f"{a['cpu_s'] / b['cpu_s']:.2f} (CPU time per image with 1 process / with 2, waits included); "
                  f"1 process at batch {args.batch // 2}: {1e3 * halves[-1]['cpu_s'] / halves[-1]['images']:.3f} "
                  f"CPU ms/image, so 2 idle cores would give about {estimate(a, b, halves[-1]):.2f}x", flush=True)
    if args.repeat > 1 and 1 in runs and 2 in runs:
        from statistics import median
        ups = sorted(b["images_per_s"] / a["images_per_s"] for a, b in zip(runs[1], runs[2]))
        eff = sorted(a["cpu_s"] / b["cpu_s"] for a, b in zip(runs[1], runs[2]))
        est = sorted(estimate(a, b, h) for a, b, h in zip(runs[1], runs[2], halves))
        print(f"median of {args.repeat}: speed-up {median(ups):.2f}x (range {ups[0]:.2f}-{ups[-1]:.2f}), "
              f"CPU efficiency {median(eff):.2f}, estimated speed-up on 2 idle cores {median(est):.2f}x "
              f"(range {est[0]:.2f}-{est[-1]:.2f})")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
