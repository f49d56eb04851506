"""``draw_graph``: the autograd graph behind a tensor, as torchviz's ``make_dot`` draws it.

Nodes, as torchviz colours them: the output tensor (green), one box per backward node (its PyTorch name, e.g.
``MulBackward0``, with the shape and dtype it produced), the leaves that require grad (blue: the parameter's name
when ``params`` is given, else its shape), and the tensors that backward saved (orange, dashed edge into the node
that keeps them).  Edges run from inputs to the output, along ``grad_fn.next_functions``.

Graphviz's ``dot`` lays the graph out when it is installed; otherwise a built-in layered layout (longest-path
layers, crossings reduced by barycentre sweeps) draws it with matplotlib, so it always works offline.
"""
from __future__ import annotations

import os
import shutil
import subprocess

__all__ = ["Graph", "draw_graph"]

_COLOURS = {"output": "darkolivegreen1", "op": "lightgrey", "param": "lightblue", "saved": "orange",
            "leaf": "lightblue"}
_MPL_COLOURS = {"output": "#caff70", "op": "#d3d3d3", "param": "#add8e6", "saved": "#ffa500", "leaf": "#add8e6"}


def _size(shape) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def _dtype_name(dt) -> str:
    return str(getattr(dt, "name", dt))


class Graph:
    """An autograd graph ready to draw.  ``nodes``: ``{id: {"label", "kind", "shape", "dtype"}}`` with ``kind``
    one of output/op/param/leaf/saved; ``edges``: ``(src, dst, style)`` with style "solid" or "dashed" (a saved
    tensor).  ``source`` is the Graphviz DOT text; ``save(path)`` writes .svg, .png, .pdf or .dot."""

    def __init__(self, nodes: dict, edges: list) -> None:
        self.nodes = nodes
        self.edges = edges

    # -- queries -------------------------------------------------------------------------------------------
    def labels(self, kind: str | None = None) -> list:
        """The first line of each node's label (its name), of one ``kind`` or all."""
        return [n["label"].split("\n")[0] for n in self.nodes.values() if kind is None or n["kind"] == kind]

    def __repr__(self) -> str:
        return f"Graph({len(self.nodes)} nodes, {len(self.edges)} edges)"

    @property
    def source(self) -> str:
        """The graph in Graphviz's DOT language (what torchviz hands to ``dot``)."""
        lines = ["digraph {", '\tgraph [size="12,12"]',
                 '\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]']
        for nid, n in self.nodes.items():
            label = n["label"].replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            lines.append(f'\t{nid} [label="{label}" fillcolor={_COLOURS[n["kind"]]}]')
        for s, d, style in self.edges:
            lines.append(f"\t{s} -> {d}" + (" [style=dashed]" if style == "dashed" else ""))
        lines.append("}")
        return "\n".join(lines) + "\n"

    # -- drawing -------------------------------------------------------------------------------------------
    def save(self, path, engine: str = "auto", dpi: int = 120):
        """Write the picture to ``path`` (.svg, .png, .pdf, or .dot for the DOT text).  ``engine``: "auto"
        (Graphviz's ``dot`` when installed, else matplotlib), "dot" or "matplotlib".  Returns ``path``."""
        fmt = os.path.splitext(str(path))[1].lower().lstrip(".")
        if fmt not in ("svg", "png", "pdf", "dot", "gv"):
            raise ValueError(f"Graph.save: cannot tell the format from {str(path)!r}; expected a path ending in "
                             f".svg, .png, .pdf or .dot")
        if engine not in ("auto", "dot", "matplotlib"):
            raise ValueError(f"Graph.save: engine must be 'auto', 'dot' or 'matplotlib', got {engine!r}")
        if fmt in ("dot", "gv"):
            with open(path, "w") as f:
                f.write(self.source)
            return path
        dot = shutil.which("dot")
        if engine == "dot" and dot is None:
            raise RuntimeError("Graph.save: engine='dot' but Graphviz's dot is not installed (apt install graphviz);"
                               " use engine='matplotlib' or 'auto'")
        if dot is not None and engine != "matplotlib":
            subprocess.run([dot, f"-T{fmt}", "-o", str(path)], input=self.source.encode(), check=True,
                           capture_output=True)
            return path
        fig = self.figure()
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        import matplotlib.pyplot as plt
        plt.close(fig)
        return path

    def _repr_svg_(self) -> str:          # Jupyter shows the graph inline
        import io
        fig = self.figure()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight")
        import matplotlib.pyplot as plt
        plt.close(fig)
        return buf.getvalue()

    def layout(self) -> dict:
        """The built-in layered layout: ``{id: (x, layer)}``, layer 0 at the top (the sources), the output at
        the bottom, x the position within the layer (barycentre ordering to reduce crossings)."""
        ids = list(self.nodes)
        preds = {i: [] for i in ids}
        succs = {i: [] for i in ids}
        for s, d, _ in self.edges:
            preds[d].append(s)
            succs[s].append(d)
        # longest path from the sinks, so that the output is the deepest layer and sources sit as low as they can
        depth: dict = {}

        def height(n, stack=()):
            if n in depth:
                return depth[n]
            depth[n] = 0
            depth[n] = 0 if not succs[n] else 1 + max(height(s) for s in succs[n])
            return depth[n]

        import sys
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 10 * len(ids) + 100))
        try:
            for n in ids:
                height(n)
        finally:
            sys.setrecursionlimit(old)
        top = max(depth.values(), default=0)
        layer = {n: top - depth[n] for n in ids}
        rows: dict = {}
        for n in ids:
            rows.setdefault(layer[n], []).append(n)
        pos = {n: float(i) for r in rows.values() for i, n in enumerate(r)}
        for sweep in range(8):
            order = sorted(rows) if sweep % 2 == 0 else sorted(rows, reverse=True)
            for r in order:
                nb = preds if sweep % 2 == 0 else succs

                def key(n):
                    xs = [pos[m] for m in nb[n]]
                    return sum(xs) / len(xs) if xs else pos[n]
                rows[r].sort(key=key)
                for i, n in enumerate(rows[r]):
                    pos[n] = float(i)
        width = max(len(r) for r in rows.values()) if rows else 1
        out = {}
        for r, ns in rows.items():
            off = (width - len(ns)) / 2.0
            for i, n in enumerate(ns):
                out[n] = (off + i, r)
        return out

    def figure(self):
        """A matplotlib Figure of the graph in the built-in layered layout."""
        from ._plot import pyplot
        plt = pyplot("Graph.figure")
        from matplotlib.patches import FancyBboxPatch
        lay = self.layout()
        width = max((x for x, _ in lay.values()), default=0) + 1
        layers = max((r for _, r in lay.values()), default=0) + 1
        sx, sy = 2.6, 1.1
        fig, ax = plt.subplots(figsize=(max(3.0, width * sx * 0.85), max(2.0, layers * sy * 0.85)))
        ax.set_xlim(-0.7 * sx, (width - 0.3) * sx)
        ax.set_ylim(-(layers - 0.4) * sy, 0.6 * sy)
        ax.axis("off")
        centre = {n: (x * sx, -r * sy) for n, (x, r) in lay.items()}
        for s, d, style in self.edges:
            (x0, y0), (x1, y1) = centre[s], centre[d]
            ax.annotate("", xy=(x1, y1 + 0.3 * sy), xytext=(x0, y0 - 0.3 * sy),
                        arrowprops=dict(arrowstyle="-|>", color="#555555", lw=0.9,
                                        linestyle="--" if style == "dashed" else "-", shrinkA=0, shrinkB=0))
        for n, (x, y) in centre.items():
            node = self.nodes[n]
            w, h = 0.92 * sx, 0.56 * sy
            ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                        facecolor=_MPL_COLOURS[node["kind"]], edgecolor="#333333", lw=0.8))
            ax.text(x, y, node["label"], ha="center", va="center", fontsize=7, family="monospace")
        return fig


