"""Look inside a network: its autograd graph, the health of its units and gradients, loss landscapes and
optimizer paths.  Drawing needs matplotlib (``pip install 'ember[plot]'``); it is imported only when a picture is
made, so ``import ember.viz`` stays cheap.

    from ember.viz import draw_graph
    draw_graph(loss, params=dict(model.named_parameters())).save("graph.svg")
"""
from .graph import Graph, draw_graph  # noqa: F401

__all__ = ["Graph", "draw_graph"]
