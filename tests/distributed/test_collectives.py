"""ember.distributed's collectives in 2 MPI processes, each checked against NumPy on the ranks' known inputs."""
import subprocess
import sys

import pytest

from ._mpi import needs_mpi, run_mpi, env

COLLECTIVES = r'''
import numpy as np
import ember
import ember.distributed as dist
from ember.distributed import ReduceOp

dist.init_process_group(backend="mpi")
r, n = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and n == 2 and dist.get_backend() == "mpi"

def data(k, dtype=np.float32, shape=(3, 4)):          # rank k's input
    return (np.arange(np.prod(shape)).reshape(shape) * (k + 1) - 5 * k).astype(dtype)

def same(t, want):
    got = t.numpy() if hasattr(t, "numpy") else t
    assert got.dtype == np.asarray(want).dtype, (got.dtype, np.asarray(want).dtype)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)

everyone = [data(k) for k in range(n)]
refs = {ReduceOp.SUM: sum(everyone), ReduceOp.AVG: sum(everyone) / n, ReduceOp.MAX: np.maximum(*everyone),
        ReduceOp.MIN: np.minimum(*everyone), ReduceOp.PRODUCT: everyone[0] * everyone[1]}
for op, want in refs.items():
    for async_op in (False, True):
        t = ember.tensor(data(r))
        v0 = t._version[0]
        w = dist.all_reduce(t, op=op, async_op=async_op)
        if async_op:
            assert w is not None and w.wait() and w.is_completed()
            assert w.result()[0] is t
        else:
            assert w is None
        same(t, want)
        assert t._version[0] > v0          # written in place

# integer and bool reductions
t = ember.tensor(data(r, np.int64)); dist.all_reduce(t); same(t, sum(data(k, np.int64) for k in range(n)))
t = ember.tensor(np.array([r == 0, False, True])); dist.all_reduce(t, ReduceOp.MAX)
same(t, np.array([True, False, True]))
t = ember.tensor(data(r, np.int32)); dist.all_reduce(t, ReduceOp.BXOR); same(t, data(0, np.int32) ^ data(1, np.int32))
for bad in (lambda: dist.all_reduce(ember.tensor([1, 2]), ReduceOp.AVG),
            lambda: dist.all_reduce(ember.tensor([1.0]), ReduceOp.BAND)):
    try:
        bad()
        raise AssertionError("no error")
    except ValueError as e:
        assert "all_reduce" in str(e), e

# a non-contiguous tensor receives through a copy
base = ember.tensor(data(r, shape=(4, 6)))
view = base.t()
dist.all_reduce(view)
same(base, sum(data(k, shape=(4, 6)) for k in range(n)))

# reduce to rank 1
t = ember.tensor(data(r)); dist.reduce(t, dst=1, op=ReduceOp.SUM)
same(t, refs[ReduceOp.SUM] if r == 1 else data(r))

# broadcast from 1
t = ember.tensor(data(r)); w = dist.broadcast(t, src=1, async_op=True); w.wait(); same(t, data(1))

# all_gather / all_gather_into_tensor
outs = [ember.zeros(3, 4) for _ in range(n)]
dist.all_gather(outs, ember.tensor(data(r)))
for k in range(n):
    same(outs[k], data(k))
big = ember.zeros(2 * 3, 4)
dist.all_gather_into_tensor(big, ember.tensor(data(r)))
same(big, np.concatenate([data(k) for k in range(n)]))

# reduce_scatter: rank i gets sum over ranks of their input_list[i]
ins = [ember.tensor(data(r) + 100 * i) for i in range(n)]
out = ember.zeros(3, 4)
dist.reduce_scatter(out, ins, op=ReduceOp.SUM)
same(out, sum(data(k) + 100 * r for k in range(n)).astype(np.float32))
out = ember.zeros(3, 4)
w = dist.reduce_scatter_tensor(out, ember.tensor(np.concatenate([data(r) + 100 * i for i in range(n)])),
                               op=ReduceOp.AVG, async_op=True)
w.wait()
same(out, (sum(data(k) + 100 * r for k in range(n)) / n).astype(np.float32))

# gather to 0, scatter from 1
t = ember.tensor(data(r))
if r == 0:
    lst = [ember.zeros(3, 4) for _ in range(n)]
    dist.gather(t, lst, dst=0)
    for k in range(n):
        same(lst[k], data(k))
else:
    dist.gather(t, dst=0)
t = ember.zeros(3, 4)
if r == 1:
    dist.scatter(t, [ember.tensor(data(k) * 7) for k in range(n)], src=1)
else:
    dist.scatter(t, src=1)
same(t, data(r) * 7)

# all_to_all_single (equal and uneven splits) and all_to_all: out[j] on rank r <- rank j's piece r
out = ember.zeros(4, 3)
dist.all_to_all_single(out, ember.tensor(data(r, shape=(4, 3))))
same(out, np.concatenate([data(k, shape=(4, 3))[2 * r:2 * r + 2] for k in range(n)]))
split = [[1, 3], [2, 2]]                         # rows rank k sends to ranks 0 and 1
src = [data(k, shape=(4, 3)) for k in range(n)]
pieces = [np.split(src[k], np.cumsum(split[k])[:-1]) for k in range(n)]
want = np.concatenate([pieces[k][r] for k in range(n)])
out = ember.zeros(*want.shape)
w = dist.all_to_all_single(out, ember.tensor(src[r]), [split[k][r] for k in range(n)], split[r], async_op=True)
w.wait()
same(out, want)
outs = [ember.zeros(k + 1) for k in range(n)]
dist.all_to_all(outs, [ember.full((r + 1,), float(10 * r + j)) for j in range(n)])
for k in range(n):
    same(outs[k], np.full(k + 1, 10 * k + r, np.float32))
assert dist.get_process_group_ranks(g := dist.new_group([0, 1])) == [0, 1] and dist.get_global_rank(g, 1) == 1

# point to point, blocking and async
if r == 0:
    dist.send(ember.tensor(data(0, np.float64)), dst=1, tag=3)
    t = ember.zeros(3, 4, dtype=ember.float64)
    assert dist.recv(t) == 1
    same(t, data(1, np.float64))
else:
    t = ember.zeros(3, 4, dtype=ember.float64)
    w = dist.irecv(t, src=0, tag=3)
    w.wait()
    same(t, data(0, np.float64))
    dist.isend(ember.tensor(data(1, np.float64)), dst=0).wait()

# objects
objs = [None, None]
dist.all_gather_object(objs, {"rank": r})
assert objs == [{"rank": 0}, {"rank": 1}]
lst = [r, "x"] if r == 0 else [None, None]
dist.broadcast_object_list(lst, src=0)
assert lst == [0, "x"]

# sub-groups take global ranks
g = dist.new_group([1])
if r == 1:
    assert dist.get_world_size(g) == 1 and dist.get_rank(g) == 0
    t = ember.ones(2); dist.all_reduce(t, group=g); same(t, np.ones(2, np.float32))
else:
    assert dist.get_rank(g) == -1

# argument errors name the op
for bad, exc, word in ((lambda: dist.broadcast(ember.ones(2), src=5), ValueError, "broadcast"),
                       (lambda: dist.all_gather([ember.ones(2)], ember.ones(2)), ValueError, "all_gather"),
                       (lambda: dist.all_reduce(np.ones(2)), TypeError, "all_reduce")):
    try:
        bad()
        raise AssertionError("no error")
    except exc as e:
        assert word in str(e), e

assert dist.barrier(async_op=True).wait()
dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
print(f"rank {r} ok")
'''


