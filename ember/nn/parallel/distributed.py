"""``nn.parallel.DistributedDataParallel`` on ``ember.distributed`` (MPI).

As PyTorch's: at construction the model structure is checked to be the same on every rank and rank 0's
parameters and buffers are broadcast; parameters (those that require grad) are packed, in reverse order of
``module.parameters()``, into buckets of ``bucket_cap_mb`` (by default 1 MiB for the first, 25 MiB for the
others; PyTorch re-buckets in gradient-arrival order after the first iteration, ember keeps this order); during
backward each parameter's post-accumulate-grad hook copies its ``.grad`` into its bucket, and a full bucket is
all-reduced with a non-blocking MPI collective while backward goes on (buckets start in order, as every rank must
issue the same collectives in the same order); when the last bucket has started, the hook waits for all of them and
writes the averaged gradients back into ``.grad``.  ``no_sync()`` skips the reduction (gradients accumulate
locally; the next synchronised backward averages the accumulated sums).  ``find_unused_parameters=True`` walks the
autograd graph from the forward's outputs and marks parameters that took no part as ready at once (parameters no
rank used keep their ``.grad``); without it, a parameter that gets no gradient makes the next forward raise, as in
PyTorch.  With ``forward_sync_buffers=True`` (default; the older ``broadcast_buffers``) rank 0's buffers are
broadcast before a forward that follows a synchronised forward (or the first), as PyTorch does;
:class:`ember.nn.SyncBatchNorm` computes batch statistics over all ranks instead."""
from __future__ import annotations

import time
from contextlib import contextmanager

from ...backend import xp
from ...tensor import Tensor
from ..module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024


class _Bucket:
    __slots__ = ("index", "params", "offsets", "buf", "ready", "req", "dtype", "segs")

    def __init__(self, index, params, dtype) -> None:
        self.index, self.params, self.dtype = index, params, dtype
        self.offsets, n = [], 0
        for p in params:
            self.offsets.append(n)
            n += p._data.size
        self.buf = xp.zeros(n, dtype)
        self.segs = [self.buf[o:o + p._data.size] for o, p in zip(self.offsets, params)]   # each param's slice
        self.ready, self.req = 0, None


