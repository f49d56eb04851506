"""torch.autograd.set_multithreading_enabled / is_multithreading_enabled: same state transitions as torch."""
import torch

import ember.autograd as A


def _trace(m):
    r = [m.is_multithreading_enabled()]
    with m.set_multithreading_enabled(False):
        r.append(m.is_multithreading_enabled())
    r.append(m.is_multithreading_enabled())
    m.set_multithreading_enabled(False)
    r.append(m.is_multithreading_enabled())
    m.set_multithreading_enabled(True)

    @m.set_multithreading_enabled(False)
    def f():
        return m.is_multithreading_enabled()
    r += [m.is_multithreading_enabled(), f()]
    m.set_multithreading_enabled(True)
    r.append(m.is_multithreading_enabled())
    return r


def test_multithreading_mode_as_torch():
    assert _trace(A) == _trace(torch.autograd)
    assert isinstance(A.set_multithreading_enabled(True).clone(), A.set_multithreading_enabled)


def test_variable_function_raises_as_torch():
    import importlib

    import pytest
    for mod in (torch.autograd, A):
        with pytest.raises(RuntimeError, match=r"torch.autograd.variable\(...\) is deprecated, use torch.tensor"):
            mod.variable([1.0])
        assert mod.variable.Variable is mod.Variable
    assert importlib.import_module("ember.autograd.variable").Variable is A.Variable
