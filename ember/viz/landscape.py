"""Loss landscapes: the loss along a line between two weight sets, on a plane around a point along
filter-normalized random directions (Li et al., "Visualizing the Loss Landscape of Neural Nets", 2018), and the
training trajectory projected on its principal directions.

Every evaluation runs under ``no_grad`` in eval mode on the data it is given (pass a subset: one or a few
batches) and writes the parameters in place; the original values are copied back bit for bit afterwards (also
after an error), into the same arrays, so optimizers and views holding them are unaffected.

    alphas, losses = interpolate_1d(model, loss_fn, (x, y), init_state, model.state_dict())
    xs, ys, z = surface_2d(model, loss_fn, (x, y), steps=25)
    plot_surface(xs, ys, z, "landscape.png")
"""
from __future__ import annotations

import contextlib
import math

__all__ = ["interpolate_1d", "random_directions", "surface_2d", "trajectory_pca", "plot_interpolation",
           "plot_surface", "plot_trajectory"]


def _np():
    from ..backend import np
    return np


def _params(model) -> list:
    return [(n, p) for n, p in model.named_parameters()]


def _weights(src, model, who: str) -> dict:
    """``{name: float64 array}`` of the model's parameters from a Module, a state_dict or a {name: array} dict."""
    np = _np()
    if hasattr(src, "named_parameters"):
        src = dict(src.named_parameters())
    if not isinstance(src, dict):
        raise TypeError(f"{who}: weights must be a Module or a dict of name -> tensor, got {type(src).__name__}")
    out = {}
    for name, p in _params(model):
        if name not in src:
            raise KeyError(f"{who}: the weights have no entry {name!r} (the model's parameters are "
                           f"{[n for n, _ in _params(model)][:10]})")
        a = np.array(getattr(src[name], "_data", src[name]), dtype=np.float64)    # a copy: never the live array
        if a.shape != tuple(p.shape):
            raise ValueError(f"{who}: {name!r} has shape {a.shape}, the model's parameter {tuple(p.shape)}")
        out[name] = a
    return out


@contextlib.contextmanager
def _restoring(model):
    """Eval mode, no_grad; the parameters' values copied back exactly on exit, into the same arrays."""
    from ..autograd.grad_mode import no_grad
    saved = [(p, p._data.copy()) for _, p in _params(model)]
    was = model.training
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        for p, a in saved:
            p._data[...] = a
            p._version[0] += 1
        model.train(was)


def _assign(model, weights: dict) -> None:
    for name, p in _params(model):
        p._data[...] = weights[name]
        p._version[0] += 1


def _batches(data, who: str):
    if isinstance(data, tuple) and len(data) == 2 and hasattr(data[0], "shape"):
        return [data]
    batches = list(data)
    if not batches:
        raise ValueError(f"{who}: no data to evaluate the loss on")
    for b in batches:
        if not (isinstance(b, (tuple, list)) and len(b) == 2):
            raise TypeError(f"{who}: data must be an (inputs, targets) pair or an iterable of such batches, got a "
                            f"batch of type {type(b).__name__}")
    return batches


def _loss(model, loss_fn, batches) -> float:
    total, n = 0.0, 0
    for x, y in batches:
        k = int(x.shape[0]) if getattr(x, "ndim", 0) else 1
        total += float(loss_fn(model(x), y).item()) * k
        n += k
    return total / n


def interpolate_1d(model, loss_fn, data, start, end, steps: int = 25, alphas=None):
    """The loss at ``(1 - a) * start + a * end`` for ``a`` in ``alphas`` (default ``steps`` points on
    [-0.25, 1.25], so both ends are seen with a margin).  ``start``/``end``: Modules or state_dicts (e.g. the
    initial and the trained weights).  Returns ``(alphas, losses)`` as float64 arrays; the model's weights are
    restored exactly."""
    np = _np()
    a = _weights(start, model, "interpolate_1d")
    b = _weights(end, model, "interpolate_1d")
    alphas = np.linspace(-0.25, 1.25, int(steps)) if alphas is None else np.asarray(alphas, dtype=np.float64)
    batches = _batches(data, "interpolate_1d")
    losses = np.empty(len(alphas))
    with _restoring(model):
        for i, t in enumerate(alphas):
            _assign(model, {k: (1 - t) * a[k] + t * b[k] for k in a})
            losses[i] = _loss(model, loss_fn, batches)
    return alphas, losses


