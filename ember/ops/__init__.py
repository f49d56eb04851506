"""Every differentiable op, grouped by kind.  ``ember.ops`` is the flat namespace the Tensor methods and
the public ``ember.*`` functions delegate to; each op's forward, backward and checks live in one file."""
from .elementwise import *  # noqa: F401,F403
from .elementwise import (abs, round, pow, cast, clone, full_like_op, add, sub, mul, div, neg, exp, log, sqrt,
                          relu, sigmoid, tanh, clamp, maximum, minimum, where, eq, ne, lt, le, gt, ge,
                          bitwise_and, bitwise_or, bitwise_xor, bitwise_not, floor_divide, remainder, addcmul,
                          addcdiv, lerp, floor, copy_into)  # noqa: F401
from .reduce import *  # noqa: F401,F403
from .reduce import sum, max, min, all, any  # noqa: F401
from .shape import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .algorithms import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from . import elementwise, reduce, shape, index, linalg, algorithms, special  # noqa: F401
from ._methods import attach as _attach
from . import _raw_backward  # noqa: F401,E402  (the engine's array backwards)

_attach()
