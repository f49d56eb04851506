"""Fixtures for the distributions tests."""
import pytest
import torch


@pytest.fixture(autouse=True)
def _torch_validates():
    # torch.compile (run by other tests in the same process) switches torch's default argument validation off
    # for the rest of the process; these cases compare against torch's validation, so switch it on here
    old = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(True)
    yield
    torch.distributions.Distribution.set_default_validate_args(old)
