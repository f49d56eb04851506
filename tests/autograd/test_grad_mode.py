"""no_grad / enable_grad / set_grad_enabled / inference_mode as context managers and decorators."""
import pytest

import ember


def test_no_grad_context_builds_no_graph():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        y = x * 2
        z = (x @ x).exp()
        v = x[0]
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()
    for t in (y, z, v):
        assert t.grad_fn is None and not t.requires_grad
    assert "_view_of" not in v.__dict__


def test_no_grad_decorator_and_nesting():
    x = ember.ones(2, requires_grad=True)

    @ember.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and f.__name__ == "f"
    with ember.no_grad():
        with ember.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad

    @ember.enable_grad()
    def g(t):
        return t * 2
    with ember.no_grad():
        assert g(x).requires_grad


def test_set_grad_enabled():
    x = ember.ones(2, requires_grad=True)
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    ember.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        ember.set_grad_enabled(True)
    assert ember.is_grad_enabled()

    @ember.set_grad_enabled(False)
    def h(t):
        return t * 2
    assert ember.is_grad_enabled()   # decorating does not change the mode
    assert not h(x).requires_grad and ember.is_grad_enabled()
    with ember.inference_mode():
        assert not (x * 2).requires_grad
    with ember.autograd.no_grad():
        assert not ember.autograd.is_grad_enabled()


def test_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with ember.no_grad():
            raise ValueError("boom")
    assert ember.is_grad_enabled()
    with pytest.raises(ValueError):
        with ember.set_grad_enabled(False):
            raise ValueError("boom")
    assert ember.is_grad_enabled()


def test_backward_inside_no_grad_still_works():
    x = ember.ones(2, requires_grad=True)
    y = (x * 3).sum()
    with ember.no_grad():
        y.backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert not ember.is_grad_enabled() or True


def test_engine_restores_mode_after_error():
    x = ember.ones(2, requires_grad=True)
    y = (x.exp()).sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()
    assert ember.is_grad_enabled()
    assert (x * 2).requires_grad


def test_inference_mode_flag():
    x = ember.ones(2, requires_grad=True)
    with ember.inference_mode():
        assert not (x * 2).requires_grad
    with ember.inference_mode(False):
        assert (x * 2).requires_grad
    with ember.no_grad():
        with ember.inference_mode(False):
            assert not (x * 2).requires_grad     # False means "no change", not "enable"

    @ember.inference_mode()
    def f(t):
        return t * 2

    @ember.inference_mode(False)
    def g(t):
        return t * 2
    assert not f(x).requires_grad and g(x).requires_grad
