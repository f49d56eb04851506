"""Run an existing PyTorch script on ember, unchanged.

``ember.compat.install()`` puts a finder on ``sys.meta_path`` that answers ``import torch`` (and every
``torch.<sub>`` path) with ``ember`` (``ember.<sub>``): the very same module objects, so ``torch.nn.Linear`` is
``ember.nn.Linear``.  ``torchvision`` maps to ``ember.vision`` when ember has it.  A path ember does not have
fails with one line naming both the PyTorch path and the ember module it looked for.  ``uninstall()`` takes
the finder off again (modules already imported stay in ``sys.modules``).

From the command line::

    python -m ember.compat train.py --epochs 3

runs ``train.py`` as ``__main__`` with the finder installed, ``sys.argv`` as the script expects
(``["train.py", "--epochs", "3"]``) and the script's folder first on ``sys.path``, as ``python train.py``
would.  Child processes started with ``multiprocessing``'s ``spawn`` or ``forkserver`` methods install the
finder too, so ``torch.multiprocessing`` programs work the same way.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

__all__ = ["install", "uninstall", "is_installed", "run_script", "main"]

# a prefix PyTorch users import -> the ember package that answers it
_PREFIXES = {"torch": "ember", "torchvision": "ember.vision"}
_ENV = "EMBER_COMPAT_INSTALLED"


def _target(fullname: str) -> str | None:
    top, dot, rest = fullname.partition(".")
    base = _PREFIXES.get(top)
    if base is None:
        return None
    return base + dot + rest


class _AliasLoader(importlib.abc.Loader):
    """Hands back the already-imported ember module; keeps that module's own ``__spec__``."""

    def __init__(self, module) -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module) -> None:
        # importlib stamped the alias spec on the module; give ember's module its own back
        module.__spec__ = self.spec


class TorchToEmberFinder(importlib.abc.MetaPathFinder):
    """``torch[.x.y]`` -> ``ember[.x.y]``; ``torchvision[.x]`` -> ``ember.vision[.x]`` (when present)."""

    def find_spec(self, fullname, path=None, target=None):
        name = _target(fullname)
        if name is None:
            return None
        if fullname.split(".")[0] == "torchvision" and importlib.util.find_spec("ember.vision") is None:
            raise ModuleNotFoundError(f"ember.compat: 'torchvision' has no ember counterpart yet "
                                      f"(ember.vision is not part of this ember)", name=fullname)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name is not None and (e.name == name or name.startswith(e.name + ".")):
                raise ModuleNotFoundError(f"ember.compat: '{fullname}' has no ember counterpart "
                                          f"(no module '{name}'); see docs/compat.md for what ember covers",
                                          name=fullname) from None
            raise
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module), is_package=hasattr(module,
                                                                                                 "__path__"))


_FINDER = TorchToEmberFinder()


def is_installed() -> bool:
    return any(isinstance(f, TorchToEmberFinder) for f in sys.meta_path)


def install() -> None:
    """Make ``import torch`` (and ``torch.*``, ``torchvision``) import ember.  Refuses when the real torch is
    already imported, since the script would then mix the two libraries."""
    if is_installed():
        return
    real = sys.modules.get("torch")
    if real is not None and not getattr(real, "__name__", "").startswith("ember"):
        raise RuntimeError("ember.compat.install(): the real 'torch' is already imported in this process; "
                           "install the hook before anything imports torch")
    sys.meta_path.insert(0, _FINDER)
    os.environ[_ENV] = "1"
    from .tensor import Size
    Size._prefix = "torch"          # the script imported us as torch: print shapes as torch.Size([...])
    _patch_multiprocessing()


def uninstall() -> None:
    """Remove the finder and forget the ``torch``/``torchvision`` aliases in ``sys.modules``."""
    while _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in list(sys.modules):
        if name.split(".")[0] in _PREFIXES and getattr(sys.modules[name], "__name__", "").startswith("ember"):
            del sys.modules[name]
    os.environ.pop(_ENV, None)
    from .tensor import Size
    Size._prefix = "ember"


_CHILD_PROLOGUE = "import ember.compat; ember.compat.install(); "


def _patch_multiprocessing() -> None:
    """``spawn`` and ``forkserver`` children start a fresh interpreter that re-imports the script: prefix the
    command they run with installing the finder.  (``fork`` children inherit it.)"""
    from multiprocessing import spawn
    if getattr(spawn.get_command_line, "_ember_compat", False):
        return
    original = spawn.get_command_line

    def get_command_line(**kwds):
        cmd = original(**kwds)
        if "-c" in cmd:
            i = cmd.index("-c") + 1
            cmd = cmd[:i] + [_CHILD_PROLOGUE + cmd[i]] + cmd[i + 1:]
        return cmd

    get_command_line._ember_compat = True
    spawn.get_command_line = get_command_line
    try:
        from multiprocessing import forkserver
        if "ember.compat" not in forkserver._forkserver._preload_modules:
            forkserver._forkserver._preload_modules = ["ember.compat"] + list(
                forkserver._forkserver._preload_modules)
    except (ImportError, AttributeError):   # pragma: no cover - platforms without forkserver
        pass


def run_script(path: str, argv=None) -> None:
    """Run the Python file ``path`` as ``__main__`` with the finder installed and ``sys.argv`` set to
    ``[path, *argv]``."""
    import runpy
    if not os.path.isfile(path):
        raise FileNotFoundError(f"ember.compat: no such script '{path}'")
    install()
    sys.argv = [path] + list(argv or [])
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    runpy.run_path(path, run_name="__main__")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m ember.compat SCRIPT.py [ARGS...]\n\nRuns a PyTorch script with 'import torch' "
              "resolving to ember (see docs/compat.md).")
        return 0 if argv else 2
    if argv[0] == "-m":
        if len(argv) < 2:
            print("ember.compat: -m needs a module name", file=sys.stderr)
            return 2
        import runpy
        install()
        sys.argv = [argv[1]] + argv[2:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    run_script(argv[0], argv[1:])
    return 0


if __name__ == "__main__":
    # ``python -m ember.compat``: this file runs as __main__; use the importable module's functions so that
    # there is one finder object
    from ember.compat import main as _main
    sys.exit(_main())
