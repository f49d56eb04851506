"""``torch.utils.hooks``: ``RemovableHandle``, the handle hook registrations return."""
from ember.nn.module import _RemovableHandle as RemovableHandle  # noqa: F401

__all__ = ["RemovableHandle"]
