"""``ember.nn.functional`` (imported as ``F``): the functional form of every layer, activation and loss.
Each family lives in its own file; this namespace gathers them."""
from ._linear import *  # noqa: F401,F403
from ._activation import *  # noqa: F401,F403
from ._dropout import *  # noqa: F401,F403
from ._embedding import *  # noqa: F401,F403
from ._embedding_bag import *  # noqa: F401,F403
from ._conv import *  # noqa: F401,F403
from ._pool import *  # noqa: F401,F403
from ._fractional_pool import *  # noqa: F401,F403
from ._norm import *  # noqa: F401,F403
from ._attention import *  # noqa: F401,F403
from ._loss import *  # noqa: F401,F403
from ._ctc import *  # noqa: F401,F403
from ...ops import pad, one_hot  # noqa: F401
from ._grid import grid_sample, affine_grid  # noqa: F401
