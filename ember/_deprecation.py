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
    "T": "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it will "
         "throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
         "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
    "T0d": "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.",
    "set_default_tensor_type": "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                               "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
    "assert_allclose": "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                       "release. Please use `torch.testing.assert_close()` instead. You can find detailed upgrade "
                       "instructions in https://github.com/pytorch/pytorch/issues/61844.",
    "uint8_index": "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead.",
    "non_tuple_index": "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
                       "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be "
                       "interpreted as tensor index, x[torch.tensor(seq)], which will result either in an error or "
                       "a different result",
    "lr_epoch": "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible. "
                "Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch is different "
                "from None, the closed form is used instead of the new chainable form, where available. Please open "
                "an issue if you are unable to replicate your use case: "
                "https://github.com/pytorch/pytorch/issues/new/choose.",
    "lr_order": "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and later, you "
                "should call them in the opposite order: `optimizer.step()` before `lr_scheduler.step()`.  Failure "
                "to do this will result in PyTorch skipping the first value of the learning rate schedule. See more "
                "details at https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
    "state_dict_args": "Positional args are being deprecated, use kwargs instead. Refer to https://pytorch.org/docs/"
                       "main/generated/torch.nn.Module.html#torch.nn.Module.state_dict for details.",
    "clip_grad_norm": "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                      "`torch.nn.utils.clip_grad_norm_`.",
}


def _user_stacklevel() -> int:
    """``stacklevel`` for a ``warnings.warn`` made in ``warn`` that names the first frame outside ember."""
    f, level = sys._getframe(2), 2
    while f is not None and (f.f_code.co_filename.startswith(_ROOT) or f.f_code.co_filename.startswith("<ember")):
        f, level = f.f_back, level + 1
    return level


def warn(key: str, once: bool = True, category=UserWarning, user_only: bool = False) -> None:
    """Issue PyTorch's deprecation warning ``TEXTS[key]``, once per process when ``once``.  With ``user_only``
    (``x.T``, which ember's own code may use), only when the caller is outside ember."""
    if once and key in _WARNED:
        return
    if user_only and sys._getframe(2).f_code.co_filename.startswith(_ROOT):
        return
    if once:
        _WARNED.add(key)
    warnings.warn(TEXTS[key], category, stacklevel=_user_stacklevel())


def legacy_reduction(size_average, reduce) -> str:
    """PyTorch's ``_Reduction.legacy_get_string``: the ``reduction`` that the legacy ``size_average``/``reduce``
    flags (one of them given) stand for, with its UserWarning at each call."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "none" if not reduce else ("mean" if size_average else "sum")
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  UserWarning, stacklevel=_user_stacklevel())
    return ret
