"""The import hook (``ember.compat.install()``, ``python -m ember.compat script.py``) and class 9 of issue 12:
every module path PyTorch users import in ordinary scripts imports under the hook."""
import importlib
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# module paths seen in ordinary PyTorch scripts (examples, tutorials)
MODULE_PATHS = [
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils", "torch.nn.utils.rnn",
    "torch.nn.utils.clip_grad", "torch.nn.parameter", "torch.nn.modules", "torch.nn.modules.module",
    "torch.nn.modules.conv", "torch.nn.modules.linear", "torch.nn.modules.loss", "torch.nn.modules.activation",
    "torch.nn.modules.batchnorm", "torch.nn.modules.dropout", "torch.nn.modules.rnn", "torch.nn.modules.pooling",
    "torch.nn.modules.container", "torch.nn.modules.sparse", "torch.nn.modules.utils", "torch.nn.parallel",
    "torch.optim", "torch.optim.lr_scheduler", "torch.optim.optimizer", "torch.autograd", "torch.autograd.function",
    "torch.utils", "torch.utils.data", "torch.utils.data.sampler", "torch.utils.data.dataset",
    "torch.utils.data.dataloader", "torch.utils.data.distributed", "torch.utils.data._utils.collate",
    "torch.utils.checkpoint", "torch.utils.hooks", "torch.autograd.variable", "torch.serialization", "torch.amp",
    "torch.jit", "torch.distributed", "torch.version", "torch.mps", "torch.nn.modules.transformer",
    "torch.multiprocessing", "torch.cuda", "torch.backends", "torch.backends.cudnn", "torch.backends.mps",
    "torch.accelerator", "torch.onnx",
]
NAMES = ["torch.nn.Module", "torch.nn.functional.relu", "torch.autograd.Variable", "torch.autograd.Function",
         "torch.utils.data.DataLoader", "torch.utils.data.distributed.DistributedSampler",
         "torch.nn.utils.rnn.pack_padded_sequence", "torch.nn.utils.clip_grad_norm_",
         "torch.optim.lr_scheduler.StepLR", "torch.nn.modules.conv.Conv2d", "torch.nn.DataParallel",
         "torch.cuda.is_available", "torch.backends.cudnn.benchmark", "torch.multiprocessing.Process",
         "torch.set_default_device", "torch.Tensor.share_memory_", "torch.FloatTensor", "torch.LongTensor"]


def _run(code, *args, cwd=None):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, *args, "-c", code] if code is not None else [sys.executable, *args],
                          capture_output=True, text=True, env=env, cwd=cwd or ROOT, timeout=120)


def test_every_module_path_exists_in_torch():
    for name in MODULE_PATHS:       # the list itself is PyTorch's (a typo here would test nothing)
        importlib.import_module(name)


def test_every_module_path_imports_under_the_hook():
    code = textwrap.dedent(f"""
        import importlib, operator, ember.compat
        ember.compat.install()
        bad = []
        for name in {MODULE_PATHS!r}:
            try:
                m = importlib.import_module(name)
                assert m.__name__.startswith("ember"), m
            except Exception as e:
                bad.append(f"{{name}}: {{type(e).__name__}}: {{e}}")
        for dotted in {NAMES!r}:
            mod, _, attr = dotted.rpartition(".")
            try:
                obj = importlib.import_module(mod)
                getattr(obj, attr)
            except Exception as e:
                try:
                    operator.attrgetter(dotted.partition(".")[2])(importlib.import_module("torch"))
                except Exception as e:
                    bad.append(f"{{dotted}}: {{type(e).__name__}}: {{e}}")
        print("BAD", bad)
    """)
    r = _run(code)
    assert r.returncode == 0, r.stderr
    assert "BAD []" in r.stdout, r.stdout


def test_hook_aliases_the_same_module_objects_and_names_missing_paths():
    code = textwrap.dedent("""
        import ember, ember.nn, ember.compat
        ember.compat.install()
        import torch, torch.nn as nn
        from torch.utils.data import DataLoader
        import ember.data
        print(torch is ember, nn is ember.nn, DataLoader is ember.data.DataLoader,
              ember.nn.__spec__.name, ember.compat.is_installed())
        try:
            import torch.nonexistent_submodule
        except ModuleNotFoundError as e:
            print("ERR", e)
        ember.compat.uninstall()
        print(ember.compat.is_installed(), "torch" in __import__("sys").modules)
    """)
    r = _run(code)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "True True True ember.nn True"
    assert lines[1].startswith("ERR ember.compat: 'torch.nonexistent_submodule' has no ember counterpart")
    assert lines[2] == "False False"


def test_install_refuses_after_real_torch_was_imported():
    r = _run("import sys, types; sys.modules['torch'] = types.ModuleType('torch'); "
             "import ember.compat; ember.compat.install()")
    assert r.returncode != 0 and "real 'torch' is already imported" in r.stderr


def test_python_m_ember_compat_runs_a_script_with_its_argv(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import sys
        import torch
        import helper                      # a module next to the script, as with `python train.py`
        print(torch.__name__, sys.argv[1:], __name__, helper.VALUE)
        print(torch.nn.Linear(2, 3).weight.shape)
    """))
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    r = _run(None, "-m", "ember.compat", str(script), "--epochs", "3", cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["ember ['--epochs', '3'] __main__ 42", "torch.Size([3, 2])"]
    r = _run(None, "-m", "ember.compat", str(tmp_path / "missing.py"))
    assert r.returncode != 0 and "no such script" in r.stderr


def test_spawn_children_of_a_hooked_script_import_ember(tmp_path):
    script = tmp_path / "mp.py"
    script.write_text(textwrap.dedent("""
        import torch
        import torch.multiprocessing as mp

        def work(rank, t):
            import torch
            t[rank] = 1.0 if torch.__name__ == "ember" else -1.0

        if __name__ == "__main__":
            t = torch.zeros(2).share_memory_()
            mp.spawn(work, args=(t,), nprocs=2)
            print(t.tolist())
    """))
    r = _run(None, "-m", "ember.compat", str(script), cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[1.0, 1.0]"


def test_nn_modules_submodules_hold_pytorchs_names():
    import ember.nn as enn
    import torch.nn as tnn
    for sub, names in {"activation": ["ReLU", "MultiheadAttention"], "linear": ["Linear", "Identity",
                       "NonDynamicallyQuantizableLinear"], "loss": ["_Loss", "_WeightedLoss", "MSELoss"],
                       "conv": ["Conv2d", "_ConvNd"], "rnn": ["LSTM", "GRU", "RNNBase"], "module": ["Module"],
                       "sparse": ["Embedding"], "transformer": ["TransformerEncoderLayer"],
                       "container": ["Sequential", "ModuleList"], "batchnorm": ["BatchNorm1d", "_BatchNorm"],
                       "dropout": ["Dropout"], "normalization": ["LayerNorm"]}.items():
        for n in names:
            assert hasattr(getattr(tnn.modules, sub), n), (sub, n)      # PyTorch really has it there
            assert getattr(getattr(enn.modules, sub), n) is not None, (sub, n)
    assert enn.modules.conv.Conv2d is enn.Conv2d and enn.modules.activation.MultiheadAttention is enn.MultiheadAttention
