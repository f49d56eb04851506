"""The ``split`` fixtures' common part for the tests of ember's thread sections (ember.ops._parallel)."""
from ember.ops import _parallel as P


def counting_sections(monkeypatch, thresholds=()):
    """Count the parallel sections that run; returns ``use(n)``, which reports BLAS with ``n`` threads, sets each
    ``(module, name, value)`` of ``thresholds`` and returns the (cleared) list of the sections' sizes.  The
    hand-off scale is pinned to 1 (``_parallel.handoff_scale``: the thresholds as they are set)."""
    calls = []
    real = P.in_parallel
    monkeypatch.setattr(P, "_HANDOFF", [1.0])      # the reference machine's hand-off: the thresholds as set

    def counting(fns, t):
        calls.append(len(fns))
        return real(fns, t)
    monkeypatch.setattr(P, "in_parallel", counting)

    def use(n):
        monkeypatch.setattr(P, "blas_threads", lambda: n)
        for mod, name, value in thresholds:
            monkeypatch.setattr(mod, name, value)
        calls.clear()
        return calls
    return use
