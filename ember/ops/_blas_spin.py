"""OpenBLAS's idle spin shortened, so that ember's own threads (``_parallel``) get the cores between GEMMs.

After a GEMM on several threads, OpenBLAS's pthreads worker threads busy-wait for ``2**28`` cycles (~0.1 s)
before they sleep, and setting BLAS to one thread does not stop them: a split kernel that starts then shares
its second core with a spinning thread and gains little (``_parallel``'s "Known limit").  OpenBLAS reads how
long they spin, ``OPENBLAS_THREAD_TIMEOUT`` (``2**value`` cycles, 4 to 30), from the environment when it
starts its threads; NumPy has started them by the time ember runs.  ``shorten()`` sets the variable (only where
the user has not: their value is kept), has OpenBLAS read its environment again and stops its idle threads,
which it starts again, with the new timeout, at its next threaded call.

``SPIN_LOG2 = 16`` (~25 us at 2.5 GHz: back-to-back GEMMs still find their threads awake) measured at 2
threads, each framework in its own process (benchmarks/run_all.py's worker), medians of 3 runs:
CNN-with-batch-norm step 41.8 -> 24.8 ms, MLP Adam step 3.51 -> 2.65 ms, transformer LM step 49.9 -> 51.6 ms,
1024x1024 matmul fwd+bwd +3% (values 4-12 cost GEMM-bound rows 3-5%, 20 gives the Adam step back half its
gain).  Only OpenBLAS builds that export ``openblas_read_env`` and ``blas_thread_shutdown_`` (NumPy's wheels)
are changed; anything else is left alone.

Where a wake-up is slow (``_parallel.handoff_scale()`` of ``SLOW_WAKE_SCALE`` or more: an AMD EPYC virtual
machine whose idle vCPU halts, a wake-up 40-80 us), the spin is ``SLOW_WAKE_SPIN_LOG2 = 19`` instead (~0.2
ms): long enough to span a recurrent layer's steps between its GEMMs (``rnn._split_rows`` then runs those on
BLAS's threads; the LSTM step at 2 threads 0.82x, 0.80-0.87, GRU 0.91x), and measured there without a loss on
the rows that start ember's own sections after GEMMs (2 threads, 9 interleaved pairs, spin 19 / 16: CNN with
batch norm 0.99x, Adam MLP 1.00x, SGD MLP 1.00x, transformer 0.91x)."""
from __future__ import annotations

import os

SPIN_LOG2 = 16
SLOW_WAKE_SPIN_LOG2 = 19
SLOW_WAKE_SCALE = 2.0
_done = []
_set: list = []                 # [the spin ember set (log2 cycles)], once it has set one


def shorten(controllers, handoff_scale=1.0) -> bool:
    """Shorten the idle spin of the OpenBLAS libraries among threadpoolctl's BLAS ``controllers``, once per
    process, to ``SPIN_LOG2``, or ``SLOW_WAKE_SPIN_LOG2`` where ``handoff_scale`` (``_parallel``'s measured
    thread hand-off against the reference machine's) is ``SLOW_WAKE_SCALE`` or more; whether it did."""
    if _done or "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return False
    _done.append(True)
    log2 = SLOW_WAKE_SPIN_LOG2 if handoff_scale >= SLOW_WAKE_SCALE else SPIN_LOG2
    changed = False
    for lib in controllers:
        if getattr(lib, "internal_api", None) != "openblas" or getattr(lib, "threading_layer", None) != "pthreads":
            continue
        dll = getattr(lib, "dynlib", None)
        try:
            read_env, shutdown = dll.openblas_read_env, dll.blas_thread_shutdown_
        except AttributeError:       # another OpenBLAS build: left as it is
            continue
        os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(log2)
        read_env()
        shutdown()                   # idle threads stopped; the next threaded call starts them with the timeout
        changed = True
    if changed:
        _set.append(log2)
    return changed


def threads_stay_awake() -> bool:
    """Whether ember set OpenBLAS's idle spin long enough for a recurrent layer's steps
    (``SLOW_WAKE_SPIN_LOG2``): its threads then find the next step's GEMM still spinning, instead of being
    woken for it."""
    return bool(_set) and _set[0] >= SLOW_WAKE_SPIN_LOG2
