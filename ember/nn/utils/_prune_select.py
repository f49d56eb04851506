"""Which ``k`` entries ``torch.topk`` picks on the CPU when values tie, for ``ember.nn.utils.prune``.

PyTorch's CPU ``topk`` pairs every value with its index and runs the C++ standard library's selection on the
pairs, comparing values only: ``std::partial_sort`` (a heap selection) when ``k * 64 <= n``, else
``std::nth_element`` (introselect: median-of-three Hoare partitions, a heap selection when the depth budget
runs out, an insertion sort on the last few).  Which of several equal values end up among the ``k`` depends
on that algorithm's swaps, so pruning (``L1Unstructured``, ``LnStructured``, ``global_unstructured``) would
zero different entries than PyTorch on ties.  ``select_indices`` returns the same set as PyTorch
(libstdc++'s algorithms, as in the Linux wheels): without a tie at the boundary the set is simply the ``k``
smallest (largest) and NumPy finds it; with one, the selection is replayed -- each partition as a few NumPy
passes (the pairs a Hoare partition swaps are the i-th entry not below the pivot from the left with the i-th
not above it from the right), the heap selections in Python over the entries that can enter the heap.
"""
from __future__ import annotations

import numpy as np

__all__ = ["select_indices"]


def select_indices(values: np.ndarray, k: int, largest: bool) -> np.ndarray:
    """Indices (sorted) of the ``k`` entries of the 1-D ``values`` that ``torch.topk(values, k,
    largest=largest)`` returns on the CPU.  NaN counts as the largest value, as in PyTorch."""
    values = np.asarray(values).reshape(-1)
    n = values.size
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= n:
        return np.arange(n, dtype=np.int64)
    if values.dtype.kind == "f" and np.isnan(values).any():
        # integer ranks: equal values and all NaNs (ranked last, as PyTorch orders them) share one rank
        _, keys = np.unique(values, return_inverse=True)
        keys = keys.reshape(-1).astype(np.int64)
    else:
        keys = values.astype(np.float64) if values.dtype.kind in "biu" else values.copy()
    if largest:             # the selection always takes the k smallest keys under ``<``
        keys = -keys
    kth = np.partition(keys, k - 1)[k - 1]
    n_below = int(np.count_nonzero(keys < kth))
    n_equal = int(np.count_nonzero(keys == kth))
    if n_below + n_equal == k:          # no tie straddles the boundary: the set is fixed by the values alone
        return np.flatnonzero(keys <= kth).astype(np.int64)
    idx = np.arange(n, dtype=np.int64)
    if k * 64 <= n:                     # std::partial_sort: a heap selection of the first k
        _heap_select(keys, idx, 0, k, n)
    else:
        _nth_element(keys, idx, k - 1)
    return np.sort(idx[:k])


# -- libstdc++'s algorithms on parallel arrays (keys compared with <, idx carried along) --------------------
def _nth_element(a, idx, nth):
    first, last = 0, a.size
    depth = 2 * (int(last - first).bit_length() - 1)
    while last - first > 3:
        if depth == 0:
            _heap_select(a, idx, first, nth + 1, last)
            _swap(a, idx, first, nth)
            return
        depth -= 1
        cut = _partition_pivot(a, idx, first, last)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, idx, first, last)


def _swap(a, idx, i, j):
    a[i], a[j] = a[j], a[i]
    idx[i], idx[j] = idx[j], idx[i]


def _partition_pivot(a, idx, first, last):
    mid = first + (last - first) // 2
    x, y, z = first + 1, mid, last - 1
    if a[x] < a[y]:
        m = y if a[y] < a[z] else (z if a[x] < a[z] else x)
    elif a[x] < a[z]:
        m = x
    elif a[y] < a[z]:
        m = z
    else:
        m = y
    _swap(a, idx, first, m)
    return _unguarded_partition(a, idx, first + 1, last, a[first])


def _unguarded_partition(a, idx, lo, hi, pivot):
    seg = a[lo:hi]
    left = lo + np.flatnonzero(seg >= pivot)              # where the left scan stops: not (x < pivot)
    right = lo + np.flatnonzero(seg <= pivot)[::-1]       # where the right scan stops: not (pivot < x)
    m = min(left.size, right.size)
    crossed = np.flatnonzero(left[:m] >= right[:m])
    m = int(crossed[0]) if crossed.size else m
    li, ri = left[:m], right[:m]
    a[li], a[ri] = a[ri], a[li].copy()
    idx[li], idx[ri] = idx[ri], idx[li].copy()
    # after the m-th swap the left scan stops at the next original stop or at the last right swap position
    # (it now holds a value not below the pivot), whichever comes first
    cut = int(left[m]) if m < left.size else hi
    if m > 0:
        cut = min(cut, int(right[m - 1]))
    return cut


def _insertion_sort(a, idx, first, last):
    for i in range(first + 1, last):
        v, vi = a[i], idx[i]
        if v < a[first]:
            a[first + 1:i + 1] = a[first:i].copy()
            idx[first + 1:i + 1] = idx[first:i].copy()
            a[first], idx[first] = v, vi
        else:
            j = i
            while v < a[j - 1]:
                a[j], idx[j] = a[j - 1], idx[j - 1]
                j -= 1
            a[j], idx[j] = v, vi


def _heap_select(a, idx, first, middle, last):
    """``std::__heap_select``: a max-heap of [first, middle); each later entry below its top replaces it."""
    h = a[first:middle].tolist()
    hi = idx[first:middle].tolist()
    n = len(h)
    if n >= 2:
        parent = (n - 2) // 2
        while True:
            _adjust_heap(h, hi, parent, n, h[parent], hi[parent])
            if parent == 0:
                break
            parent -= 1
    block = 4096
    for start in range(middle, last, block):
        stop = min(start + block, last)
        cand = start + np.flatnonzero(a[start:stop] < h[0])     # the top only falls: a superset of the hits
        for i in cand.tolist():
            if a[i] < h[0]:
                v, vi = a[i].item(), int(idx[i])
                a[i], idx[i] = h[0], hi[0]
                _adjust_heap(h, hi, 0, n, v, vi)
    a[first:middle] = h
    idx[first:middle] = hi


def _adjust_heap(h, hi, hole, n, v, vi):
    top = hole
    child = hole
    while child < (n - 1) // 2:
        child = 2 * (child + 1)
        if h[child] < h[child - 1]:
            child -= 1
        h[hole], hi[hole] = h[child], hi[child]
        hole = child
    if (n & 1) == 0 and child == (n - 2) // 2:
        child = 2 * (child + 1)
        h[hole], hi[hole] = h[child - 1], hi[child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and h[parent] < v:
        h[hole], hi[hole] = h[parent], hi[parent]
        hole = parent
        parent = (hole - 1) // 2
    h[hole], hi[hole] = v, vi
