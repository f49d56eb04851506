"""Optimizer updates on several cores (``ember.ops._parallel``): a step's parameters, whose elements add up
to enough work, are dealt to threads by cutting their concatenated flat index range into even pieces.  A
parameter inside one piece is updated whole by that thread; one that straddles a cut is updated in chunks of
its flat views (parameter, gradient and every same-shape state tensor), each chunk by the same sequence of
NumPy calls as the whole array, so the numbers are the same bits.  An optimizer opts in by setting its class's
``_split_update`` to its ``_update``, which must be elementwise, and says per parameter whether chunks are
fine (``_chunkable``).

The same chunks serve one thread too (``update_all``): a large parameter is updated a block of ``BLOCK_BYTES``
per array at a time, so the update's passes over the parameter, its gradient, its state and its scratch
arrays run on memory still in the core's L2 cache instead of streaming each whole array through it once per
pass."""
from __future__ import annotations

from ..backend import xp as np
from ..ops import _parallel as _par
from ..tensor import Tensor

# Elements per thread below which a split does not pay, for an update of about Adam's work per element (~10
# passes); an optimizer whose update is lighter scales it with its ``_split_cost`` (SGD: 2, twice as many
# elements).  Measured at 2 threads on one parameter: Adam over 256K elements split ran 0.56-0.92x the
# one-thread time, over 128K 0.8-1.2x; SGD with momentum over 256K 0.73-1.2x, over 512K 0.6x.
MIN_SPLIT = 1 << 17
SPLIT_FROM = 2 * MIN_SPLIT

# Bytes of each array an update works on at a time (``update_all``): Adam's ~6 arrays of a block fit the 2 MiB
# L2 of a core.  Measured, one thread, the MLP 784-512-256-10's parameters (535K float32) updated whole / in
# blocks of 16K, 32K, 64K, 128K elements: Adam 1469 / 1185, 1079, 1056, 1146 us; SGD with momentum 439 / 384,
# 335, 313, 333 us.  The numbers are the same bits (the update is elementwise).
BLOCK_BYTES = 1 << 18

_ndarray = np.ndarray


def _chunk_views(p, g, state):
    """Flat views of ``p``, ``g`` and the state tensors of ``p``'s shape, or None where one is not a
    C-contiguous NumPy array of that shape."""
    shape = p.shape
    if type(p) is not _ndarray or not p.flags.c_contiguous or type(g) is not _ndarray or g.shape != shape \
            or not g.flags.c_contiguous:
        return None
    keys = []
    for k, v in state.items():
        if isinstance(v, Tensor):
            d = v._data
            if d.shape == shape and type(d) is _ndarray and d.flags.c_contiguous:
                keys.append(k)
            else:               # a tensor of another shape (a 0-d one too: chunks would share it)
                return None
    return p.reshape(-1), g.reshape(-1), keys


def split_step(opt, work, group) -> bool:
    """Run ``opt._update`` for the ``(p, g, state)`` of ``work`` (raw arrays) split among threads; False where
    that does not apply (the caller then updates them one after the other)."""
    total = 0
    for p, g, state in work:
        if type(p) is not _ndarray or type(g) is not _ndarray:     # device arrays: never here
            return False
        total += p.size
    scale = opt._split_cost
    if total < SPLIT_FROM * scale or len({id(state) for _, _, state in work}) != len(work):
        return False        # (a parameter listed twice is updated twice, one update after the other)
    t = _par.threads_for(total, total, MIN_SPLIT * scale)
    if t <= 1:
        return False
    cuts = [total * i // t for i in range(t + 1)]
    parts = [[] for _ in range(t)]
    chunked = []                # (state, its chunk states)
    start = 0
    k = 0
    for p, g, state in work:
        n = p.size
        end = start + n
        while k < t - 1 and start >= cuts[k + 1]:
            k += 1
        if end <= cuts[k + 1] or not opt._chunkable(state, group) or \
                (views := _chunk_views(p, g, state)) is None:
            parts[k].append((p, g, state))
        else:
            pf, gf, keys = views
            mine = []
            j = k
            while j < t and cuts[j] < end:
                a, z = max(cuts[j], start) - start, min(cuts[j + 1], end) - start
                if z > a:
                    s = slice(a, z)
                    cs = dict(state)
                    for key in keys:
                        cs[key] = Tensor._make(state[key]._data.reshape(-1)[s])
                    parts[j].append((pf[s], gf[s], cs))
                    mine.append(cs)
                j += 1
            chunked.append((state, keys, mine))
        start = end

    def run(items):
        def part():
            # whole arrays: blocks here ran slower at 2 threads (the MLP's SGD step 1.92 -> 2.09 ms, Adam
            # 2.45-2.61 -> 2.62-2.72), their calls' hand-offs of the GIL between the parts
            for p, g, state in items:
                opt._update(p, g, state, group)
        return part
    _par.in_parallel([run(items) for items in parts if items], t)    # (parts run in the caller's context)
    for state, keys, mine in chunked:
        _adopt_scalars(state, keys, mine[0])
    return True


def update_all(opt, work, group) -> None:
    """``opt._update`` for each ``(p, g, state)`` of ``work`` (raw arrays), one after the other, a parameter
    larger than two blocks (``BLOCK_BYTES``) a block at a time where it may be chunked."""
    for p, g, state in work:
        if type(p) is not _ndarray or p.nbytes < 2 * BLOCK_BYTES or not opt._chunkable(state, group) \
                or (views := _chunk_views(p, g, state)) is None:
            opt._update(p, g, state, group)
            continue
        pf, gf, keys = views
        n = pf.size
        step = max(1, BLOCK_BYTES // p.itemsize)
        flat = {key: state[key]._data.reshape(-1) for key in keys}
        for a in range(0, n, step):
            s = slice(a, min(a + step, n))
            cs = dict(state)
            for key in keys:
                cs[key] = Tensor._make(flat[key][s])
            opt._update(pf[s], gf[s], cs, group)
        _adopt_scalars(state, keys, cs)


def _adopt_scalars(state, keys, chunk_state) -> None:
    """The scalars a chunk's update set (a step count): the same in every chunk, so one chunk's are kept."""
    for key, v in chunk_state.items():
        if key not in keys:
            state[key] = v
