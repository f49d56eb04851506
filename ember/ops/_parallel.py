"""Kernels on several cores through Python threads: NumPy releases the GIL inside its loops (and BLAS inside
its calls), so a large array op split into parts that Python threads run at once uses the cores that ember's
single-threaded NumPy would leave idle.  Used by the blocked stride-1 convolution (``_conv_parallel``), training
batch norm (``_batch_norm``), max pooling (``pool``) and softmax cross-entropy (``loss``).

The thread count is BLAS's (what ``OMP_NUM_THREADS`` / ``ember.set_num_threads`` set), read through threadpoolctl
(an optional package: without it nothing here runs and every kernel takes its one-thread path).  During a
parallel section BLAS is set to one thread (the parts' own GEMMs/GEMVs would otherwise each hand off to the
other cores) and restored after.  Every kernel splits its work so that each part's numbers are computed exactly
as the whole array's are (the same rows, the same order of sums): the results do not depend on the split.

OpenBLAS's worker threads busy-wait for about 2**28 cycles (~0.1 s) after a GEMM on 2+ BLAS threads, and setting
BLAS to one thread does not stop them: a section that starts then shares the second core with a spinning thread
and gains nothing (max pooling 64x32x28x28 right after a 400x400 GEMM: 3.4 ms on one thread, 3.5 ms split; 1.9
ms split without the GEMM).  ``_controllers()`` therefore shortens that spin once per process
(``_blas_spin.shorten``: CNN-with-batch-norm step 41.8 -> 24.8 ms at 2 threads)."""
from __future__ import annotations

import contextvars
import functools
import os
import threading

from ..backend import xp as np

_blas = []                      # threadpoolctl's BLAS controllers, looked up once (empty list: unavailable)
_WORKERS: list = []            # the section threads (``_Worker``), made on first use
_LOCK = threading.Lock()        # one parallel section at a time
_LOCAL = threading.local()      # .inside: this thread is running a part (a part never starts a section)


def _controllers():
    """threadpoolctl's BLAS controllers (an empty list without threadpoolctl or with an unknown BLAS)."""
    if not _blas:
        try:
            from threadpoolctl import ThreadpoolController
            _blas.append(ThreadpoolController().select(user_api="blas").lib_controllers)
        except Exception:       # not installed, or an unknown BLAS
            _blas.append([])
        _getters[:] = [_thread_call(lib, "get") for lib in _blas[0]]
        _setters[:] = [_thread_call(lib, "set") for lib in _blas[0]]
        from ._blas_spin import shorten
        # OpenBLAS's idle threads stop spinning sooner (the "known limit" above); how soon depends on how long a
        # wake-up takes here (measured only where BLAS has several threads: a section thread's round trip)
        if _blas[0] and any(get() > 1 for get in _getters):
            shorten(_blas[0], handoff_scale())
        else:
            shorten(_blas[0])
    return _blas[0]


_getters: list = []             # per BLAS library, a zero-argument function giving its thread count
_setters: list = []             # per BLAS library, a function setting its thread count


def _thread_call(lib, verb):
    """``lib.get_num_threads`` / ``lib.set_num_threads`` (``verb`` "get" / "set"), or for an OpenBLAS on its
    own threads (not OpenMP's) the function that threadpoolctl calls there, ``openblas_<verb>_num_threads``,
    called directly through ctypes: getting 0.26 against 2.1 us (threadpoolctl looks the symbol up on every
    call), which every thread-count check pays; a one-BLAS-thread stretch sets it twice (4.4 -> 3.7 us)."""
    try:
        if lib.internal_api == "openblas" and lib.threading_layer == "pthreads":
            prefix, suffix = lib._find_affixes()
            return getattr(lib.dynlib, f"{prefix}openblas_{verb}_num_threads{suffix}")
    except Exception:           # another threadpoolctl version or OpenBLAS build: its public method
        pass
    return getattr(lib, f"{verb}_num_threads")


def blas_threads():
    """BLAS's thread count, or 0 when unknown (threadpoolctl not installed, or an unknown BLAS)."""
    libs = _controllers()
    if not libs:
        return 0
    return _getters[0]() if len(_getters) == 1 else min(g() for g in _getters)


