"""Several outputs ("heads"), a loss per head and metrics per head, for ``Trainer`` (Keras' ``compile(loss={...},
loss_weights={...}, metrics={...})``):

    trainer = Trainer(net, {"digit": nn.CrossEntropyLoss(), "ink": nn.MSELoss()}, opt,
                      loss_weights={"digit": 1.0, "ink": 0.5},
                      metrics={"digit": ["accuracy"], "ink": ["r2"]})

The model returns a dict of outputs (keyed like ``loss_fn``) or a tuple/list (in ``loss_fn``'s order; with a
list/tuple ``loss_fn`` the heads are named ``"0"``, ``"1"``, ...).  A batch is ``(*inputs, targets)`` with
``targets`` a dict keyed like the heads or a tuple/list in their order, or flat, ``(*inputs, t_1, ..., t_k)``,
one target per head in order (a ``TensorDataset(x, y1, y2)``).  The loss is ``sum_h w_h * loss_h`` with fixed
weights (default 1), or what a weighting module makes of the dict ``{head name: loss}`` (e.g.
``ember.models.UncertaintyWeighting``, learned uncertainty weighting: its parameters must be in the optimizer).
Logs: ``loss`` (the weighted total that is minimised), ``<head>/loss`` (each head's own loss), ``<head>/<metric>``
and, for a weighting module with ``weights()``, ``<head>/weight`` after each epoch.
"""
from __future__ import annotations

import copy

from .. import metrics as _metrics
from ..tensor import Tensor

__all__ = ["Heads"]


