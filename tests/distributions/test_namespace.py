"""``ember.distributions`` is reachable the ways PyTorch code reaches ``torch.distributions``."""
import os
import subprocess
import sys

import ember

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_lazy_attribute_and_submodules():
    d = ember.distributions
    from ember.distributions.categorical import Categorical
    from ember.distributions.normal import Normal
    assert d.Normal is Normal and d.Categorical is Categorical
    assert d.constraints.positive is ember.distributions.constraints.positive
    for name in d.__all__:
        assert hasattr(d, name), name


def test_torch_distributions_imports_under_the_compat_hook(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("import torch\nimport torch.distributions as D\n"
                      "from torch.distributions import Categorical, kl_divergence\n"
                      "from torch.distributions.normal import Normal\n"
                      "from torch.distributions import constraints, transforms\n"
                      "print(D.__name__, Normal is torch.distributions.Normal, constraints.positive)\n")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-m", "ember.compat", str(script)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ember.distributions True GreaterThan(lower_bound=0.0)"


def test_names_and_signatures_match_torch():
    import inspect

    import torch.distributions as T
    d = ember.distributions
    assert sorted(T.__all__) == sorted(d.__all__)
    for name in T.__all__:
        t, e = getattr(T, name), getattr(d, name)
        if not inspect.isclass(t):
            continue
        public = {n for n in dir(t) if not n.startswith("_")}
        assert public <= set(dir(e)), (name, sorted(public - set(dir(e))))
        for meth in ("__init__", "sample", "rsample", "log_prob", "cdf", "icdf", "entropy", "enumerate_support",
                     "expand", "__call__", "log_abs_det_jacobian"):
            tm, em = getattr(t, meth, None), getattr(e, meth, None)
            if tm is None:
                continue
            try:
                ts = inspect.signature(tm)
            except (TypeError, ValueError):
                continue
            es = inspect.signature(em)
            assert [(p.name, p.kind) for p in ts.parameters.values()] == \
                   [(p.name, p.kind) for p in es.parameters.values()], (name, meth, str(ts), str(es))
