"""``ember.backends``: PyTorch's ``torch.backends`` flags.  ember's kernels are NumPy's, so the flags are
recorded (scripts set ``cudnn.benchmark = True`` or ``cuda.matmul.allow_tf32 = True`` freely) but change
nothing, but for ``nnpack.enabled``, which switches ember's Winograd convolutions (NNPACK's kind); the ``is_available()`` questions answer what ember really has: no cuDNN, no MPS, no MKL-DNN, and
OpenMP/MKL only in the sense of the BLAS NumPy was built with (reported as False)."""
from __future__ import annotations

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, nnpack, openmp  # noqa: F401

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "nnpack", "openmp"]
