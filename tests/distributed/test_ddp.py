"""DistributedDataParallel and SyncBatchNorm in 2 MPI processes: training equals single-process training on the
concatenated global batch (float32 to 1e-6 after several SGD-with-momentum steps)."""
from ._mpi import needs_mpi, run_mpi

DDP = r'''
import numpy as np
import ember
import ember.nn as nn
import ember.nn.functional as F
import ember.distributed as dist
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.models.lenet import LeNet5

dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
TOL = 1e-6


def close(a, b, what):
    a, b = np.asarray(a), np.asarray(b)
    d = float(np.max(np.abs(a - b))) if a.size else 0.0
    assert a.shape == b.shape and d <= TOL * max(1.0, float(np.max(np.abs(b)))), f"{what}: differs by {d}"


def same_on_all_ranks(arr, what):
    got = [None] * n
    dist.all_gather_object(got, np.asarray(arr))
    for k in range(1, n):
        assert np.array_equal(got[0], got[k]), f"{what} differs between rank 0 and rank {k}"


def batch(step, shape, classes, size):
    g = np.random.default_rng(100 + step)
    return (ember.tensor(g.standard_normal((size,) + shape).astype(np.float32)),
            ember.tensor(g.integers(0, classes, size)))


def local(t):
    b = t.shape[0] // n
    return t[r * b:(r + 1) * b]


def train_equal(make, shape, classes, size, steps, **ddp_kw):
    ember.manual_seed(0)
    ref = make()
    ember.manual_seed(0)
    model = make()
    if r == 1:                        # DDP must broadcast rank 0's initial parameters
        with ember.no_grad():
            for p in model.parameters():
                p.add_(0.5)
    ddp = DDP(model, **ddp_kw)
    opt = ember.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    ref_opt = ember.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9)
    for step in range(steps):
        x, y = batch(step, shape, classes, size)
        opt.zero_grad()
        F.cross_entropy(ddp(local(x)), local(y)).backward()
        opt.step()
        ref_opt.zero_grad()
        F.cross_entropy(ref(x), y).backward()
        ref_opt.step()
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        close(p.detach().numpy(), q.detach().numpy(), name)
        same_on_all_ranks(p.detach().numpy(), name)
    for (name, b), c in zip(model.named_buffers(), ref.buffers()):
        close(b.numpy(), c.numpy(), name)
    return ddp


# an MLP, several buckets (bucket_cap_mb tiny), and LeNet-5 with PyTorch's default buckets
mlp = lambda: nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4))
ddp = train_equal(mlp, (6,), 4, 16, 5, bucket_cap_mb=0.001)
assert len(ddp._buckets) > 2 and ddp.bytes_last_step == 4 * sum(p.numel() for p in ddp.parameters())
train_equal(LeNet5, (1, 28, 28), 10, 8, 3)

# gradient_as_bucket_view: the same training; .grad are views of the buckets (no copy back), and with
# gradients zeroed in place the next backward accumulates into them (no copy in)
ddp = train_equal(mlp, (6,), 4, 16, 4, bucket_cap_mb=0.001, gradient_as_bucket_view=True)
bucket_of = {id(q): b for b in ddp._buckets for q in b.params}
for p in ddp.parameters():
    assert p.grad._data.base is bucket_of[id(p)].buf, "grad is not a view of its bucket"
views = [p.grad._data for p in ddp.parameters()]
x, y = batch(9, (6,), 4, 16)
for p in ddp.parameters():
    p.grad.zero_()
F.cross_entropy(ddp(local(x)), local(y)).backward()
assert all(p.grad._data is v for p, v in zip(ddp.parameters(), views))

# the all-reduce of the last layers' bucket starts while backward is still computing the first layers' gradients
model = ddp.module
during = []
model[2].weight.register_post_accumulate_grad_hook(lambda p: during.append((ddp._next_bucket, ddp._armed)))
x, y = batch(9, (6,), 4, 16)
F.cross_entropy(ddp(local(x)), local(y)).backward()
assert during and during[0][0] >= 1 and during[0][1], during     # a bucket in flight, backward not finished
assert not ddp._armed and ddp._next_bucket == len(ddp._buckets)

# SyncBatchNorm: statistics over both ranks = BatchNorm on the global batch (parameters and running stats)
def bn_net():
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
ember.manual_seed(0)
ref = bn_net()
ember.manual_seed(0)
model = nn.SyncBatchNorm.convert_sync_batchnorm(bn_net())
assert isinstance(model[1], nn.SyncBatchNorm)
ddp = DDP(model)
opt = ember.optim.SGD(ddp.parameters(), lr=0.1)
ref_opt = ember.optim.SGD(ref.parameters(), lr=0.1)
for step in range(3):
    x, y = batch(step, (6,), 3, 12)
    opt.zero_grad(); F.cross_entropy(ddp(local(x)), local(y)).backward(); opt.step()
    ref_opt.zero_grad(); F.cross_entropy(ref(x), y).backward(); ref_opt.step()
for (name, a), b in zip(model.state_dict().items(), ref.state_dict().values()):
    close(a.numpy(), b.numpy(), "SyncBatchNorm " + name)

# plain BatchNorm buffers as PyTorch: rank 0's buffers are broadcast before every synchronised forward
ember.manual_seed(0)
model = bn_net()
ddp = DDP(model)
seen = []
model.register_forward_pre_hook(lambda m, inp: seen.append(m[1].running_mean.numpy().copy()))
for step in range(3):
    x, y = batch(step, (6,), 3, 12)
    F.cross_entropy(ddp(local(x)), local(y)).backward()
    if step == 1:
        after_rank0 = [None]
        after_rank0[0] = model[1].running_mean.numpy().copy()
        dist.broadcast_object_list(after_rank0, src=0)
for k, s in enumerate(seen):
    same_on_all_ranks(s, f"running_mean before forward {k}")
assert np.array_equal(seen[2], after_rank0[0])
got = [None] * n
dist.all_gather_object(got, model[1].running_mean.numpy())
assert not np.array_equal(got[0], got[1])          # each rank's own batch statistics after its forward
with ddp.no_sync():
    ddp(local(x))                                   # synchronised: buffers broadcast before it
seen.clear()
ddp(local(x))                                       # follows a no_sync forward: no broadcast (PyTorch's rule)
got = [None] * n
dist.all_gather_object(got, seen[0])
assert not np.array_equal(got[0], got[1])

# forward_sync_buffers=False: buffers synchronised at start-up only; init_sync=False: no start-up broadcast at all
import warnings
ember.manual_seed(0)
model = bn_net()
with ember.no_grad():
    model[1].running_mean.add_(float(r))
ddp = DDP(model, forward_sync_buffers=False)
same_on_all_ranks(model[1].running_mean.numpy(), "running_mean after start-up")
x, y = batch(4, (6,), 3, 12)
for _ in range(2):
    F.cross_entropy(ddp(local(x)), local(y)).backward()
got = [None] * n
dist.all_gather_object(got, model[1].running_mean.numpy())
assert not np.array_equal(got[0], got[1])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    assert DDP(bn_net(), broadcast_buffers=False).forward_sync_buffers is False
assert any(issubclass(w.category, FutureWarning) and "forward_sync_buffers" in str(w.message) for w in caught)
model = nn.Linear(3, 2)
with ember.no_grad():
    model.weight.fill_(float(r))
DDP(model, init_sync=False)
assert float(model.weight.sum()) == 6.0 * r

# no_sync: gradients accumulate locally; the next synchronised backward averages the sums
ember.manual_seed(0)
ref = mlp()
ember.manual_seed(0)
model = mlp()
ddp = DDP(model, bucket_cap_mb=0.001)
x1, y1 = batch(1, (6,), 4, 8)
x2, y2 = batch(2, (6,), 4, 8)
with ddp.no_sync():
    F.cross_entropy(ddp(local(x1)), local(y1)).backward()
g_local = model[0].weight.grad.numpy().copy()
F.cross_entropy(ddp(local(x2)), local(y2)).backward()
(F.cross_entropy(ref(x1), y1) + F.cross_entropy(ref(x2), y2)).backward()
got = [None] * n
dist.all_gather_object(got, g_local)
assert not np.array_equal(got[0], got[1])          # really not synchronised inside no_sync
for p, q in zip(model.parameters(), ref.parameters()):
    close(p.grad.numpy(), q.grad.numpy(), "no_sync grad")

# find_unused_parameters: rank 0 uses branch b, rank 1 does not; c is used by no rank
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(4, 3), nn.Linear(3, 3), nn.Linear(3, 3)

    def forward(self, x, use_b):
        h = self.a(x)
        return self.b(h) if use_b else h

ember.manual_seed(0)
ref = Branchy()
ember.manual_seed(0)
model = Branchy()
ddp = DDP(model, find_unused_parameters=True)
x, _ = batch(3, (4,), 2, 8)
for it in range(2):                  # twice: a second iteration starts cleanly
    model.zero_grad()
    ddp(local(x), use_b=(r == 0)).pow(2).mean().backward()
ref.zero_grad()
xs = [x[k * 4:(k + 1) * 4] for k in range(n)]
((ref(xs[0], True).pow(2).mean() + ref(xs[1], False).pow(2).mean()) / 2).backward()
for name in ("a", "b"):
    close(getattr(model, name).weight.grad.numpy(), getattr(ref, name).weight.grad.numpy(), "find_unused " + name)
assert model.c.weight.grad is None            # unused on every rank: left alone, as PyTorch

# without find_unused_parameters an unused parameter makes the next forward raise, naming it
ember.manual_seed(0)
ddp = DDP(Branchy())
ddp(local(x), use_b=True)                            # a forward without backward (evaluation) is fine, as torch
ddp(local(x), use_b=True).sum().backward()
try:
    ddp(local(x), use_b=True)
    raise AssertionError("no error")
except RuntimeError as e:
    assert "find_unused_parameters=True" in str(e) and "c.weight" in str(e), e

# a model that differs between ranks is refused at construction, on every rank
try:
    DDP(nn.Linear(4, 3 if r == 0 else 5))
    raise AssertionError("no error")
except RuntimeError as e:
    assert "same model on every rank" in str(e) and "shape" in str(e), e
try:
    DDP(nn.Linear(4, 3), device_ids=[0])
    raise AssertionError("no error")
except ValueError as e:
    assert "device_ids" in str(e)
print(f"rank {r} ok")
'''


@needs_mpi
def test_ddp_equals_single_process_training(tmp_path):
    p = run_mpi(tmp_path, DDP, timeout=120)
    assert "rank 0 ok" in p.stdout and "rank 1 ok" in p.stdout


def test_ddp_without_process_group_raises_as_torch():
    import pytest
    import ember.nn as nn
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))
