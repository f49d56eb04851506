"""Optimizers on classic 2-D test functions, drawn as paths on contour plots and as an animated GIF, and the
learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural Networks", 2017).

    paths = optimizer_paths("rosenbrock", steps=300)      # every ember.optim optimizer
    plot_paths("rosenbrock", paths, "rosenbrock.png"); animate_paths("rosenbrock", paths, "rosenbrock.gif")
    result = lr_range_test(model, loss_fn, loader, lambda ps, lr: ember.optim.SGD(ps, lr=lr))
    result["suggested"]
"""
from __future__ import annotations

import math

__all__ = ["TEST_FUNCTIONS", "optimizer_paths", "plot_paths", "animate_paths", "lr_range_test", "plot_lr_range",
           "default_optimizers"]


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def _beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def _saddle(x, y):
    return x ** 2 - y ** 2


def _himmelblau(x, y):
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


# f works on ember tensors, NumPy arrays and floats alike; lr_scale multiplies each optimizer's default rate, lr
# sets one optimizer's rate outright (chosen by trying 0.03x to 1x: the fastest that does not diverge in 300 steps,
# except RAdam, whose first steps are plain SGD with momentum and need an SGD-sized rate)
TEST_FUNCTIONS = {
    "rosenbrock": {"f": _rosenbrock, "start": (-1.2, 1.0), "minima": [(1.0, 1.0)], "xlim": (-2.0, 2.0),
                   "ylim": (-1.0, 3.0), "lr_scale": 1.0, "lr": {"SGD": 3e-3, "SGD momentum": 1e-3, "RAdam": 3e-3,
                                                                        "ASGD": 3e-3},
                   "log": True},
    "beale": {"f": _beale, "start": (1.0, 1.5), "minima": [(3.0, 0.5)], "xlim": (-4.5, 4.5), "ylim": (-4.5, 4.5),
              "lr_scale": 1.0, "lr": {"SGD momentum": 3e-3, "RAdam": 0.01, "ASGD": 3e-3},
              "log": True},
    "saddle": {"f": _saddle, "start": (-1.0, 1e-3), "minima": [], "xlim": (-1.5, 1.5), "ylim": (-1.5, 1.5),
               "lr_scale": 0.1, "lr": {}, "log": False},
    "himmelblau": {"f": _himmelblau, "start": (0.0, 0.0), "minima": [(3.0, 2.0), (-2.805118, 3.131312),
                   (-3.779310, -3.283186), (3.584428, -1.848126)], "xlim": (-5.0, 5.0), "ylim": (-5.0, 5.0),
                   "lr_scale": 0.3, "lr": {"RAdam": 0.01}, "log": True},
}


def default_optimizers() -> dict:
    """``{name: (class, kwargs)}``: every ember.optim optimizer for dense parameters (not SparseAdam, which takes
    sparse gradients only), SGD also with momentum, at a rate for the 2-D test functions (each function's
    ``lr_scale`` multiplies it, its ``lr`` overrides it)."""
    from .. import optim
    return {
        "SGD": (optim.SGD, {"lr": 0.01}),
        "SGD momentum": (optim.SGD, {"lr": 0.01, "momentum": 0.9}),
        "Adagrad": (optim.Adagrad, {"lr": 0.5}),
        "Adadelta": (optim.Adadelta, {"lr": 10.0}),
        "RMSprop": (optim.RMSprop, {"lr": 0.02}),
        "Adam": (optim.Adam, {"lr": 0.1}),
        "AdamW": (optim.AdamW, {"lr": 0.1}),
        "Adamax": (optim.Adamax, {"lr": 0.1}),
        "NAdam": (optim.NAdam, {"lr": 0.1}),
        "RAdam": (optim.RAdam, {"lr": 0.1}),
        "Rprop": (optim.Rprop, {"lr": 0.01}),
        "ASGD": (optim.ASGD, {"lr": 0.01}),
        "Adafactor": (optim.Adafactor, {"lr": 0.1}),
        "LBFGS": (optim.LBFGS, {"lr": 1.0, "max_iter": 1, "max_eval": 25, "history_size": 10,
                            "line_search_fn": "strong_wolfe"}),
    }


def _function(name: str) -> dict:
    if name not in TEST_FUNCTIONS:
        raise ValueError(f"unknown test function {name!r}; known: {sorted(TEST_FUNCTIONS)}")
    return TEST_FUNCTIONS[name]


