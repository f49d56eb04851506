"""The "cuda" device for the device tests: the real one (CuPy with a GPU) when present, else the NumPy-backed
stand-in ``fake_cupy`` (so every machine runs the device path).  ``EMBER_TEST_REAL_CUDA=1`` refuses the
stand-in: the device tests then skip without a GPU (the GPU check script sets it)."""
import os

import pytest

from ember.backend import device as _dev
from ember.ops import _ckernels

from . import fake_cupy


def _real_cuda():
    _dev.register_cuda_module(None)
    return _dev.cuda_module(required=False)


@pytest.fixture(scope="session")
def cuda_module():
    real = _real_cuda()
    if real is not None:
        return real
    if os.environ.get("EMBER_TEST_REAL_CUDA") == "1":
        pytest.skip(f"no CUDA device: {_dev.cuda_module.reason}")
    return fake_cupy.module


@pytest.fixture()
def cuda(cuda_module):
    """Install the CUDA module for one test, and remove a stand-in afterwards (other tests see a CPU-only
    ember, as on this machine).  With the stand-in, the CPU side runs NumPy's formulas too, not ember's
    compiled kernels (which agree with them to a few ulp): the stand-in's results are then the CPU's bits."""
    _dev.register_cuda_module(cuda_module)
    if cuda_module is fake_cupy.module:
        with _ckernels.disabled():
            yield cuda_module
    else:
        yield cuda_module
    if cuda_module is fake_cupy.module:
        _dev.register_cuda_module(None)
        _dev._tried = False


@pytest.fixture()
def exact(cuda_module):
    """Device results must equal CPU results bit for bit on the stand-in (its arithmetic is NumPy's)."""
    return cuda_module is fake_cupy.module