def on_one_blas_thread(fn, *args):
    """``fn(*args)`` with BLAS at one thread, restored after (also on an error): for a loop of GEMMs too small
    to gain from BLAS's threads, where waking the other core's thread for each one costs about what it saves
    (40-80 us a wake-up on a virtual machine).  Called directly where BLAS has one thread already, inside a
    section (whose parts run at one), or without threadpoolctl.  (Observed with OpenBLAS 0.3.31: once the main
    thread has set its thread count, a count set from another Python thread is ignored, so a stretch started
    on another thread runs at BLAS's count; the main thread's stretches and sections are unaffected.)"""
    libs = _controllers()
    if not libs or getattr(_LOCAL, "inside", False) or blas_threads() <= 1:
        return fn(*args)
    _one_enter()
    try:
        return fn(*args)
    finally:
        _one_leave()


_ONE_LOCK = threading.Lock()    # guards _ONE
_ONE = [0, None]                # [Python threads inside a one-BLAS-thread stretch, BLAS's thread counts before]


def _one_enter():
    """BLAS to one thread for a stretch of work; stretches of several Python threads may overlap, so the
    first to enter saves the thread counts and the last to leave restores them (two threads each saving and
    restoring their own reading could leave BLAS at one thread for good: the second reads the first's 1)."""
    with _ONE_LOCK:
        if _ONE[0] == 0:
            _ONE[1] = [get() for get in _getters]
            for set_ in _setters:
                set_(1)
        _ONE[0] += 1


def _one_leave():
    with _ONE_LOCK:
        _ONE[0] -= 1
        if _ONE[0] == 0:
            for set_, t in zip(_setters, _ONE[1]):
                set_(t)


# A section thread's round trip (``_Worker.start`` then ``wait``, a no-op call) on the Intel machine where the
# split thresholds were measured: ~8 us.  ``handoff_scale`` compares this machine's with it.
REFERENCE_HANDOFF = 10e-6
_HANDOFF: list = []             # [this machine's round trip / REFERENCE_HANDOFF, at least 1], measured once