def optimizer_paths(function: str = "rosenbrock", optimizers=None, steps: int = 200, start=None,
                    scale_lr: bool = True) -> dict:
    """Run each optimizer from ``start`` (default: the function's) for ``steps`` steps on the 2-D ``function``
    (a name in ``TEST_FUNCTIONS``).  ``optimizers``: ``{name: (class, kwargs)}`` (default: ``default_optimizers()``,
    rates set by the function's ``lr``/``lr_scale`` when ``scale_lr``).  Returns ``{name: (k, 2) float64 array}``
    of the points visited, the start first; a path that leaves the finite numbers stops there."""
    import ember
    from ..backend import np
    spec = _function(function)
    f = spec["f"]
    opts = default_optimizers() if optimizers is None else optimizers
    x0 = spec["start"] if start is None else start
    out = {}
    for name, (cls, kw) in opts.items():
        kw = dict(kw)
        if optimizers is None and scale_lr:
            kw["lr"] = spec["lr"].get(name, kw["lr"] * spec["lr_scale"])
        p = ember.tensor(np.asarray(x0, dtype=np.float64), requires_grad=True)
        opt = cls([p], **kw)

        def closure():
            opt.zero_grad()
            v = f(p[0], p[1])
            v.backward()
            return v
        pts = [p.detach().numpy().copy()]
        for _ in range(int(steps)):
            opt.step(closure)
            q = p.detach().numpy().copy()
            if not np.isfinite(q).all() or np.abs(q).max() > 1e6:
                break
            pts.append(q)
        out[name] = np.stack(pts)
    return out