def _flatten_tensors(obj, out):
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _flatten_tensors(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _flatten_tensors(o, out)
    return out


def _graph_leaves(outputs) -> set:
    """ids of the leaf tensors the outputs' autograd graph reaches."""
    from ...autograd.function import AccumulateGrad
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    leaves = {id(t) for t in outputs if t.grad_fn is None and t._rg}
    seen = set(map(id, stack))
    while stack:
        node = stack.pop()
        if isinstance(node, AccumulateGrad):
            v = node.variable
            if v is not None:
                leaves.add(id(v))
            continue
        for e in node.next_edges:
            if e is not None and id(e[0]) not in seen:
                seen.add(id(e[0]))
                stack.append(e[0])
    return leaves


class DistributedDataParallel(Module):
    """Data-parallel training over the ranks of ``process_group`` (the default group when None); see the module
    docstring.  ``device_ids`` and ``output_device`` must be None (ember runs on the CPU, as PyTorch's CPU
    modules require); ``gradient_as_bucket_view=True`` makes each ``.grad`` a view of its bucket after the
    reduction, as PyTorch's does (no copy back, and with ``zero_grad(set_to_none=False)`` no copy in either);
    ``static_graph``, ``skip_all_reduce_unused_params`` and ``batched_grad_copy`` are accepted and have no effect; ``init_sync=False`` skips the start-up check and
    broadcast; the mixed-precision, delayed-all-reduce, device-mesh and per-bucket-cap arguments raise."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool | None = None, init_sync: bool = True, process_group=None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None, mixed_precision=None,
                 device_mesh=None, skip_all_reduce_unused_params: bool = False, bucket_cap_mb_list=None,
                 batched_grad_copy: bool = False, forward_sync_buffers: bool | None = None) -> None:
        super().__init__()
        import warnings
        from ... import distributed as dist
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}")
        if device_ids or output_device is not None:
            raise ValueError(f"DistributedDataParallel device_ids and output_device arguments only work with "
                             f"single-device/multiple-device GPU modules; ember's modules are on the CPU, so "
                             f"pass device_ids=None (got device_ids={device_ids!r}, output_device={output_device!r})")
        for name, value in (("delay_all_reduce_named_params", delay_all_reduce_named_params),
                            ("param_to_hook_all_reduce", param_to_hook_all_reduce),
                            ("mixed_precision", mixed_precision), ("device_mesh", device_mesh),
                            ("bucket_cap_mb_list", bucket_cap_mb_list)):
            if value is not None:
                raise NotImplementedError(f"DistributedDataParallel: {name} is not supported by ember")
        if broadcast_buffers is not None:      # PyTorch 2.13 deprecates it in favour of forward_sync_buffers
            warnings.warn("`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead."
                          + (" Its value is ignored when `forward_sync_buffers` is provided."
                             if forward_sync_buffers is not None else ""), FutureWarning, stacklevel=2)
        if forward_sync_buffers is not None:
            self.forward_sync_buffers, init_sync_buffers = bool(forward_sync_buffers), True
        else:
            init_sync_buffers = True if broadcast_buffers is None else bool(broadcast_buffers)
            self.forward_sync_buffers = init_sync_buffers
        if bucket_cap_mb is not None and bucket_cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        pg = dist._group(process_group)
        self.process_group = pg
        self.dim = dim
        self.skip_all_reduce_unused_params, self.batched_grad_copy = skip_all_reduce_unused_params, batched_grad_copy
        self.find_unused_parameters, self.static_graph = find_unused_parameters, static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._default_cap = bucket_cap_mb is None
        self._comm = pg.comm.Dup()
        self._world = self._comm.Get_size()
        named = [(n, p) for n, p in module.named_parameters()]
        self._names = {id(p): n for n, p in named}
        self._params = [p for _, p in named if p.requires_grad]
        self._sync_bufs = [b for _, b in module.named_buffers() if b is not None]
        if init_sync:
            self._check_structure(named)
            self._sync(self._params_all(named) + (self._sync_bufs if init_sync_buffers else []))
        self._build_buckets()
        self._handles = [p.register_post_accumulate_grad_hook(self._on_grad) for p in self._params]
        self._armed = False          # a synchronised forward ran; its backward reduces
        self._pending = False        # a reduction was expected and has not finished
        self._used = None
        self._unused = []
        self.bytes_last_step = 0     # bytes this rank all-reduced in the last gradient reduction (benchmarks read it)
        self.wait_s_last_step = 0.0  # seconds the last backward waited for all-reduces after its last gradient

    @property
    def broadcast_buffers(self) -> bool:
        """PyTorch's older name of ``forward_sync_buffers``."""
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value: bool) -> None:
        self.forward_sync_buffers = bool(value)

    # ---- start-up -------------------------------------------------------------------------------------
    @staticmethod
    def _params_all(named):
        return [p for _, p in named]

    def _check_structure(self, named) -> None:
        mine = [(n, tuple(p.shape), str(p.dtype), bool(p.requires_grad)) for n, p in named]
        mine += [(n, tuple(b.shape), str(b.dtype), None) for n, b in self.module.named_buffers() if b is not None]
        every = self._comm.allgather(mine)
        ref = every[0]
        for r, sig in enumerate(every):
            if sig == ref:
                continue
            if len(sig) != len(ref):
                msg = f"rank 0 has {len(ref)} parameters and buffers, rank {r} has {len(sig)}"
            else:
                k = next(i for i, (a, b) in enumerate(zip(ref, sig)) if a != b)
                what = ("name", "shape", "dtype", "requires_grad")
                j = next(i for i in range(4) if ref[k][i] != sig[k][i])
                msg = (f"entry {k} ({ref[k][0]!r} on rank 0) has {what[j]} {ref[k][j]!r} on rank 0 but "
                       f"{sig[k][j]!r} on rank {r}")
            raise RuntimeError(f"DistributedDataParallel expects the same model on every rank, but {msg}")

    def _sync(self, tensors) -> None:
        """Broadcast ``tensors`` from rank 0, coalesced per dtype."""
        if self._world == 1 or not tensors:
            return
        by_dtype: dict = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for dt, ts in by_dtype.items():
            flat = xp.concatenate([t._data.ravel() for t in ts]) if ts else xp.empty(0, dt)
            self._comm.Bcast(flat, 0)
            off = 0
            for t in ts:
                n = t._data.size
                t._data[...] = flat[off:off + n].reshape(t._data.shape)
                t._version[0] += 1
                off += n

    def _build_buckets(self) -> None:
        self._buckets, self._where = [], {}
        cur, size, dtype = [], 0, None
        cap = _FIRST_BUCKET_BYTES if self._default_cap else self.bucket_bytes_cap
        for p in reversed(self._params):
            nb = p._data.nbytes
            if cur and (p._data.dtype != dtype or size + nb > cap):
                self._buckets.append(_Bucket(len(self._buckets), cur, dtype))
                cur, size, cap = [], 0, self.bucket_bytes_cap
            cur.append(p)
            size += nb
            dtype = p._data.dtype
        if cur:
            self._buckets.append(_Bucket(len(self._buckets), cur, dtype))
        for b in self._buckets:
            for k, p in enumerate(b.params):
                self._where[id(p)] = (b, k)
        self._pindex = {id(p): i for i, p in enumerate(self._params)}

    # ---- forward ----------------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        from ...autograd.grad_mode import is_grad_enabled
        if self._pending:
            missing = [self._names[id(p)] for b in self._buckets for k, p in enumerate(b.params)
                       if not self._ready[id(p)]]
            self._reset()
            raise RuntimeError(
                f"DistributedDataParallel: expected to have finished reduction in the prior iteration before "
                f"starting a new one: parameters {missing} received no gradient, so their bucket was never "
                f"all-reduced (the module has parameters that were not used in producing the loss). Pass "
                f"find_unused_parameters=True to DistributedDataParallel, or make every forward output take part "
                f"in the loss")
        # PyTorch's rule: buffers are broadcast when the previous forward was a synchronised one (or none ran)
        if self.require_forward_param_sync and self.forward_sync_buffers and self._world > 1 and self._sync_bufs:
            self._sync(self._sync_bufs)
        out = self.module(*inputs, **kwargs)
        sync = is_grad_enabled() and self.require_backward_grad_sync
        self.require_forward_param_sync = sync
        if sync and self._world > 1 and self._params:
            self._arm()
            if self.find_unused_parameters:
                reached = _graph_leaves(_flatten_tensors(out, []))
                self._unused = [p for p in self._params if id(p) not in reached]
        return out

    def _arm(self) -> None:
        # _pending becomes True at the first gradient: a forward without backward leaves nothing to finish
        self._armed, self._pending, self._unused = True, False, []
        self._ready = {id(p): False for p in self._params}
        self._used = xp.zeros(len(self._params), xp.int32)
        self._next_bucket = 0
        for b in self._buckets:
            b.ready, b.req = 0, None
        self.bytes_last_step = 0

    def _reset(self) -> None:
        self._armed = self._pending = False
        for b in self._buckets:
            b.ready, b.req = 0, None

    # ---- backward hooks ---------------------------------------------------------------------------------
    def _on_grad(self, p) -> None:
        if not self._armed:
            return
        if not self._pending:               # the iteration's first gradient (PyTorch marks unused ones here too)
            self._pending = True
            unused, self._unused = self._unused, []
            for q in unused:
                self._mark(q, None)
            if not self._armed:             # every bucket was complete already
                return
        self._mark(p, p.grad)

    def _mark(self, p, grad) -> None:
        if self._ready[id(p)]:
            raise RuntimeError(f"DistributedDataParallel: parameter {self._names[id(p)]!r} was marked ready twice "
                               f"in one iteration (it got a gradient after find_unused_parameters found it unused,"
                               f" or backward ran twice through one forward's output)")
        self._ready[id(p)] = True
        b, k = self._where[id(p)]
        seg = b.segs[k]
        if grad is None:
            seg[...] = 0
        else:
            g = grad._data
            # the copy into the bucket divides by the world size on the way (one pass); a .grad that is still
            # the bucket's view (gradient_as_bucket_view) is divided where it is
            if self.gradient_as_bucket_view and g.base is b.buf and g.ctypes.data == seg.ctypes.data:
                seg /= self._world
            else:
                xp.divide(g.reshape(-1), self._world, out=seg)
            self._used[self._pindex[id(p)]] = 1
        b.ready += 1
        self._launch_ready()
        if self._next_bucket == len(self._buckets):
            self._finish()

    def _launch_ready(self) -> None:
        from mpi4py import MPI
        while self._next_bucket < len(self._buckets):
            b = self._buckets[self._next_bucket]
            if b.ready < len(b.params):
                break
            b.req = self._comm.Iallreduce(MPI.IN_PLACE, b.buf, MPI.SUM)
            self.bytes_last_step += b.buf.nbytes
            self._next_bucket += 1
        started = [b.req for b in self._buckets[:self._next_bucket] if b.req is not None]
        if started:
            MPI.Request.Testall(started)     # drives MPI's progress engine while backward goes on

    def _finish(self) -> None:
        from mpi4py import MPI
        t0 = time.perf_counter()
        MPI.Request.Waitall([b.req for b in self._buckets])
        self.wait_s_last_step = time.perf_counter() - t0
        used = None
        if self.find_unused_parameters:
            used = self._used.copy()
            self._comm.Allreduce(MPI.IN_PLACE, used, MPI.MAX)
        for b in self._buckets:
            for k, p in enumerate(b.params):
                if used is not None and not used[self._pindex[id(p)]]:
                    continue            # no rank used it: .grad stays as it was
                val = b.segs[k].reshape(p._data.shape)
                if self.gradient_as_bucket_view:    # .grad becomes a view of the bucket: no copy back
                    if p.grad is None or p.grad._data.base is not b.buf:
                        p.grad = Tensor._make(val)
                    else:
                        p.grad._version[0] += 1
                elif p.grad is None:
                    p.grad = Tensor._make(val.copy())
                else:
                    p.grad._data[...] = val
                    p.grad._version[0] += 1
        self._armed = self._pending = False
        for b in self._buckets:
            b.req = None

    # ---- PyTorch's helpers ------------------------------------------------------------------------------
    @contextmanager
    def no_sync(self):
        """Inside, forward/backward accumulate gradients locally without communicating."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def extra_repr(self) -> str:
        return f"world_size={self._world}, buckets={len(self._buckets)}"
