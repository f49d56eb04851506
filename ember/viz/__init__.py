"""Look inside a network: its autograd graph, the health of its units and gradients, loss landscapes and
optimizer paths.  Drawing needs matplotlib (``pip install 'ember[plot]'``); it is imported only when a picture is
made, so ``import ember.viz`` stays cheap.

    from ember.viz import draw_graph
    draw_graph(loss, params=dict(model.named_parameters())).save("graph.svg")
"""
from .graph import Graph, draw_graph  # noqa: F401
from .landscape import (interpolate_1d, random_directions, surface_2d, trajectory_pca,  # noqa: F401
                        plot_interpolation, plot_surface, plot_trajectory)
from .optim_paths import (TEST_FUNCTIONS, optimizer_paths, plot_paths, animate_paths,  # noqa: F401
                          lr_range_test, plot_lr_range)
from .report import write_report  # noqa: F401

__all__ = ["Graph", "draw_graph", "interpolate_1d", "random_directions", "surface_2d", "trajectory_pca",
           "plot_interpolation", "plot_surface", "plot_trajectory", "TEST_FUNCTIONS", "optimizer_paths",
           "plot_paths", "animate_paths", "lr_range_test", "plot_lr_range", "write_report"]
