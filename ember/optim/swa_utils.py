"""Stochastic Weight Averaging and exponential moving averages of a model's weights, like
``torch.optim.swa_utils``: ``AveragedModel``, ``SWALR``, ``update_bn`` and the averaging-function factories
``get_swa_avg_fn``/``get_ema_avg_fn`` (one tensor at a time) and ``get_swa_multi_avg_fn``/``get_ema_multi_avg_fn``
(lists of tensors of one device and dtype, updated in place).

The arithmetic follows PyTorch 2.13's step by step, so the averages are the same numbers: the equal-weight
average is ``avg + (p - avg) / (n + 1)`` through ``avg_fn`` and a ``lerp`` by ``1 / (n + 1)`` (computed from the
integer counter ``n_averaged`` in the default float dtype, as PyTorch's) through ``multi_avg_fn``; integer
buffers (``use_buffers=True``) are truncated back into their dtype as ``copy_`` does.

    swa_model = AveragedModel(model)
    swa_sched = SWALR(opt, swa_lr=0.05, anneal_epochs=5)
    for epoch in range(epochs):
        train_one_epoch(model, opt)
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_sched.step()
    update_bn(loader, swa_model)
"""
from __future__ import annotations

import copy
import itertools
import math
from typing import Any

from ..autograd.grad_mode import no_grad
from ..backend import int64
from ..creation import tensor as _tensor
from ..nn.layers.normalization import _BatchNorm
from ..nn.module import Module
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _check_optimizer, _format_param

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]


def _floating(t: Tensor) -> bool:
    return t._data.dtype.kind in "fc"


