"""Shared by the drawing functions: matplotlib imported on first use, files only (no display needed)."""
from __future__ import annotations


def pyplot(who: str):
    """matplotlib.pyplot with a file-only backend, or an ImportError naming ``who`` and the extra to install."""
    try:
        import matplotlib
        if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf", "module://matplotlib_inline.backend_inline"):
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(f"{who} needs matplotlib, an optional extra: pip install 'ember[plot]'") from None
    return plt


def save_or_return(fig, path, who: str, dpi: int = 100):
    """Save ``fig`` to ``path`` (format from the suffix) and close it, or return it when ``path`` is None."""
    if path is None:
        return fig
    import os
    suffix = os.path.splitext(str(path))[1].lower().lstrip(".")
    if suffix not in ("png", "svg", "pdf", "jpg", "jpeg"):
        raise ValueError(f"{who}: cannot tell the picture format from {str(path)!r}; expected a path ending in "
                         f".png, .svg, .pdf or .jpg")
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path