def handoff_scale():
    """How many times the reference machine's hand-off a round trip to a section thread takes here (at least
    1; measured once per process, the median of 9 round trips: ~0.1 ms on the Intel machine, ~1 ms on an AMD
    EPYC virtual machine whose thread wake-ups take 40-80 us, scale 2-11 there).  Every split threshold
    (``threads_for``) grows by it, up to ``HANDOFF_SCALE_MAX`` (``_parallel_elementwise.CHEAP_SCALE_MAX`` for
    the kernels whose whole-array time is short for their size); 1 inside a section (the parts do not split
    again, and the section holds the lock)."""
    if _HANDOFF:
        return _HANDOFF[0]
    if getattr(_LOCAL, "inside", False):
        return 1.0
    import time
    with _LOCK:
        wk = _workers(1)[0]
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            wk.start(_noop)
            wk.wait()
            times.append(time.perf_counter() - t0)
    times = sorted(times[1:])       # (the first wakes a thread that may never have run)
    _HANDOFF.append(max(1.0, times[len(times) // 2] / REFERENCE_HANDOFF))
    return _HANDOFF[0]


def _noop():
    return None


# Where a hand-off costs more than on the reference machine, every split threshold grows with it, up to this
# factor (the cheap binary ufuncs: ``_parallel_elementwise.CHEAP_SCALE_MAX``): that machine's elements cost
# more too, so the break-even moves less than the hand-off.  Measured on the AMD EPYC virtual machine (scale
# 4.6, 2 threads, float32, split / whole, forward + backward, median of 40 alternating): max pooling 2x2 on
# 64x6x28x28 (LeNet-5's first) 1.19, 64x16x28x28 0.80, 64x32x26x26 0.68; ReLU 301K elements 1.45, 803K 1.15,
# 1.38M 1.09, 2.36M 0.96 (so ReLU's ``maximum`` counts as cheap).
HANDOFF_SCALE_MAX = 2.0


def threads_for(n, work, min_work, min_items=1, scale_max=HANDOFF_SCALE_MAX):
    """How many threads a kernel of ``work`` elements over ``n`` independent items (images, rows, channels)
    should use: 1 unless BLAS has several threads, ``work`` is at least ``min_work`` per thread (below that
    the hand-off to another thread, tens of microseconds, costs more than it saves; ``min_work`` as measured
    on the reference machine, times ``handoff_scale()`` up to ``scale_max`` here) and each thread gets at
    least ``min_items`` items; never more threads than BLAS has."""
    if n < 2 * min_items or work < 2 * min_work:      # (first: asking BLAS costs ~2 us, a small op less)
        return 1
    t = blas_threads()
    if t <= 1:
        return 1
    scale = handoff_scale()
    if scale > 1.0:
        min_work = int(min_work * min(scale, scale_max))
    return max(1, min(t, n // min_items, work // min_work))


def slices(n, threads):
    """``threads`` contiguous slices of ``n`` items, as even as possible (fewer when ``n < threads``)."""
    k = min(threads, n)
    bounds = [n * i // k for i in range(k + 1)]
    return [slice(a, z) for a, z in zip(bounds, bounds[1:])]


class _Worker:
    """A thread that runs one call at a time, handed over through two bare locks: ``go`` (released by the
    caller when a call is set) and ``done`` (released by the worker when it has finished).  A hand-off costs
    about 8 us there and back, against 16-20 us through a ``concurrent.futures`` pool (its queue, futures
    and condition variables); a section pays it once per part."""

    def __init__(self, index):
        self.go = threading.Lock()
        self.done = threading.Lock()
        self.go.acquire()
        self.done.acquire()
        self.call = None
        self.result = self.error = None
        threading.Thread(target=self._loop, name=f"ember-par-{index}", daemon=True).start()

    def _loop(self):
        _LOCAL.inside = True            # a part never starts a section of its own
        while True:
            self.go.acquire()
            try:
                self.result, self.error = self.call(), None
            except BaseException as e:  # handed back to the caller, raised there
                self.result, self.error = None, e
            self.call = None
            self.done.release()

    def start(self, call):
        self.call = call
        self.go.release()

    def wait(self):
        self.done.acquire()
        result, error = self.result, self.error
        self.result = self.error = None
        return result, error


def _after_fork_in_child():
    """A forked child (a DataLoader worker) has none of the section threads, and the lock may have been held
    by a thread that does not exist there: start afresh (else the child's first split would wait forever)."""
    global _LOCK, _ONE_LOCK
    _WORKERS.clear()
    _LOCK = threading.Lock()
    _ONE_LOCK = threading.Lock()
    _ONE[0] = 0                 # (BLAS stays as it was at the fork: one thread if a stretch was running)
    _LOCAL.inside = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def in_parallel(calls, threads):
    """Run the zero-argument ``calls`` at once (the first on the calling thread, the others on section
    threads, each in a copy of the caller's context, so that ``np.errstate`` holds in every part) with BLAS at
    one thread meanwhile; their results in order.  One parallel section at a time (a lock): BLAS's thread
    count is process-wide.  Called from a part of another section, the calls run one after the other."""
    if len(calls) == 1 or getattr(_LOCAL, "inside", False):
        return [c() for c in calls]
    _controllers()              # (BLAS's setters and getters, looked up once)
    with _LOCK:
        workers = _workers(len(calls) - 1)
        _one_enter()
        _LOCAL.inside = True
        try:
            # each in a copy of the caller's context: NumPy's errstate is a context variable
            for wk, c in zip(workers, calls[1:]):
                wk.start(functools.partial(contextvars.copy_context().run, c))
            try:
                first = calls[0]()
            finally:
                rest = [wk.wait() for wk in workers]           # wait for every part, even after an error
                _LOCAL.inside = False
            for _, e in rest:
                if e is not None:
                    raise e
            return [first] + [r for r, _ in rest]
        finally:
            _one_leave()


def _workers(n):
    """The first ``n`` section threads, made on first use (called with ``_LOCK`` held)."""
    while len(_WORKERS) < n:
        _WORKERS.append(_Worker(len(_WORKERS)))
    return _WORKERS[:n]


def run_split(part, n, threads):
    """``part(s)`` for ``threads`` contiguous slices ``s`` of ``range(n)``, at once (one thread: one call over
    everything); their results in order."""
    if threads <= 1:
        return [part(slice(0, n))]
    return in_parallel([lambda s=s: part(s) for s in slices(n, threads)], threads)


def is_host(a) -> bool:
    """Whether ``a`` is a NumPy array (device arrays are never split here)."""
    return isinstance(a, np.ndarray)