def _check_decay(who: str, decay) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"{who}: Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """An in-place EMA over lists of tensors: ``ema = decay * ema + (1 - decay) * p`` (a ``lerp`` by
    ``1 - decay`` for floating tensors), for ``AveragedModel(multi_avg_fn=...)``.  ``decay`` in [0, 1]."""
    _check_decay("get_ema_multi_avg_fn", decay)

    def ema_update(ema_param_list, current_param_list, _):
        with no_grad():
            if _floating(ema_param_list[0]):
                for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                    p_ema.lerp_(p_model, 1 - decay)
            else:
                for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """An in-place equal-weight running average over lists of tensors, for ``AveragedModel(multi_avg_fn=...)``:
    ``avg = lerp(avg, p, 1 / (n + 1))`` (``n`` the number already averaged)."""

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        with no_grad():
            if _floating(averaged_param_list[0]):
                w = 1 / (num_averaged + 1)      # a Tensor counter gives a default-dtype weight, as PyTorch's
                w = float(w) if isinstance(w, Tensor) else w
                for p_avg, p_model in zip(averaged_param_list, current_param_list, strict=True):
                    p_avg.lerp_(p_model, w)
                return
            if isinstance(num_averaged, Tensor):
                raise RuntimeError(f"get_swa_multi_avg_fn: Integer division with addcdiv is no longer supported "
                                   f"(PyTorch's in-place average of the integer tensors, dtype "
                                   f"{averaged_param_list[0].dtype}); average floating tensors only, or pass "
                                   f"num_averaged as a Python int")
            for p_avg, p_model in zip(averaged_param_list, current_param_list, strict=True):
                p_avg.add_(p_model - p_avg, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """An EMA of one tensor, for ``AveragedModel(avg_fn=...)``: returns ``decay * ema + (1 - decay) * p``."""
    _check_decay("get_ema_avg_fn", decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """The equal-weight running average of one tensor, for ``AveragedModel(avg_fn=...)``: returns
    ``avg + (p - avg) / (n + 1)``."""

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _group_by_device_and_dtype(avg, cur):
    """[(avg tensors, model tensors)] per (device, dtype) of the averaged tensors, in first-seen order."""
    groups: dict = {}
    for a, c in zip(avg, cur):
        key = (str(a.device), a._data.dtype)
        ga, gc = groups.setdefault(key, ([], []))
        ga.append(a)
        gc.append(c)
    return list(groups.values())


class AveragedModel(Module):
    """A copy of ``model`` whose parameters (and, with ``use_buffers=True``, buffers) are running averages of
    ``model``'s, updated by ``update_parameters(model)``, like ``torch.optim.swa_utils.AveragedModel``.

    ``avg_fn(avg, p, n)`` returns the new average of one tensor; ``multi_avg_fn(avgs, ps, n)`` updates lists of
    tensors in place; neither: the equal-weight average (SWA).  The first update copies the model's values.
    Without ``use_buffers`` the buffers are copied from ``model`` at each update (run ``update_bn`` for
    BatchNorm statistics of the averaged weights).  ``n_averaged`` (a buffer, saved in ``state_dict``)
    counts the updates.  ``forward`` runs the averaged copy.

    >>> ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.99), use_buffers=True)
    >>> ema.update_parameters(model); ema(x)
    """

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("AveragedModel: Only one of avg_fn and multi_avg_fn should be provided")
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: expected an nn.Module to average, got {type(model).__name__}")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _tensor(0, dtype=int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """The averaged copy's forward."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Average ``model``'s current parameters (and buffers with ``use_buffers``) into this copy."""
        if self.use_buffers:
            self_param = itertools.chain(self.module.parameters(), self.module.buffers())
            model_param = itertools.chain(model.parameters(), model.buffers())
        else:
            self_param, model_param = self.parameters(), model.parameters()
        avg_list, cur_list = [], []
        copy_param = bool(self.n_averaged == 0)
        for p_averaged, p_model in zip(self_param, model_param):
            p_model_ = p_model.detach().to(p_averaged.device)
            avg_list.append(p_averaged.detach())
            cur_list.append(p_model_)
            if copy_param:
                p_averaged.detach().copy_(p_model_)
        if self.n_averaged > 0:
            if self.multi_avg_fn is not None or self.avg_fn is None:
                for avgs, curs in _group_by_device_and_dtype(avg_list, cur_list):
                    n = self.n_averaged.to(avgs[0].device)
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn(avgs, curs, n)
                    else:       # PyTorch's non-foreach path (its CPU one): avg_fn per tensor
                        avg_fn = get_swa_avg_fn()
                        for p_averaged, p_model in zip(avgs, curs):
                            p_averaged.copy_(avg_fn(p_averaged, p_model, n))
            else:
                for p_averaged, p_model in zip(avg_list, cur_list):
                    n = self.n_averaged.to(p_averaged.device)
                    p_averaged.detach().copy_(self.avg_fn(p_averaged.detach(), p_model, n))
        if not self.use_buffers:
            b_swa, b_model = list(self.module.buffers()), list(model.buffers())
            if len(b_swa) != len(b_model):
                raise ValueError(f"AveragedModel.update_parameters: the model has {len(b_model)} buffers, the "
                                 f"averaged copy {len(b_swa)}; pass the model this AveragedModel was made from")
            for b_s, b_m in zip(b_swa, b_model):
                b_s.detach().copy_(b_m.detach().to(b_s.device))
        with no_grad():
            self.n_averaged += 1


def update_bn(loader, model: Module, device=None) -> None:
    """Recompute the BatchNorm running statistics of ``model`` with one pass over ``loader`` (each batch a
    tensor, or a list/tuple whose first element is the input), as ``torch.optim.swa_utils.update_bn``: the
    statistics are reset and accumulated as a cumulative average (momentum None during the pass); the
    modules' momenta and the model's train/eval mode are restored.  Nothing happens without BatchNorm layers.

    >>> update_bn(train_loader, swa_model)
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        with no_grad():
            for input in loader:
                if isinstance(input, (list, tuple)):
                    input = input[0]
                if device is not None:
                    input = input.to(device)
                model(input)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate to ``swa_lr`` (a float, or one per group) over ``anneal_epochs``
    steps, then hold it, like ``torch.optim.swa_utils.SWALR``.  ``anneal_strategy``: "cos" (default) or
    "linear".

    >>> sched = SWALR(opt, swa_lr=0.05, anneal_epochs=5, anneal_strategy="linear")
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1) -> None:
        _check_optimizer("SWALR", optimizer)
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR: anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        """Each group's lr interpolated between the lr this schedule started from and ``swa_lr``."""
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        groups = self.optimizer.param_groups
        lrs = [float(g["lr"]) if isinstance(g["lr"], Tensor) else g["lr"] for g in groups]
        prev_lrs = [self._get_initial_lr(lr, g["swa_lr"], prev_alpha) for g, lr in zip(groups, lrs)]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev_lrs, strict=True)]

    def _set_anneal_func(self, anneal_strategy) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer and the annealing function (restored from ``_anneal_strategy``)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state produced by ``state_dict()``."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
