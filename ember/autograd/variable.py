"""``torch.autograd.variable``: where PyTorch keeps the deprecated ``Variable``."""
from . import Variable  # noqa: F401
