"""``ember.version``: what ``torch.version`` answers on a CPU-only build (no CUDA, no HIP)."""
from . import __version__  # noqa: F401

cuda = None
hip = None
git_version = "unknown"
debug = False
