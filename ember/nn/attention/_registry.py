"""The registry of alternative flash-attention implementations (``torch.nn.attention``'s
``register_flash_attention_impl`` and friends).  PyTorch registers its CUDA FA3/FA4 kernels here; ember has
none, so the list starts empty and only what a program registers itself can be activated."""
from __future__ import annotations

import logging

__all__ = ["register_flash_attention_impl", "activate_flash_attention_impl", "list_flash_attention_impls",
           "current_flash_attention_impl", "restore_flash_attention_impl"]

logger = logging.getLogger(__name__)

_FLASH_ATTENTION_IMPLS: dict = {}
_FLASH_ATTENTION_ACTIVE = None          # (name, handle) of the activated implementation


def register_flash_attention_impl(impl, *, register_fn) -> None:
    """Register ``register_fn``, the callable that activates the implementation named ``impl``."""
    _FLASH_ATTENTION_IMPLS[impl] = register_fn


def activate_flash_attention_impl(impl) -> None:
    """Activate the registered implementation ``impl`` (after restoring the default); a handle its
    ``register_fn`` returns is kept (its ``remove()`` is called by ``restore_flash_attention_impl``)."""
    global _FLASH_ATTENTION_ACTIVE
    restore_flash_attention_impl(_raise_warn=False)
    register_fn = _FLASH_ATTENTION_IMPLS.get(impl)
    if register_fn is None:
        raise ValueError(f"Unknown flash attention impl '{impl}'. Available implementations: "
                         f"{list_flash_attention_impls()}")
    handle = register_fn()
    if handle is not None:
        _FLASH_ATTENTION_ACTIVE = (impl, handle)


def list_flash_attention_impls() -> list:
    """The names of the registered implementations, sorted."""
    return sorted(_FLASH_ATTENTION_IMPLS.keys())


def current_flash_attention_impl():
    """The name of the activated implementation, or None (the default)."""
    return _FLASH_ATTENTION_ACTIVE[0] if _FLASH_ATTENTION_ACTIVE is not None else None


def restore_flash_attention_impl(_raise_warn: bool = True) -> None:
    """Go back to the default implementation (removing the active one's handle)."""
    global _FLASH_ATTENTION_ACTIVE
    handle = _FLASH_ATTENTION_ACTIVE[1] if _FLASH_ATTENTION_ACTIVE is not None else None
    if handle is not None:
        handle.remove()
    elif _raise_warn:
        logger.warning("Trying to restore default FA2 impl when no custom impl was activated")
    _FLASH_ATTENTION_ACTIVE = None
