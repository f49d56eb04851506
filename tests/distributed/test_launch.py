"""The launcher (python -m ember.distributed.run) and failure behaviour: a rank that raises stops every rank."""
import subprocess
import sys
import time

from ._mpi import env, needs_mpi

LAUNCHED = r'''
import os, sys
import ember.distributed as dist
dist.init_process_group("gloo")
r = dist.get_rank()
assert os.environ["RANK"] == str(r) and os.environ["WORLD_SIZE"] == "2" and os.environ["LOCAL_RANK"] == str(r)
assert os.environ["OMP_NUM_THREADS"] == "1"
print(f"rank {r} args {sys.argv[1:]}")
'''

FAILING = r'''
import ember, ember.distributed as dist
dist.init_process_group("mpi")
if dist.get_rank() == 1:
    raise ValueError("boom on rank 1")
dist.barrier()                 # rank 0 would wait here for ever
t = ember.ones(2)
dist.all_reduce(t)
print("rank 0 finished")
'''


EARLY = r'''
import os, sys
if os.environ.get("PMI_RANK") == "1":
    raise ValueError("boom before init on rank 1")
import ember.distributed as dist
dist.init_process_group()
dist.barrier()
print("rank 0 finished")
'''

EXITING = r'''
import sys
import ember.distributed as dist
dist.init_process_group()
if dist.get_rank() == 0:
    sys.exit(3)
dist.barrier()
print("rank 1 finished")
'''


def _launch(tmp_path, source, *args, timeout=60):
    script = tmp_path / "prog.py"
    script.write_text(source)
    e = env()
    e.pop("OMP_NUM_THREADS", None)
    return subprocess.run([sys.executable, "-m", "ember.distributed.run", "--nproc", "2", str(script), *args],
                          capture_output=True, text=True, timeout=timeout, env=e)


@needs_mpi
def test_launcher_starts_ranks_with_torchrun_environment(tmp_path):
    p = _launch(tmp_path, LAUNCHED, "--lr", "0.1")
    assert p.returncode == 0, p.stderr
    for r in (0, 1):
        assert f"rank {r} args ['--lr', '0.1']" in p.stdout


@needs_mpi
def test_failing_rank_stops_all_ranks(tmp_path):
    t0 = time.monotonic()
    p = _launch(tmp_path, FAILING, timeout=30)      # without the abort, rank 0 hangs in barrier()
    assert time.monotonic() - t0 < 30
    assert p.returncode != 0
    assert "boom on rank 1" in p.stderr and "rank 0 finished" not in p.stdout


@needs_mpi
def test_failure_before_init_or_exit_status_stops_all_ranks(tmp_path):
    """The launcher's bootstrap stops every rank also for an error before init_process_group and for sys.exit."""
    p = _launch(tmp_path, EARLY, timeout=30)
    assert p.returncode != 0 and "boom before init on rank 1" in p.stderr and "finished" not in p.stdout
    p = _launch(tmp_path, EXITING, timeout=30)
    assert p.returncode != 0 and "rank 0 exited with status 3" in p.stderr and "finished" not in p.stdout


def test_launcher_rejects_bad_nproc():
    from ember.distributed.run import main
    import pytest
    with pytest.raises(SystemExit):
        main(["--nproc", "0", "x.py"])