def _collect(roots, params, show_saved: bool, max_nodes: int) -> Graph:
    from ..tensor import Tensor
    names = {}
    for k, v in (params or {}).items():
        if not isinstance(v, Tensor):
            raise TypeError(f"draw_graph: params must map names to tensors, got {type(v).__name__} for {k!r}")
        names[id(v)] = k
    nodes: dict = {}
    edges: list = []
    seen = set()

    def nid(obj) -> str:
        return f"n{id(obj):x}"

    def leaf_label(t) -> str:
        name = names.get(id(t))
        head = name if name is not None else ""
        return (head + "\n" if head else "") + f"{_size(t.shape)}\n{_dtype_name(t._data.dtype)}"

    def add_saved(fn, key):
        saved = getattr(fn, "_saved", ()) or ()
        if getattr(fn, "_freed", False):
            return
        for i, s in enumerate(saved):
            t = getattr(s, "tensor", None)
            arr = getattr(s, "array", None)
            if arr is None:
                if not isinstance(s, Tensor):
                    continue
                t, arr = s, s._data
            if not hasattr(arr, "shape"):
                continue
            sid = f"s{id(arr):x}"
            if sid not in nodes:
                name = names.get(id(t)) if t is not None else None
                head = f"saved {i}" + (f": {name}" if name else "")
                nodes[sid] = {"label": f"{head}\n{_size(arr.shape)}\n{_dtype_name(arr.dtype)}", "kind": "saved",
                              "shape": tuple(arr.shape), "dtype": _dtype_name(arr.dtype)}
            edges.append((sid, key, "dashed"))

    def visit(fn):
        stack = [fn]
        while stack:
            f = stack.pop()
            if id(f) in seen:
                continue
            seen.add(id(f))
            if len(nodes) > max_nodes:
                raise ValueError(f"draw_graph: the graph has more than max_nodes={max_nodes} nodes; pass a larger "
                                 f"max_nodes to draw it anyway")
            key = nid(f)
            if type(f).__name__ == "AccumulateGrad":
                var = f.variable
                label = "AccumulateGrad"
                nodes[key] = {"label": label, "kind": "op", "shape": None, "dtype": None}
                if var is not None:
                    vid = f"v{id(var):x}"
                    nodes[vid] = {"label": leaf_label(var), "kind": "param" if id(var) in names else "leaf",
                                  "shape": tuple(var.shape), "dtype": _dtype_name(var._data.dtype)}
                    edges.append((vid, key, "solid"))
                continue
            meta = getattr(f, "_out_meta", None) or []
            extra = "".join(f"\n{_size(s)} {_dtype_name(d)}" for s, d in meta[:2])
            nodes[key] = {"label": f.name() + extra, "kind": "op",
                          "shape": tuple(meta[0][0]) if meta else None,
                          "dtype": _dtype_name(meta[0][1]) if meta else None}
            if show_saved:
                add_saved(f, key)
            for nxt, _ in f.next_functions:
                if nxt is None:
                    continue
                edges.append((nid(nxt), key, "solid"))
                stack.append(nxt)

    for i, t in enumerate(roots):
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: expected a Tensor (or a tuple/list of them), got {type(t).__name__}")
        oid = f"o{id(t):x}"
        nodes[oid] = {"label": f"output{'' if len(roots) == 1 else ' ' + str(i)}\n{_size(t.shape)}\n"
                               f"{_dtype_name(t._data.dtype)}", "kind": "output",
                      "shape": tuple(t.shape), "dtype": _dtype_name(t._data.dtype)}
        if t.grad_fn is not None:
            visit(t.grad_fn)
            edges.append((nid(t.grad_fn), oid, "solid"))
        elif t.requires_grad:
            nodes[oid]["label"] = leaf_label(t) if id(t) in names else nodes[oid]["label"]
    # one edge per pair (a node used twice by one op, e.g. x * x, draws one arrow as dot does)
    uniq, seen_e = [], set()
    for e in edges:
        if e not in seen_e:
            seen_e.add(e)
            uniq.append(e)
    return Graph(nodes, uniq)


