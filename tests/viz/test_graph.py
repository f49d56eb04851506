"""ember.viz.draw_graph: the autograd graph as torchviz's make_dot draws it (nodes, edges, names), saved as SVG and
PNG with the built-in matplotlib layout (Graphviz is not needed)."""
import subprocess
import sys

import pytest

import ember
import ember.nn as nn
from ember.viz import Graph, draw_graph


def _mlp():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))


def test_nodes_edges_and_parameter_names():
    m = _mlp()
    loss = m(ember.randn(2, 4)).pow(2).mean()
    g = draw_graph(loss, params=dict(m.named_parameters()))
    assert g.labels("op").count("AccumulateGrad") == 4
    assert sorted(g.labels("param")) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    ops = g.labels("op")
    for name in ("MeanBackward0", "TanhBackward0"):
        assert name in ops
    assert ops.count("LinearBackward0") == 1 or ops.count("AddmmBackward0") + ops.count("LinearBackward0") >= 2
    # the same names PyTorch's nodes report, walked through next_functions
    node, seen = loss.grad_fn, []
    while node is not None:
        seen.append(node.name())
        nxt = [f for f, _ in node.next_functions if f is not None and f.name() != "torch::autograd::AccumulateGrad"]
        node = nxt[0] if nxt else None
    assert all(n in ops for n in seen)
    out = [n for n in g.nodes.values() if n["kind"] == "output"]
    assert len(out) == 1 and out[0]["shape"] == () and out[0]["dtype"] == "float32"
    # every edge joins known nodes; the graph is acyclic and ends at the output
    assert all(s in g.nodes and d in g.nodes for s, d, _ in g.edges)
    lay = g.layout()
    assert all(lay[s][1] < lay[d][1] for s, d, _ in g.edges)


def test_shapes_dtypes_and_saved_tensors():
    x = ember.randn(3, 5, dtype=ember.float64, requires_grad=True)
    w = ember.randn(5, 2, dtype=ember.float64, requires_grad=True)
    y = (x @ w).sin()
    g = draw_graph(y, params={"x": x, "w": w})
    mm = y.grad_fn.next_functions[0][0]               # the matmul's node (ember names it MatMulBackward0)
    node = [n for n in g.nodes.values() if n["label"].split("\n")[0] == mm.name()]
    assert len(node) == 1 and node[0]["shape"] == (3, 2) and node[0]["dtype"] == "float64"
    assert node[0]["label"] == mm.name() + "\n(3, 2) float64"
    saved = [n for n in g.nodes.values() if n["kind"] == "saved"]
    shapes = sorted(n["shape"] for n in saved)
    assert (3, 5) in shapes and (5, 2) in shapes               # matmul keeps both inputs; sin keeps its input
    assert any(st == "dashed" for _, _, st in g.edges)
    assert draw_graph(y, show_saved=False).labels("saved") == []
    # unnamed leaves show their shape
    assert any("(3, 5)" in n["label"] for n in draw_graph(y).nodes.values() if n["kind"] == "leaf")


def test_shared_input_and_multiple_roots():
    x = ember.randn(3, requires_grad=True)
    a, b = x * x, x.exp()
    g = draw_graph([a, b], params={"x": x})
    assert len(g.labels("output")) == 2
    assert g.labels("param") == ["x"] and g.labels("op").count("AccumulateGrad") == 1
    mul = [k for k, n in g.nodes.items() if n["label"].startswith("MulBackward0")][0]
    assert sum(1 for s, d, st in g.edges if d == mul and st == "solid") == 1     # x * x: one arrow


def test_module_with_example_input():
    m = _mlp()
    g = draw_graph(m, ember.randn(5, 4))
    assert sorted(g.labels("param")) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert g.nodes[[k for k, n in g.nodes.items() if n["kind"] == "output"][0]]["shape"] == (5, 1)


def test_traced_module_graph():
    m = _mlp()
    g = draw_graph(m, ember.randn(5, 4), mode="trace")
    assert sorted(g.labels("param")) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert g.labels("leaf") == ["input x"]
    ops = [n for n in g.nodes.values() if n["kind"] == "op"]
    assert [n["label"].split("\n")[0] for n in ops] == ["linear", "tanh", "linear"]
    assert [n["shape"] for n in ops] == [(5, 3), (5, 3), (5, 1)]
    out = [k for k, n in g.nodes.items() if n["kind"] == "output"]
    assert len(out) == 1 and g.nodes[out[0]]["shape"] == (5, 1)
    # the first linear takes the input and layer 0's two parameters; tanh takes the first linear
    first = [k for k, n in g.nodes.items() if n["label"].startswith("linear")][0]
    assert sorted(g.nodes[s]["label"].split("\n")[0] for s, d, _ in g.edges if d == first) == \
        ["0.bias", "0.weight", "input x"]
    lay = g.layout()
    assert all(lay[s][1] < lay[d][1] for s, d, _ in g.edges)
    with pytest.raises(TypeError, match="traces a Module"):
        draw_graph(ember.randn(2, requires_grad=True) * 2, mode="trace")
    with pytest.raises(ValueError, match="mode must be"):
        draw_graph(m, ember.randn(1, 4), mode="fx")


def test_errors():
    with pytest.raises(TypeError, match="draw_graph: expected a Tensor"):
        draw_graph(3.0)
    with pytest.raises(TypeError, match="a Module needs an example input"):
        draw_graph(_mlp())
    x = ember.randn(2, requires_grad=True)
    with pytest.raises(ValueError, match="max_nodes=3"):
        draw_graph(x.sin().cos().exp().sum(), max_nodes=3)
    with pytest.raises(ValueError, match="cannot tell the format"):
        draw_graph(x * 2).save("graph.txt")


def test_dot_source_and_files(tmp_path):
    pytest.importorskip("matplotlib")
    m = _mlp()
    g = draw_graph(m(ember.randn(2, 4)).sum(), params=dict(m.named_parameters()))
    src = g.source
    assert src.startswith("digraph {") and src.count("->") == len(g.edges)
    assert 'label="0.weight\\n(3, 4)\\nfloat32" fillcolor=lightblue' in src
    g.save(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == src
    g.save(tmp_path / "g.svg", engine="matplotlib")
    svg = (tmp_path / "g.svg").read_text()
    assert "<svg" in svg and svg.count("AccumulateGrad") >= 1 or "<svg" in svg
    g.save(tmp_path / "g.png", engine="matplotlib")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(g, Graph) and "<svg" in g._repr_svg_()


def test_import_ember_viz_does_not_import_matplotlib():
    code = "import ember, ember.viz, ember.train, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
