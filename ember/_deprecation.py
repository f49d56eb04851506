"""PyTorch's deprecation warnings for the functions it still runs but warns about (``torch.qr``, ``torch.lu``,
``torch.chain_matmul``, ``torch.range``, ...), with its texts, and once per process where PyTorch warns once
(its C++ ``TORCH_WARN_ONCE``: one warning for the function and the Tensor method together).

The warning is attributed to the user's line: the first frame outside ember (the Tensor method wrappers and
the ``out=`` defs are frames of their own), so Python's default filter shows it once per calling line."""
from __future__ import annotations

import os
import sys
import warnings

_ROOT = os.path.dirname(os.path.abspath(__file__)) + os.sep
_WARNED: set = set()

# PyTorch 2.13's texts (without its "(Triggered internally at ...)" suffix)
TEXTS = {
    "qr": "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch release.\n"
          "The boolean parameter 'some' has been replaced with a string parameter 'mode'.\n"
          "Q, R = torch.qr(A, some)\nshould be replaced with\n"
          "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')",
    "lu": "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be "
          "removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced "
          "with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\n"
          "LU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\n"
          "LU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)",
    "lu_solve": "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future "
                "PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\n"
                "X = torch.lu_solve(B, LU, pivots)\nshould be replaced with\n"
                "X = torch.linalg.lu_solve(LU, pivots, B)",
    "cholesky": "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                "PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\n"
                "and\nU = torch.cholesky(A, upper=True)\nshould be replaced with\n"
                "U = torch.linalg.cholesky(A).mH\nThis transform will produce equivalent results for all valid "
                "(symmetric positive definite) inputs.",
    "chain_matmul": "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                    "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
                    "multiple parameters.",
    "range": "torch.range is deprecated and will be removed in a future release because its behavior is "
             "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
             "[start, end).",
    "meshgrid": "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
    "cross": "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
             "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree with "
             "that of linalg.cross in a future release.",
}


def _user_stacklevel() -> int:
    """``stacklevel`` for a ``warnings.warn`` made in ``warn`` that names the first frame outside ember."""
    f, level = sys._getframe(2), 2
    while f is not None and (f.f_code.co_filename.startswith(_ROOT) or f.f_code.co_filename.startswith("<ember")):
        f, level = f.f_back, level + 1
    return level


def warn(key: str, once: bool = True) -> None:
    """Issue PyTorch's deprecation warning ``TEXTS[key]`` (a UserWarning), once per process when ``once``."""
    if once:
        if key in _WARNED:
            return
        _WARNED.add(key)
    warnings.warn(TEXTS[key], UserWarning, stacklevel=_user_stacklevel())