def path_colour(i: int):
    """Distinct colours for up to 20 paths: tab20's dark shades first, then its light ones."""
    import matplotlib
    return matplotlib.colormaps["tab20"]((2 * i) % 20 + (2 * i) // 20 % 2)


def _contours(ax, spec, n: int = 200):
    from ..backend import np
    xs = np.linspace(*spec["xlim"], n)
    ys = np.linspace(*spec["ylim"], n)
    X, Y = np.meshgrid(xs, ys)
    Z = spec["f"](X, Y)
    if spec["log"]:
        ax.contour(X, Y, np.log10(Z - Z.min() + 1e-3), levels=30, cmap="Greys", linewidths=0.6, alpha=0.55)
    else:
        ax.contour(X, Y, Z, levels=30, cmap="Greys", linewidths=0.6, alpha=0.55)
    for m in spec["minima"]:
        ax.plot(*m, "k*", ms=11)
    ax.plot(*spec["start"], "ko", ms=6, mfc="none")
    ax.set_xlim(*spec["xlim"])
    ax.set_ylim(*spec["ylim"])


def plot_paths(function: str, paths: dict, path=None, title=None):
    """Each optimizer's path (from ``optimizer_paths``) on the function's contours (log-spaced where the function
    spans decades), minima as stars, the start as a ring."""
    from ._plot import pyplot, save_or_return
    plt = pyplot("plot_paths")
    spec = _function(function)
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    _contours(ax, spec)
    for i, (name, pts) in enumerate(paths.items()):
        ax.plot(pts[:, 0], pts[:, 1], "-", color=path_colour(i), lw=1.4, label=f"{name} ({len(pts) - 1} steps)")
        ax.plot(pts[-1, 0], pts[-1, 1], "o", color=path_colour(i), ms=4)
    ax.legend(fontsize=6.5, loc="best", framealpha=0.8)
    ax.set_title(title or f"optimizer paths on {function}")
    return save_or_return(fig, path, "plot_paths")


def animate_paths(function: str, paths: dict, path, frames: int = 40, duration_ms: int = 80, dpi: int = 60):
    """An animated GIF (Pillow) of the optimizers walking their paths together; ``frames`` pictures spread over
    the longest path.  Returns ``path``."""
    from ._plot import pyplot
    from ..backend import np
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("animate_paths needs Pillow, an optional extra: pip install 'ember[vision]'") from None
    if not str(path).lower().endswith(".gif"):
        raise ValueError(f"animate_paths: writes a GIF; expected a path ending in .gif, got {str(path)!r}")
    plt = pyplot("animate_paths")
    spec = _function(function)
    longest = max(len(p) for p in paths.values())
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    _contours(ax, spec, n=120)
    lines = []
    for i, name in enumerate(paths):
        (ln,) = ax.plot([], [], "-", color=path_colour(i), lw=1.4, label=name)
        (pt,) = ax.plot([], [], "o", color=path_colour(i), ms=4)
        lines.append((ln, pt, paths[name]))
    ax.legend(fontsize=6, loc="best", framealpha=0.8)
    title = ax.set_title("")
    images = []
    for k in np.unique(np.linspace(0, longest - 1, int(frames)).astype(int)):
        for ln, pt, pts in lines:
            q = pts[: k + 1]
            ln.set_data(q[:, 0], q[:, 1])
            pt.set_data(q[-1:, 0], q[-1:, 1])
        title.set_text(f"{function}: step {k}")
        fig.set_dpi(dpi)
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        images.append(Image.fromarray(rgba[..., :3].copy()).convert("P", palette=Image.ADAPTIVE, colors=128))
    plt.close(fig)
    images[0].save(path, save_all=True, append_images=images[1:], duration=duration_ms, loop=0, optimize=True)
    return path


def lr_range_test(model, loss_fn, loader, make_optimizer, start_lr: float = 1e-7, end_lr: float = 10.0,
                  num_iter: int = 100, smooth: float = 0.05, diverge: float = 5.0) -> dict:
    """Smith's learning-rate range test: train ``num_iter`` steps with the rate growing exponentially from
    ``start_lr`` to ``end_lr``, recording the loss (exponentially smoothed with weight ``smooth``, bias
    corrected), stopping once it exceeds ``diverge`` times the best.  ``make_optimizer(params, lr)`` builds the
    optimizer; ``loader`` yields (inputs, targets) batches (cycled).  The model's weights and train/eval mode are
    restored afterwards.  Returns ``{"lrs", "losses" (smoothed), "raw_losses", "suggested"}``: the suggested
    rate is where the smoothed loss falls fastest per log-step of the rate (the steepest descent, as
    torch-lr-finder and fastai suggest)."""
    from ..backend import np
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_range_test: need 0 < start_lr < end_lr, got {start_lr}, {end_lr}")
    if num_iter < 3:
        raise ValueError(f"lr_range_test: num_iter must be at least 3, got {num_iter}")
    params = list(model.parameters())
    saved = [p._data.copy() for p in params]
    was = model.training
    opt = make_optimizer(params, start_lr)
    gamma = (end_lr / start_lr) ** (1.0 / (num_iter - 1))
    lrs, raw, smoothed = [], [], []
    avg, best = 0.0, math.inf
    it = iter(loader)
    model.train()
    try:
        for i in range(int(num_iter)):
            lr = start_lr * gamma ** i
            for g in opt.param_groups:
                g["lr"] = lr
            try:
                x, y = next(it)
            except StopIteration:
                it = iter(loader)
                x, y = next(it)
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            v = float(loss.item())
            avg = smooth * v + (1 - smooth) * avg
            s = avg / (1 - (1 - smooth) ** (i + 1))         # bias-corrected (avg starts at 0)
            lrs.append(lr)
            raw.append(v)
            smoothed.append(s)
            if not math.isfinite(v) or s > diverge * best:
                break
            best = min(best, s)
    finally:
        for p, a in zip(params, saved):
            p._data[...] = a
            p._version[0] += 1
            p.grad = None
        model.train(was)
    lrs_a, sm = np.asarray(lrs), np.asarray(smoothed)
    suggested = math.nan
    ok = np.isfinite(sm)
    if ok.sum() >= 3:
        lg = np.log10(lrs_a[ok])
        slope = np.gradient(sm[ok], lg)
        suggested = float(lrs_a[ok][int(np.argmin(slope))])
    return {"lrs": lrs_a, "losses": sm, "raw_losses": np.asarray(raw), "suggested": suggested}


def plot_lr_range(result: dict, path=None, title=None):
    """The range test's smoothed loss against the rate (log axis), the suggested rate marked."""
    from ._plot import pyplot, save_or_return
    plt = pyplot("plot_lr_range")
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ax.plot(result["lrs"], result["raw_losses"], color="lightgrey", lw=0.8, label="loss")
    ax.plot(result["lrs"], result["losses"], lw=1.6, label="smoothed")
    s = result["suggested"]
    if math.isfinite(s):
        ax.axvline(s, color="red", ls="--", lw=1, label=f"suggested {s:.2g}")
    ax.set_xscale("log")
    from ..backend import np
    raw = np.asarray(result["raw_losses"])
    lo, hi = min(float(np.min(result["losses"])), float(np.min(raw[np.isfinite(raw)]))), result["losses"][0]
    ax.set_ylim(lo - 0.1 * abs(hi - lo) - 1e-12, hi + 0.6 * abs(hi - lo) + 1e-12)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.set_title(title or "learning-rate range test")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return save_or_return(fig, path, "plot_lr_range")
