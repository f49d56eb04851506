"""``write_report(run_dir)``: one self-contained HTML page for a training run (what ``ember report RUN_DIR``
writes): the config, the learning curves and final numbers (``history.json``), per-layer unit and gradient health
over the epochs (``diagnostics.json`` from ``ember train --diagnose`` / ``HealthRecorder``), and every picture
in the folder (curves, gradient flow, activation histograms, the autograd graph, landscapes, optimizer paths),
embedded as data: URIs.  No scripts and no outside resources, so it opens offline in any browser.
"""
from __future__ import annotations

import base64
import html
import json
import math
import os

__all__ = ["write_report"]

# pictures in the order they are shown, with a caption; any other PNG in the folder follows under its name
_KNOWN = [("curves.png", "Learning curves"), ("gradient_flow.png", "Gradient flow: gradient norm per layer, one line "
          "per epoch"), ("unit_health.png", "Dead ReLU and saturated sigmoid/tanh fractions per layer"),
          ("activations.png", "Activation histograms per layer, one outline per epoch"),
          ("graph.png", "The autograd graph of the model's output"), ("landscape.png", "Loss landscape"),
          ("optimizer_paths.png", "Optimizer comparison")]

_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.bad{background:#fdd}.warn{background:#ffe9b3}figure{margin:1em 0}img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9em;color:#555}pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}"""


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if (abs(v) < 1e-3 or abs(v) >= 1e4) and v != 0 else f"{v:.4f}".rstrip("0").rstrip(".")
    return html.escape(str(v))


def _table(header, rows, classes=None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>"]
    for i, r in enumerate(rows):
        cells = []
        for j, c in enumerate(r):
            cls = classes[i][j] if classes else ""
            cells.append(f"<td{f' class={cls!r}' if cls else ''}>{c if j == 0 else _fmt(c)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(out) + "</table>"


def _img(path: str, caption: str) -> str:
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    mime = "image/gif" if path.lower().endswith(".gif") else "image/png"
    return (f'<figure><img alt="{html.escape(caption)}" src="data:{mime};base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _history_section(run_dir: str) -> str:
    p = os.path.join(run_dir, "history.json")
    if not os.path.isfile(p):
        return "<p>No history.json in this folder (the run did not finish).</p>"
    with open(p, encoding="utf-8") as f:
        hist = json.load(f).get("history", {})
    keys = [k for k in hist if k not in ("time",)]
    n = max((len(v) for v in hist.values()), default=0)
    rows = [[str(e + 1)] + [hist[k][e] if e < len(hist[k]) else None for k in keys] for e in range(n)]
    return _table(["epoch"] + keys, rows)


def _health_section(diag: dict) -> str:
    parts = []
    units = diag.get("units") or {}
    if units:
        epochs = sorted(units, key=int)
        layers = list(units[epochs[-1]])
        rows, classes = [], []
        for layer in layers:
            r = [html.escape(layer), units[epochs[-1]][layer].get("kind") or "-"]
            c = ["", ""]
            for e in epochs:
                rec = units[e].get(layer, {})
                v = rec.get("dead_fraction", rec.get("saturated_fraction"))
                r.append(v)
                c.append("bad" if v is not None and v >= 0.5 else "warn" if v is not None and v >= 0.2 else "")
            rows.append(r)
            classes.append(c)
        parts.append("<h3>Dead (ReLU) or saturated (sigmoid/tanh) fraction per layer and epoch</h3>" +
                     _table(["layer", "kind"] + [f"epoch {int(e) + 1}" for e in epochs], rows, classes))
        last = units[epochs[-1]]
        parts.append(f"<h3>Activations in epoch {int(epochs[-1]) + 1}</h3>" + _table(
            ["layer", "mean", "std", "units", "samples"],
            [[html.escape(k), v.get("mean"), v.get("std"), v.get("units"), v.get("samples")] for k, v in last.items()]))
    grads = diag.get("gradients") or {}
    if grads:
        epochs = sorted(grads, key=int)
        layers = list(grads[epochs[-1]])
        rows, classes = [], []
        for layer in layers:
            r, c = [html.escape(layer)], [""]
            for e in epochs:
                v = grads[e].get(layer, {}).get("grad_norm")
                r.append(v)
                c.append("bad" if v is None or v < 1e-7 or v > 1e3 else "")
            rows.append(r)
            classes.append(c)
        parts.append("<h3>Mean gradient norm per layer and epoch</h3>" +
                     _table(["layer"] + [f"epoch {int(e) + 1}" for e in epochs], rows, classes))
        last = grads[epochs[-1]]
        parts.append(f"<h3>Epoch {int(epochs[-1]) + 1}: gradients and updates</h3>" + _table(
            ["layer", "grad norm", "max grad norm", "update / weight", "weight norm"],
            [[html.escape(k), v.get("grad_norm"), v.get("grad_norm_max"), v.get("update_ratio"), v.get("weight_norm")]
             for k, v in last.items()]))
    return "\n".join(parts) or "<p>No diagnostics recorded.</p>"


def write_report(run_dir, path=None, title: str | None = None) -> str:
    """Write ``report.html`` (or ``path``) for the run in ``run_dir`` and return its path."""
    run_dir = str(run_dir)
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"{run_dir!r} is not a folder (expected a run folder written by "
                                f"ember train)")
    files = set(os.listdir(run_dir))
    if not files & {"history.json", "diagnostics.json", "config.toml"} and not any(f.endswith(".png") for f in files):
        raise FileNotFoundError(f"{run_dir!r} holds no run (no history.json, diagnostics.json, "
                                f"config.toml or pictures)")
    name = title or os.path.basename(os.path.abspath(run_dir))
    body = [f"<h1>Training report: {html.escape(name)}</h1>"]
    if "config.toml" in files:
        with open(os.path.join(run_dir, "config.toml"), encoding="utf-8") as f:
            body.append("<h2>Config</h2><pre>" + html.escape(f.read()) + "</pre>")
    body.append("<h2>Learning curves</h2>" + _history_section(run_dir))
    if "diagnostics.json" in files:
        with open(os.path.join(run_dir, "diagnostics.json"), encoding="utf-8") as f:
            diag = json.load(f)
        body.append("<h2>Unit and gradient health</h2>" + _health_section(diag))
    else:
        body.append("<h2>Unit and gradient health</h2><p>Not recorded: train with <code>ember train CONFIG "
                    "--diagnose</code> (or the <code>HealthRecorder</code> callback) to record it.</p>")
    pics = [(f, c) for f, c in _KNOWN if f in files]
    pics += [(f, f[:-4].replace("_", " ")) for f in sorted(files)
             if f.lower().endswith((".png", ".gif")) and f not in dict(_KNOWN)]
    if pics:
        body.append("<h2>Pictures</h2>" + "\n".join(_img(os.path.join(run_dir, f), c) for f, c in pics))
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><link rel=\"icon\" href=\"data:,\"><title>{html.escape(name)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    out = str(path) if path is not None else os.path.join(run_dir, "report.html")
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, out)
    return out