def _traced(model, inputs, max_nodes: int) -> Graph:
    """The forward graph ``ember.jit.trace`` records: inputs, parameters/buffers by name, one node per op call
    (with its output shapes and dtypes), the outputs."""
    from ..jit import trace_graph
    tg, _, _ = trace_graph(model, inputs)
    if len(tg.nodes) > max_nodes:
        raise ValueError(f"draw_graph: the graph has more than max_nodes={max_nodes} nodes; pass a larger "
                         f"max_nodes to draw it anyway")
    nodes: dict = {}
    edges: list = []
    key = {}

    def meta(v) -> dict:
        return {"shape": tuple(v.shape), "dtype": _dtype_name(v.dtype)}
    for v in tg.inputs:
        key[id(v)] = f"i_{v.name}"
        nodes[key[id(v)]] = {"label": f"input {v.name}\n{_size(v.shape)}\n{_dtype_name(v.dtype)}", "kind": "leaf",
                             **meta(v)}
    for name, v in tg.params.items():
        key[id(v)] = f"p_{v.name}"
        nodes[key[id(v)]] = {"label": f"{name}\n{_size(v.shape)}\n{_dtype_name(v.dtype)}", "kind": "param",
                             **meta(v)}
    for v in tg.const_values.values():
        key[id(v)] = f"c_{v.name}"
        nodes[key[id(v)]] = {"label": f"constant\n{_size(v.shape)}\n{_dtype_name(v.dtype)}", "kind": "saved",
                             **meta(v)}
    for n in tg.nodes:
        k = f"n_{n.name}"
        outs = "".join(f"\n{_size(o.shape)} {_dtype_name(o.dtype)}" for o in n.outputs[:2])
        nodes[k] = {"label": n.target + outs, "kind": "op", "shape": tuple(n.outputs[0].shape) if n.outputs else None,
                    "dtype": _dtype_name(n.outputs[0].dtype) if n.outputs else None}
        for o in n.outputs:
            key[id(o)] = k
        for v in n.input_values():
            e = (key[id(v)], k, "solid")
            if e not in edges:
                edges.append(e)
    outs = tg.output_values()
    for i, v in enumerate(outs):
        ok = f"o_{i}"
        nodes[ok] = {"label": f"output{'' if len(outs) == 1 else ' ' + str(i)}\n{_size(v.shape)}\n"
                              f"{_dtype_name(v.dtype)}", "kind": "output", **meta(v)}
        edges.append((key[id(v)], ok, "solid"))
    return Graph(nodes, edges)


