"""``torch.utils.data._utils``: the helpers scripts import from there (``collate.default_collate``)."""
from . import collate  # noqa: F401
