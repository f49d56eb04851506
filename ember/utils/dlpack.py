"""``torch.utils.dlpack``'s names: ``from_dlpack`` and ``to_dlpack`` (see ``ember.dlpack``)."""
from ..dlpack import from_dlpack, to_dlpack  # noqa: F401

__all__ = ["from_dlpack", "to_dlpack"]