def draw_graph(root, example_input=None, params=None, show_saved: bool = True, path=None, engine: str = "auto",
               max_nodes: int = 2000, mode: str = "autograd") -> Graph:
    """The autograd graph that produced ``root`` (a Tensor, or a list/tuple of them), as torchviz's ``make_dot``.

    ``params``: ``dict(model.named_parameters())`` names the leaves; ``show_saved``: draw the tensors backward
    keeps (orange).  ``draw_graph(model, example_input)`` runs the model on the input and draws the autograd
    graph of its output(s) with the parameters named, or with ``mode="trace"`` the forward graph that
    ``ember.jit.trace`` records (inputs, parameters by name, one node per op call with its output shape and
    dtype).  ``path``: also write the picture (.svg, .png, .pdf or .dot; see ``Graph.save`` for ``engine``).
    Returns a ``Graph``."""
    from ..nn.module import Module
    if mode not in ("autograd", "trace"):
        raise ValueError(f"draw_graph: mode must be 'autograd' or 'trace', got {mode!r}")
    if isinstance(root, Module):
        if example_input is None:
            raise TypeError("draw_graph(model, example_input): a Module needs an example input to run")
        inputs = example_input if isinstance(example_input, tuple) else (example_input,)
        if mode == "trace":
            g = _traced(root, inputs, max_nodes)
            if path is not None:
                g.save(path, engine=engine)
            return g
        from ..autograd.grad_mode import enable_grad
        with enable_grad():
            out = root(*inputs)
        named = dict(root.named_parameters())
        if params:
            named.update(params)
        params = named
        root = out
    elif example_input is not None:
        raise TypeError(f"draw_graph: example_input is only for a Module, got a {type(root).__name__} root")
    elif mode == "trace":
        raise TypeError("draw_graph(mode='trace') traces a Module: pass the model and an example input")
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    if not roots:
        raise ValueError("draw_graph: no tensors to draw")
    g = _collect(roots, params, show_saved, max_nodes)
    if path is not None:
        g.save(path, engine=engine)
    return g
