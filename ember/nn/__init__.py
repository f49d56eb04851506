"""Neural-network building blocks with PyTorch's names: ``Module`` and containers, every layer family in
``layers/``, the losses, ``init`` and the functional forms in ``functional`` (imported as ``F``)."""
from .parameter import Parameter, Buffer  # noqa: F401
from .module import Module  # noqa: F401
from .layers.container import *  # noqa: F401,F403
from .layers.linear import *  # noqa: F401,F403
from .layers.activation import *  # noqa: F401,F403
from .layers.dropout import *  # noqa: F401,F403
from .layers.embedding import *  # noqa: F401,F403
from .layers._embedding_bag import *  # noqa: F401,F403
from .layers.conv import *  # noqa: F401,F403
from .layers.pooling import *  # noqa: F401,F403
from .layers.fractional_pool import *  # noqa: F401,F403
from .layers.normalization import *  # noqa: F401,F403
from .layers.cross_map_lrn import *  # noqa: F401,F403
from .layers.recurrent import *  # noqa: F401,F403
from .layers.attention import *  # noqa: F401,F403
from .layers.lazy import *  # noqa: F401,F403
from .layers.adaptive import *  # noqa: F401,F403
from .parameter import UninitializedParameter, UninitializedBuffer  # noqa: F401
from .losses import *  # noqa: F401,F403
from . import init, functional, utils  # noqa: F401
from . import parallel  # noqa: F401,E402 - PyTorch's nn.parallel (DataParallel on ember's one CPU device)
from .parallel import DataParallel  # noqa: F401,E402
from .parallel import SyncBatchNorm  # noqa: F401,E402 - batch statistics over all ranks (ember.distributed)
from . import modules  # noqa: F401,E402 - PyTorch's nn.modules.* paths (e.g. nn.modules.conv.Conv2d)


def __getattr__(name):
    # PyTorch's nn.attention (sdpa_kernel, SDPBackend, bias), imported on first use
    if name == "attention":
        import importlib
        return importlib.import_module(f"{__name__}.attention")
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")