@needs_mpi
def test_collectives_against_numpy(tmp_path):
    p = run_mpi(tmp_path, COLLECTIVES)
    assert "rank 0 ok" in p.stdout and "rank 1 ok" in p.stdout


def test_not_initialized_errors_as_torch():
    import ember
    import ember.distributed as dist
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.all_reduce(ember.ones(2))
    with pytest.raises(RuntimeError, match="nccl.*CUDA"):
        dist.init_process_group("nccl")
    assert dist.ReduceOp.SUM.name == "SUM" and dist.is_nccl_available() is False


SINGLETON = r'''
import os
import ember, ember.distributed as dist
dist.init_process_group("gloo")
assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
assert os.environ["RANK"] == "0" and os.environ["WORLD_SIZE"] == "1" and os.environ["LOCAL_RANK"] == "0"
t = ember.ones(3); dist.all_reduce(t); assert t.tolist() == [1.0, 1.0, 1.0]
try:
    dist.init_process_group("mpi")
    raise AssertionError("no error")
except ValueError as e:
    assert "twice" in str(e)
print("ok")
'''


@needs_mpi
def test_one_process_without_launcher(tmp_path):
    """Without mpiexec the script is a world of one (MPI singleton), as a torchrun script with one process."""
    script = tmp_path / "one.py"
    script.write_text(SINGLETON)
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env())
    assert p.returncode == 0 and "ok" in p.stdout, p.stderr
