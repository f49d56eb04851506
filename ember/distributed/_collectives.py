"""The collectives of ``ember.distributed`` on MPI non-blocking operations.

Every collective starts an MPI request and returns a :class:`Work`; ``async_op=False`` (the default) waits on it
at once.  Results are written into the given tensors in place (bumping their version counters), as PyTorch's
collectives do.  A tensor whose memory is not C-contiguous is sent through a contiguous copy that is written
back when the work completes."""
from __future__ import annotations


from ..backend import xp
from ..tensor import Tensor
from . import ReduceOp, _group, _mpi


class Work:
    """PyTorch's work handle: ``wait()`` blocks until the operation has completed (and its results are in the
    tensors), ``is_completed()`` polls, ``result()`` lists the output tensors."""

    def __init__(self, requests=(), finish=None, outputs=()) -> None:
        self._reqs = [r for r in requests if r is not None]
        self._finish = finish
        self._outputs = list(outputs)
        self._done = False
        self._value = None

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            fin, self._finish = self._finish, None
            self._value = fin()

    def wait(self, timeout=None) -> bool:
        if not self._done:
            if self._reqs:
                _mpi().Request.Waitall(self._reqs)
            self._complete()
        return True

    def is_completed(self) -> bool:
        if not self._done and (not self._reqs or _mpi().Request.Testall(self._reqs)):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def result(self) -> list:
        self.wait()
        return self._outputs

    def __repr__(self) -> str:
        return f"Work(completed={self._done})"


def _done(work: Work, async_op: bool):
    if async_op:
        return work
    work.wait()
    return None


def _check(t, op: str, what: str = "tensor") -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"ember.distributed.{op}: {what} must be an ember Tensor, got {type(t).__name__}")
    return t


def _check_list(ts, n: int, op: str, what: str, like: Tensor | None = None) -> list:
    if not isinstance(ts, (list, tuple)):
        raise TypeError(f"ember.distributed.{op}: {what} must be a list of {n} tensors, got {type(ts).__name__}")
    if len(ts) != n:
        raise ValueError(f"ember.distributed.{op}: {what} must have one tensor per rank ({n}), got {len(ts)}")
    for t in ts:
        _check(t, op, what + " entry")
        if like is not None and (tuple(t.shape) != tuple(like.shape) or t.dtype != like.dtype):
            raise ValueError(f"ember.distributed.{op}: every tensor in {what} must have the shape and dtype of "
                             f"the input ({tuple(like.shape)}, {like.dtype}), got {tuple(t.shape)}, {t.dtype}")
    return list(ts)


def _rank_arg(pg, r, op: str, what: str) -> int:
    """A global rank (PyTorch's convention for src/dst) -> the rank in ``pg``'s communicator."""
    if not isinstance(r, int) or isinstance(r, bool):
        raise TypeError(f"ember.distributed.{op}: {what} must be an int rank, got {type(r).__name__}")
    if r not in pg.ranks:
        raise ValueError(f"ember.distributed.{op}: {what}={r} is not a rank of the group (ranks {pg.ranks[0]}.."
                         f"{pg.ranks[-1]})" if pg.ranks else f"ember.distributed.{op}: empty group")
    return pg.ranks.index(r)


def _mpi_op(op, dtype, name: str):
    MPI = _mpi()
    if not isinstance(op, ReduceOp):
        raise TypeError(f"ember.distributed.{name}: op must be a ReduceOp, got {op!r}")
    if dtype == xp.bool_:
        table = {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR, ReduceOp.MIN: MPI.LAND,
                 ReduceOp.PRODUCT: MPI.LAND, ReduceOp.BAND: MPI.LAND, ReduceOp.BOR: MPI.LOR,
                 ReduceOp.BXOR: MPI.LXOR}
    else:
        table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
                 ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}
    if op not in table:
        raise ValueError(f"ember.distributed.{name}: ReduceOp.{op.name} is not defined for {dtype} tensors")
    kind = xp.dtype(dtype).kind
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind not in "iub":
        raise ValueError(f"ember.distributed.{name}: ReduceOp.{op.name} needs integer or bool tensors, got {dtype}")
    if op is ReduceOp.AVG and kind not in "fc":
        raise ValueError(f"ember.distributed.{name}: ReduceOp.AVG needs floating-point tensors, got {dtype} "
                         f"(use SUM and divide)")
    if op in (ReduceOp.MIN, ReduceOp.MAX) and kind == "c":
        raise ValueError(f"ember.distributed.{name}: ReduceOp.{op.name} is not defined for complex tensors")
    return table[op]