def random_directions(model, seed: int = 0, filter_normalize: bool = True, ignore_1d: bool = True) -> dict:
    """A random Gaussian direction ``{name: array}`` in weight space.  With ``filter_normalize`` (Li et al.)
    each filter (slice along dim 0: a conv filter or a Linear unit's weights) is rescaled to the norm of the
    same filter of the weights, so the plot's scale means the same for every layer; 1-D parameters (biases,
    norm scales) get zeros with ``ignore_1d`` (the paper's choice), or are normalized as one filter."""
    np = _np()
    rng = np.random.default_rng(seed)
    out = {}
    for name, p in _params(model):
        w = np.asarray(p._data, dtype=np.float64)
        d = rng.standard_normal(w.shape)
        if w.ndim <= 1 and ignore_1d:
            d = np.zeros_like(w)
        elif filter_normalize:
            if w.ndim <= 1:
                d *= np.linalg.norm(w) / (np.linalg.norm(d) + 1e-10)
            else:
                wf, df = w.reshape(w.shape[0], -1), d.reshape(d.shape[0], -1)
                df *= (np.linalg.norm(wf, axis=1) / (np.linalg.norm(df, axis=1) + 1e-10))[:, None]
                d = df.reshape(w.shape)
        out[name] = d
    return out


def surface_2d(model, loss_fn, data, directions=None, span=(-1.0, 1.0), steps: int = 21, seed: int = 0,
               centre=None):
    """The loss on the plane ``centre + x * d1 + y * d2`` for ``x, y`` in ``span`` (``steps`` points each way;
    a pair of spans sets the axes apart).  ``directions``: a pair of ``{name: array}`` (default: two
    filter-normalized random directions from ``seed``); ``centre``: weights (default: the model's own).
    Returns ``(xs, ys, z)`` with ``z[j, i]`` the loss at ``(xs[i], ys[j])``; weights restored exactly."""
    np = _np()
    if directions is None:
        directions = (random_directions(model, seed), random_directions(model, seed + 1))
    if len(directions) != 2:
        raise ValueError(f"surface_2d: directions must be a pair of weight dicts, got {len(directions)}")
    d1 = _weights(directions[0], model, "surface_2d")
    d2 = _weights(directions[1], model, "surface_2d")
    c = _weights(model if centre is None else centre, model, "surface_2d")
    sx, sy = (span, span) if not isinstance(span[0], (tuple, list)) else span
    xs = np.linspace(sx[0], sx[1], int(steps))
    ys = np.linspace(sy[0], sy[1], int(steps))
    batches = _batches(data, "surface_2d")
    z = np.empty((len(ys), len(xs)))
    with _restoring(model):
        for j, y in enumerate(ys):
            for i, x in enumerate(xs):
                _assign(model, {k: c[k] + x * d1[k] + y * d2[k] for k in c})
                z[j, i] = _loss(model, loss_fn, batches)
    return xs, ys, z


def trajectory_pca(snapshots, final=None):
    """The training trajectory on its two principal directions (Li et al., section 7): ``snapshots`` is a list
    of weight sets (state_dicts or ``{name: array}``, e.g. one per epoch), ``final`` the centre (default: the
    last snapshot).  PCA of the differences ``snapshot - final``.  Returns ``(coords, directions, explained)``:
    ``coords`` (n, 2) positions of the snapshots, ``directions`` a pair of ``{name: array}`` unit vectors usable
    as ``surface_2d(directions=...)``, ``explained`` the fraction of variance each direction captures."""
    np = _np()
    if len(snapshots) < 3:
        raise ValueError(f"trajectory_pca: need at least 3 snapshots, got {len(snapshots)}")
    names = list(snapshots[-1] if final is None else final)

    def flat(s):
        return np.concatenate([np.asarray(getattr(s[k], "_data", s[k]), dtype=np.float64).ravel() for k in names])
    shapes = [np.shape(getattr(snapshots[-1][k], "_data", snapshots[-1][k])) for k in names]
    centre = flat(snapshots[-1] if final is None else final)
    m = np.stack([flat(s) - centre for s in snapshots])
    _, sv, vt = np.linalg.svd(m, full_matrices=False)
    coords = m @ vt[:2].T
    var = sv ** 2
    explained = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    dirs = []
    for v in vt[:2]:
        d, off = {}, 0
        for k, sh in zip(names, shapes):
            n = int(np.prod(sh)) if sh else 1
            d[k] = v[off:off + n].reshape(sh)
            off += n
        dirs.append(d)
    return coords, tuple(dirs), explained