class Heads:
    """The per-head losses, weights and metrics of a multi-output ``Trainer`` (built from its arguments)."""

    def __init__(self, loss_fn, loss_weights=None, metrics=()) -> None:
        if isinstance(loss_fn, dict):
            self.keys = list(loss_fn)
            if not self.keys or not all(isinstance(k, str) and k for k in self.keys):
                raise ValueError(f"Trainer: loss_fn as a dict needs non-empty string head names, got "
                                 f"{list(loss_fn)!r}")
            fns = [loss_fn[k] for k in self.keys]
        else:
            fns = list(loss_fn)
            if not fns:
                raise ValueError("Trainer: loss_fn is an empty list; give one loss per model output")
            self.keys = list(range(len(fns)))
        self.names = [str(k) for k in self.keys]
        bad = [n for n, f in zip(self.names, fns) if not callable(f)]
        if bad:
            raise TypeError(f"Trainer: the loss of head {bad[0]!r} is not callable (e.g. nn.CrossEntropyLoss())")
        self.fns = fns
        self.weighting = None
        self.weights = [1.0] * len(fns)
        if loss_weights is None:
            pass
        elif callable(loss_weights) and hasattr(loss_weights, "parameters"):      # a module: learned weights
            self.weighting = loss_weights
        elif isinstance(loss_weights, dict):
            extra = sorted(set(map(str, loss_weights)) - set(self.names))
            if extra:
                raise ValueError(f"Trainer: loss_weights names head {extra[0]!r}, but the heads are "
                                 f"{', '.join(self.names)}")
            given = {str(k): v for k, v in loss_weights.items()}
            self.weights = [self._weight(given.get(n, 1.0), n) for n in self.names]
        elif isinstance(loss_weights, (list, tuple)):
            if len(loss_weights) != len(fns):
                raise ValueError(f"Trainer: {len(loss_weights)} loss_weights for {len(fns)} heads "
                                 f"({', '.join(self.names)})")
            self.weights = [self._weight(w, n) for w, n in zip(loss_weights, self.names)]
        else:
            raise TypeError(f"Trainer: loss_weights must be a dict {{head: weight}}, a list, or a weighting module "
                            f"(e.g. ember.models.UncertaintyWeighting), got {type(loss_weights).__name__}")
        self.metrics = self._build_metrics(metrics)

    @staticmethod
    def _weight(w, head) -> float:
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w < float("inf"):
            raise ValueError(f"Trainer: the loss weight of head {head!r} must be a finite number >= 0, got {w!r}")
        return float(w)

    def _build_metrics(self, metrics) -> list:
        """Metric objects named ``<head>/<metric>``, each remembering its head (``_ember_head``)."""
        if metrics is None or (not isinstance(metrics, dict) and len(metrics) == 0):
            return []
        if isinstance(metrics, dict):
            per = {}
            for k, v in metrics.items():
                if str(k) not in self.names:
                    raise ValueError(f"Trainer: metrics name head {str(k)!r}, but the heads are "
                                     f"{', '.join(self.names)}")
                per[str(k)] = v
        elif isinstance(metrics, (list, tuple)) and len(metrics) == len(self.keys) and \
                all(isinstance(m, (list, tuple)) for m in metrics):
            per = dict(zip(self.names, metrics))
        else:
            raise TypeError(f"Trainer: with one loss per head, metrics must be a dict {{head: [metrics]}} (heads "
                            f"{', '.join(self.names)}), got {type(metrics).__name__}")
        out = []
        for key, name in zip(self.keys, self.names):
            specs = per.get(name, ())
            if isinstance(specs, (str, _metrics.Metric)):
                specs = [specs]
            for spec in specs:
                m = copy.copy(_metrics.get(spec))           # a Metric passed in is not renamed in place
                m.name = f"{name}/{m.name}"
                m._ember_head = key
                out.append(m)
        return out

    # -- per batch ---------------------------------------------------------------------------------------------
    def split(self, batch, who: str):
        """``(inputs tuple, {head key: target})`` from a batch (see the module docstring)."""
        k = len(self.keys)
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise TypeError(f"Trainer.{who}: batches must be (inputs..., targets), got {type(batch).__name__}")
        last = batch[-1]
        if isinstance(last, dict):
            missing = [n for key, n in zip(self.keys, self.names) if key not in last and n not in last]
            if missing:
                raise ValueError(f"Trainer.{who}: the batch's targets have no {missing[0]!r}; heads: "
                                 f"{', '.join(self.names)}, targets: {', '.join(map(str, last))}")
            return tuple(batch[:-1]), {key: last[key] if key in last else last[n]
                                       for key, n in zip(self.keys, self.names)}
        if isinstance(last, (tuple, list)):
            if len(last) != k:
                raise ValueError(f"Trainer.{who}: {len(last)} targets for {k} heads ({', '.join(self.names)})")
            return tuple(batch[:-1]), dict(zip(self.keys, last))
        if len(batch) < k + 1:
            raise ValueError(f"Trainer.{who}: a batch of {len(batch)} tensors cannot hold inputs and one target for "
                             f"each of the {k} heads ({', '.join(self.names)})")
        return tuple(batch[:-k]), dict(zip(self.keys, batch[-k:]))

    def outputs(self, out, who: str) -> dict:
        """The model's outputs as ``{head key: tensor}``."""
        if isinstance(out, dict):
            missing = [n for key, n in zip(self.keys, self.names) if key not in out]
            if missing:
                raise ValueError(f"Trainer.{who}: the model's outputs have no head {missing[0]!r} (outputs: "
                                 f"{', '.join(map(str, out))}; losses for {', '.join(self.names)})")
            return {key: out[key] for key in self.keys}
        if isinstance(out, (tuple, list)) and len(out) == len(self.keys):
            return dict(zip(self.keys, out))
        what = f"{len(out)} outputs" if isinstance(out, (tuple, list)) else \
            f"one {type(out).__name__} of shape {tuple(getattr(out, 'shape', ()))}"
        raise ValueError(f"Trainer.{who}: the model returned {what}, but there is one loss per head for "
                         f"{len(self.keys)} heads ({', '.join(self.names)}): return a dict or a tuple of outputs")

    def loss(self, out: dict, target: dict, who: str):
        """``(total loss Tensor, {"<head>/loss": float})``."""
        losses = {}
        for key, name, fn in zip(self.keys, self.names, self.fns):
            try:
                l_h = fn(out[key], target[key])
            except (ValueError, TypeError, RuntimeError, IndexError) as e:
                raise type(e)(f"Trainer.{who}: the loss of head {name!r} failed on outputs of shape "
                              f"{tuple(getattr(out[key], 'shape', ()))} and targets of shape "
                              f"{tuple(getattr(target[key], 'shape', ()))}: {e}") from None
            if not isinstance(l_h, Tensor) or l_h.numel() != 1:
                raise ValueError(f"Trainer.{who}: the loss of head {name!r} must return a scalar Tensor, got "
                                 f"{type(l_h).__name__} {tuple(getattr(l_h, 'shape', ()))}")
            losses[name] = l_h
        if self.weighting is not None:
            total = self.weighting(losses)
        else:
            total = None
            for w, l_h in zip(self.weights, losses.values()):
                term = l_h if w == 1.0 else l_h * w
                total = term if total is None else total + term
        return total, {f"{n}/loss": float(v.detach().item()) for n, v in losses.items()}

    @staticmethod
    def update_metrics(metrics, out: dict, target: dict) -> None:
        for m in metrics:
            key = m._ember_head
            o = out[key]
            m.update(o.detach() if isinstance(o, Tensor) else o, target[key])

    def epoch_logs(self) -> dict:
        """The weighting module's current weights per head (``<head>/weight``), if it tells them."""
        fn = getattr(self.weighting, "weights", None)
        if not callable(fn):
            return {}
        try:
            return {f"{k}/weight": float(v) for k, v in fn().items()}
        except (TypeError, ValueError, AttributeError):
            return {}

    def check_optimizer(self, optimizer) -> None:
        """The weighting module's parameters must be trained too: they must be in the optimizer."""
        if self.weighting is None or optimizer is None:
            return
        have = {id(p) for g in getattr(optimizer, "param_groups", ()) for p in g["params"]}
        missing = [n for n, p in self.weighting.named_parameters() if id(p) not in have]
        if missing:
            raise ValueError(f"Trainer: the loss weighting {type(self.weighting).__name__}'s parameter "
                             f"{missing[0]!r} is not in the optimizer, so it would never learn; build the optimizer "
                             f"over list(model.parameters()) + list(weighting.parameters())")