def _writable(t: Tensor):
    """(a contiguous array to receive into, a function writing it back into ``t``)."""
    a = t._data
    if a.flags.c_contiguous and a.flags.writeable:
        def back():
            t._version[0] += 1
        return a, back
    buf = xp.ascontiguousarray(a)

    def back():
        xp.copyto(t._data, buf)
        t._version[0] += 1
    return buf, back


def _send_buf(t: Tensor):
    return xp.ascontiguousarray(t._data)


def _chain(*fns):
    def run():
        for f in fns:
            if f is not None:
                f()
    return run


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` over all ranks with ``op``; every rank gets the result in ``tensor`` (in place)."""
    _check(tensor, "all_reduce")
    pg = _group(group)
    mop = _mpi_op(op, tensor._data.dtype, "all_reduce")
    buf, back = _writable(tensor)
    req = pg.comm.Iallreduce(_mpi().IN_PLACE, buf, mop)
    scale = _avg(buf, op, pg)
    return _done(Work([req], _chain(scale, back), [tensor]), async_op)


def _avg(buf, op, pg):
    if op is not ReduceOp.AVG:
        return None

    def scale():
        buf[...] /= pg.size()
    return scale


def reduce(tensor, dst: int = 0, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` over all ranks into ``tensor`` on rank ``dst`` (other ranks' tensors unchanged)."""
    _check(tensor, "reduce")
    pg = _group(group)
    root = _rank_arg(pg, dst, "reduce", "dst")
    mop = _mpi_op(op, tensor._data.dtype, "reduce")
    MPI = _mpi()
    if pg.rank() == root:
        buf, back = _writable(tensor)
        req = pg.comm.Ireduce(MPI.IN_PLACE, buf, mop, root)
        return _done(Work([req], _chain(_avg(buf, op, pg), back), [tensor]), async_op)
    req = pg.comm.Ireduce(_send_buf(tensor), None, mop, root)
    return _done(Work([req], None, [tensor]), async_op)


def broadcast(tensor, src: int = 0, group=None, async_op: bool = False):
    """Copy ``tensor`` of rank ``src`` into ``tensor`` on every rank."""
    _check(tensor, "broadcast")
    pg = _group(group)
    root = _rank_arg(pg, src, "broadcast", "src")
    buf, back = _writable(tensor)
    req = pg.comm.Ibcast(buf, root)
    return _done(Work([req], back if pg.rank() != root else None, [tensor]), async_op)


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    """``tensor_list[i]`` <- rank i's ``tensor`` on every rank (all the same shape and dtype)."""
    _check(tensor, "all_gather")
    pg = _group(group)
    outs = _check_list(tensor_list, pg.size(), "all_gather", "tensor_list", tensor)
    recv = xp.empty((pg.size(),) + tuple(tensor._data.shape), tensor._data.dtype)
    req = pg.comm.Iallgather(_send_buf(tensor), recv)

    def finish():
        for i, t in enumerate(outs):
            xp.copyto(t._data, recv[i])
            t._version[0] += 1
    return _done(Work([req], finish, outs), async_op)


def _flat_out(output, n: int, inp, op: str):
    if output._data.dtype != inp._data.dtype:
        raise TypeError(f"ember.distributed.{op}: output dtype {output.dtype} differs from input dtype {inp.dtype}")
    if output.numel() != n * inp.numel():
        raise ValueError(f"ember.distributed.{op}: output of shape {tuple(output.shape)} must hold world_size ({n})"
                         f" x input of shape {tuple(inp.shape)} elements")


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op: bool = False):
    """Rank i's ``input_tensor`` into the i-th slice (along dim 0) of ``output_tensor`` on every rank."""
    _check(output_tensor, "all_gather_into_tensor", "output_tensor")
    _check(input_tensor, "all_gather_into_tensor", "input_tensor")
    pg = _group(group)
    _flat_out(output_tensor, pg.size(), input_tensor, "all_gather_into_tensor")
    buf, back = _writable(output_tensor)
    req = pg.comm.Iallgather(_send_buf(input_tensor), buf.reshape(pg.size(), -1))
    return _done(Work([req], back, [output_tensor]), async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """``output`` on rank i <- the reduction over ranks of their ``input_list[i]``."""
    _check(output, "reduce_scatter", "output")
    pg = _group(group)
    ins = _check_list(input_list, pg.size(), "reduce_scatter", "input_list", output)
    mop = _mpi_op(op, output._data.dtype, "reduce_scatter")
    send = xp.stack([t._data for t in ins]) if ins else xp.empty(0, output._data.dtype)
    buf, back = _writable(output)
    req = pg.comm.Ireduce_scatter_block(xp.ascontiguousarray(send), buf, mop)
    return _done(Work([req], _chain(_avg(buf, op, pg), back), [output]), async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """``output`` on rank i <- the reduction over ranks of the i-th dim-0 slice of their ``input``."""
    _check(output, "reduce_scatter_tensor", "output")
    _check(input, "reduce_scatter_tensor", "input")
    pg = _group(group)
    _flat_out(input, pg.size(), output, "reduce_scatter_tensor")
    mop = _mpi_op(op, output._data.dtype, "reduce_scatter_tensor")
    buf, back = _writable(output)
    req = pg.comm.Ireduce_scatter_block(_send_buf(input), buf, mop)
    return _done(Work([req], _chain(_avg(buf, op, pg), back), [output]), async_op)


def gather(tensor, gather_list=None, dst: int = 0, group=None, async_op: bool = False):
    """Rank ``dst`` gets every rank's ``tensor`` in ``gather_list`` (which only ``dst`` passes)."""
    _check(tensor, "gather")
    pg = _group(group)
    root = _rank_arg(pg, dst, "gather", "dst")
    if pg.rank() != root:
        if gather_list:
            raise ValueError("ember.distributed.gather: gather_list must be given on the destination rank only")
        req = pg.comm.Igather(_send_buf(tensor), None, root)
        return _done(Work([req], None, []), async_op)
    outs = _check_list(gather_list, pg.size(), "gather", "gather_list", tensor)
    recv = xp.empty((pg.size(),) + tuple(tensor._data.shape), tensor._data.dtype)
    req = pg.comm.Igather(_send_buf(tensor), recv, root)

    def finish():
        for i, t in enumerate(outs):
            xp.copyto(t._data, recv[i])
            t._version[0] += 1
    return _done(Work([req], finish, outs), async_op)


def scatter(tensor, scatter_list=None, src: int = 0, group=None, async_op: bool = False):
    """``tensor`` on rank i <- ``scatter_list[i]`` of rank ``src`` (which only ``src`` passes)."""
    _check(tensor, "scatter")
    pg = _group(group)
    root = _rank_arg(pg, src, "scatter", "src")
    buf, back = _writable(tensor)
    if pg.rank() != root:
        if scatter_list:
            raise ValueError("ember.distributed.scatter: scatter_list must be given on the source rank only")
        req = pg.comm.Iscatter(None, buf, root)
    else:
        ins = _check_list(scatter_list, pg.size(), "scatter", "scatter_list", tensor)
        req = pg.comm.Iscatter(xp.ascontiguousarray(xp.stack([t._data for t in ins])), buf, root)
    return _done(Work([req], back, [tensor]), async_op)


def isend(tensor, dst: int, group=None, tag: int = 0) -> Work:
    """Start sending ``tensor`` to rank ``dst``; returns a :class:`Work`."""
    _check(tensor, "isend")
    pg = _group(group)
    peer = _rank_arg(pg, dst, "isend", "dst")
    if peer == pg.rank():
        raise ValueError("ember.distributed.isend: a rank cannot send to itself (dst == rank)")
    data = _send_buf(tensor)
    w = Work([pg.comm.Isend(data, peer, tag)], None, [tensor])
    w._keep = data
    return w


def irecv(tensor, src: int | None = None, group=None, tag: int = 0) -> Work:
    """Start receiving into ``tensor`` from rank ``src`` (any rank when None); returns a :class:`Work`."""
    _check(tensor, "irecv")
    pg = _group(group)
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None else _rank_arg(pg, src, "irecv", "src")
    buf, back = _writable(tensor)
    status = MPI.Status()
    req = pg.comm.Irecv(buf, peer, tag)
    w = Work([], None, [tensor])

    def wait(timeout=None):
        if not w._done:
            req.Wait(status)
            back()
            w._done = True
            w._source = pg.ranks[status.Get_source()]
        return True
    w.wait = wait
    w.is_completed = lambda: w._done or (req.Test(status) and wait())
    return w


def send(tensor, dst: int, group=None, tag: int = 0) -> None:
    """Send ``tensor`` to rank ``dst`` (blocks until it may be reused)."""
    isend(tensor, dst, group, tag).wait()


def recv(tensor, src: int | None = None, group=None, tag: int = 0) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank when None); returns the sender's rank."""
    w = irecv(tensor, src, group, tag)
    w.wait()
    return w._source


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank of the group has reached the barrier."""
    pg = _group(group)
    return _done(Work([pg.comm.Ibarrier()]), async_op)


def all_gather_object(object_list, obj, group=None) -> None:
    """``object_list[i]`` <- rank i's picklable ``obj``."""
    pg = _group(group)
    if not isinstance(object_list, list) or len(object_list) != pg.size():
        raise ValueError(f"ember.distributed.all_gather_object: object_list must be a list of world_size "
                         f"({pg.size()}) entries")
    object_list[:] = pg.comm.allgather(obj)


def broadcast_object_list(object_list, src: int = 0, group=None, device=None) -> None:
    """Every rank's ``object_list`` <- rank ``src``'s (same length)."""
    pg = _group(group)
    root = _rank_arg(pg, src, "broadcast_object_list", "src")
    got = pg.comm.bcast(list(object_list) if pg.rank() == root else None, root)
    if len(got) != len(object_list):
        raise ValueError(f"ember.distributed.broadcast_object_list: rank {src} sent {len(got)} objects, this rank's "
                         f"list has {len(object_list)}")
    object_list[:] = got


def gather_object(obj, object_gather_list=None, dst: int = 0, group=None) -> None:
    pg = _group(group)
    root = _rank_arg(pg, dst, "gather_object", "dst")
    got = pg.comm.gather(obj, root)
    if pg.rank() == root:
        if not isinstance(object_gather_list, list) or len(object_gather_list) != pg.size():
            raise ValueError(f"ember.distributed.gather_object: object_gather_list must be a list of world_size "
                             f"({pg.size()}) entries on the destination rank")
        object_gather_list[:] = got


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src: int = 0,
                        group=None) -> None:
    pg = _group(group)
    root = _rank_arg(pg, src, "scatter_object_list", "src")
    got = pg.comm.scatter(list(scatter_object_input_list) if pg.rank() == root else None, root)
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("ember.distributed.scatter_object_list: scatter_object_output_list must be a non-empty list")
    scatter_object_output_list[0] = got