# -- plots -----------------------------------------------------------------------------------------------------

def plot_interpolation(alphas, losses, path=None, labels=("start", "end"), title=None, ax=None):
    """Loss along the line between two weight sets, the ends (a = 0 and 1) marked."""
    from ._plot import pyplot, save_or_return
    plt = pyplot("plot_interpolation")
    fig, ax = (plt.subplots(figsize=(5, 3.4)) if ax is None else (ax.figure, ax))
    ax.plot(alphas, losses, "-o", ms=3)
    for a, lab in zip((0.0, 1.0), labels):
        ax.axvline(a, color="grey", ls=":", lw=1)
        ax.annotate(lab, (a, max(losses)), ha="center", va="bottom", fontsize=8)
    ax.set_xlabel("interpolation coefficient a")
    ax.set_ylabel("loss")
    ax.set_title(title or "loss along (1 - a) * start + a * end")
    ax.grid(True, alpha=0.3)
    return save_or_return(fig, path, "plot_interpolation")


def plot_surface(xs, ys, z, path=None, kind: str = "contour", trajectory=None, title=None, log: bool = False,
                 levels: int = 30):
    """A loss surface from ``surface_2d`` as filled contours (``kind="contour"``), a 3-D surface ("3d"), or
    both side by side ("both"); ``trajectory``: (n, 2) points drawn on the contours (e.g. ``trajectory_pca``'s
    coords); ``log``: colour by log10 of the loss."""
    from ._plot import pyplot, save_or_return
    np = _np()
    plt = pyplot("plot_surface")
    if kind not in ("contour", "3d", "both"):
        raise ValueError(f"plot_surface: kind must be 'contour', '3d' or 'both', got {kind!r}")
    zz = np.log10(np.maximum(z, 1e-12)) if log else z
    label = "log10 loss" if log else "loss"
    X, Y = np.meshgrid(xs, ys)
    kinds = ["contour", "3d"] if kind == "both" else [kind]
    fig = plt.figure(figsize=(5.2 * len(kinds), 4.2))
    for i, k in enumerate(kinds):
        if k == "contour":
            ax = fig.add_subplot(1, len(kinds), i + 1)
            cs = ax.contourf(X, Y, zz, levels=levels, cmap="viridis")
            ax.contour(X, Y, zz, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
            fig.colorbar(cs, ax=ax, label=label)
            ax.plot([0], [0], "r*", ms=10)
            if trajectory is not None:
                t = np.asarray(trajectory)
                ax.plot(t[:, 0], t[:, 1], "w.-", lw=1.2, ms=5)
                ax.plot(t[:1, 0], t[:1, 1], "wo", ms=7, mfc="none")
            ax.set_xlabel("direction 1")
            ax.set_ylabel("direction 2")
        else:
            ax = fig.add_subplot(1, len(kinds), i + 1, projection="3d")
            ax.plot_surface(X, Y, zz, cmap="viridis", linewidth=0, antialiased=True)
            ax.set_xlabel("direction 1")
            ax.set_ylabel("direction 2")
            ax.set_zlabel(label)
    fig.suptitle(title or "loss landscape", fontsize=10)
    return save_or_return(fig, path, "plot_surface")


def plot_trajectory(model, loss_fn, data, snapshots, path=None, steps: int = 21, margin: float = 0.3, title=None,
                    log: bool = False):
    """The training trajectory (``snapshots``, the last one the centre) on its two principal directions over the
    loss surface of that plane.  The model's weights are restored exactly."""
    np = _np()
    coords, dirs, explained = trajectory_pca(snapshots)
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pad = (hi - lo) * margin + 1e-8
    span = ((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]))
    centre = {k: np.asarray(getattr(v, "_data", v)) for k, v in snapshots[-1].items()}
    xs, ys, z = surface_2d(model, loss_fn, data, directions=dirs, span=span, steps=steps, centre=centre)
    t = title or (f"trajectory on its principal directions ({100 * explained[0]:.0f}% + "
                  f"{100 * explained[1]:.0f}% of the variance)")
    return plot_surface(xs, ys, z, path, trajectory=coords, title=t, log=log)
