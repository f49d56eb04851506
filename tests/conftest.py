"""Shared pytest set-up: a fixed seed per test, and the path of the shared real datasets."""
import os
import pathlib

import numpy as np
import pytest

import ember

SHARED_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def shared_data():
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data folder {SHARED_DATA} not present")
    return SHARED_DATA


os.environ.setdefault("OMP_NUM_THREADS", "1")
