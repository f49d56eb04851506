"""Shared pytest set-up: a fixed seed per test, and ember's data root for the tests that read real datasets."""
import os
import pathlib

# one BLAS thread per test process: pytest-xdist already runs one process per core, and oversubscribed BLAS
# threads make small GEMMs hundreds of times slower (this must run before NumPy is imported)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ember  # noqa: E402

from ember.data.root import data_root  # noqa: E402

# what the real-data tests read, as laid out under the data root ($EMBER_DATA, else the user's cache folder)
REAL_DATA = {"mnist": "mnist/train-images-idx3-ubyte.gz", "fashion-mnist": "fashion-mnist/train-images-idx3-ubyte.gz",
             "tinyshakespeare": "tinyshakespeare/input.txt"}


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def real_data():
    """The data root, when it holds the real datasets (MNIST, Fashion-MNIST, Tiny Shakespeare); else the test is
    skipped with the reason naming what is missing and where it was looked for."""
    root = pathlib.Path(data_root())
    missing = [name for name, rel in REAL_DATA.items() if not (root / rel).exists()]
    if missing:
        pytest.skip(f"real datasets {', '.join(missing)} not in the data root {root} (set EMBER_DATA to a folder "
                    f"holding {', '.join(REAL_DATA.values())}, or download them: see README)")
    return root