def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None,
                      async_op: bool = False):
    """Rank j's ``output`` slice i (along dim 0) <- rank i's ``input`` slice j; equal splits when the split sizes
    are None, else the given dim-0 sizes (``input_split_sizes[j]`` rows go to rank j)."""
    _check(output, "all_to_all_single", "output")
    _check(input, "all_to_all_single", "input")
    pg = _group(group)
    n = pg.size()
    if output._data.dtype != input._data.dtype:
        raise TypeError(f"ember.distributed.all_to_all_single: output dtype {output.dtype} differs from input "
                        f"dtype {input.dtype}")

    def counts(sizes, t, what):
        rows = t.shape[0] if t.ndim else 1
        row = t.numel() // rows if rows else 0
        if sizes is None or len(sizes) == 0:
            if rows % n:
                raise ValueError(f"ember.distributed.all_to_all_single: {what} dim 0 ({rows}) must divide by the "
                                 f"world size ({n}) when no split sizes are given")
            sizes = [rows // n] * n
        sizes = [int(s) for s in sizes]
        if len(sizes) != n or sum(sizes) != rows:
            raise ValueError(f"ember.distributed.all_to_all_single: {what}_split_sizes {sizes} must have {n} "
                             f"entries summing to {what} dim 0 ({rows})")
        c = [s * row for s in sizes]
        return c, [sum(c[:k]) for k in range(n)]

    sc, sd = counts(input_split_sizes, input, "input")
    rc, rd = counts(output_split_sizes, output, "output")
    buf, back = _writable(output)
    req = pg.comm.Ialltoallv([_send_buf(input).reshape(-1), (sc, sd)], [buf.reshape(-1), (rc, rd)])
    return _done(Work([req], back, [output]), async_op)


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op: bool = False):
    """``output_tensor_list[i]`` on rank j <- rank i's ``input_tensor_list[j]`` (shapes may differ per pair)."""
    pg = _group(group)
    n = pg.size()
    outs = _check_list(output_tensor_list, n, "all_to_all", "output_tensor_list")
    ins = _check_list(input_tensor_list, n, "all_to_all", "input_tensor_list")
    dt = outs[0]._data.dtype if outs else None
    if any(t._data.dtype != dt for t in outs + ins):
        raise TypeError("ember.distributed.all_to_all: every tensor must have the same dtype")
    send = xp.concatenate([t._data.ravel() for t in ins]) if ins else xp.empty(0, dt)
    sc = [t.numel() for t in ins]
    rc = [t.numel() for t in outs]
    recv = xp.empty(sum(rc), dt)
    req = pg.comm.Ialltoallv([send, (sc, [sum(sc[:k]) for k in range(n)])],
                             [recv, (rc, [sum(rc[:k]) for k in range(n)])])

    def finish():
        off = 0
        for t, c in zip(outs, rc):
            xp.copyto(t._data, recv[off:off + c].reshape(t._data.shape))
            t._version[0] += 1
            off += c
    return _done(Work([req], finish, outs), async_op)
