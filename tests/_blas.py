"""What this machine's BLAS keeps bit for bit, for the tests that compare two ways of computing the same
numbers (a loop split over batch rows among threads, a compiled kernel against the eager op).

ember's split and compiled kernels do each row's arithmetic as the whole-array kernel does, so their results
are the same bits wherever BLAS computes a product's rows the same whatever the product's row count and
orientation.  OpenBLAS's Intel kernels do at the sizes these tests use; its float32 kernels on AMD Zen do not
(a row of a 64-row SGEMM differs in its last bits from the same row of a 32-row one, and C.T from
B.T @ A.T), and there the tests compare to float32 rounding instead."""
import functools

import numpy as np


@functools.lru_cache(maxsize=None)
def exact(dtype="float32") -> bool:
    """Whether a (64, 141) @ (141, 512) product's rows are the bits of its 32-row halves' products, and of the
    transposed product's columns."""
    r = np.random.default_rng(0)
    a = r.standard_normal((64, 141)).astype(dtype)
    b = r.standard_normal((141, 512)).astype(dtype)
    c = a @ b
    return bool(np.array_equal(c[:32], a[:32] @ b) and np.array_equal(c[32:], a[32:] @ b)
                and np.array_equal(c.T, np.ascontiguousarray(b.T) @ np.ascontiguousarray(a.T)))


def assert_same(actual, expected, rtol=1e-4, atol=1e-5):
    """Bit for bit where this BLAS keeps a product's rows exact (``exact``), else equal to float32 rounding
    accumulated over products and steps (``rtol``, ``atol``: the tolerance of the tests against PyTorch)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if exact(str(expected.dtype) if expected.dtype.kind == "f" else "float32"):
        np.testing.assert_array_equal(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)
