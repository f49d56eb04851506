"""``torch.nn.attention.bias``: causal attention biases given by their shape instead of a mask tensor.

    bias = causal_lower_right(seq_len_q, seq_len_kv)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)

``causal_upper_left(L, S)`` is ``is_causal=True`` (query i sees keys j <= i); ``causal_lower_right(L, S)``
aligns the triangle to the lower right corner (query i sees keys j <= i + S - L), the masking of decoding
with a key/value cache.  In PyTorch ``CausalBias`` is a ``Tensor`` subclass that intercepts
``scaled_dot_product_attention``; in ember it is a plain object that ``F.scaled_dot_product_attention``
recognises (``isinstance(bias, Tensor)`` is False), and other ops do not accept it -- use
``bias._materialize()`` for the boolean mask.
"""
from __future__ import annotations

import warnings
from enum import IntEnum

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(IntEnum):
    """``UPPER_LEFT``: ``tril(ones(L, S))``; ``LOWER_RIGHT``: ``tril(ones(L, S), diagonal=S - L)``."""

    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias:
    """A causal bias of ``variant`` for ``seq_len_q`` queries and ``seq_len_kv`` keys; pass it as
    ``attn_mask`` of ``F.scaled_dot_product_attention``."""

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"variant must be a CausalVariant, got {type(variant).__name__}")
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            warnings.warn("Lower right causal bias will produce NaNs in the output when seq_len_q > seq_len_kv!",
                          stacklevel=2)

    def _upper_left(self, device):
        from ... import creation, ops
        return ops.tril(creation.ones(self.seq_len_q, self.seq_len_kv, device=device, dtype=bool))

    def _lower_right(self, device):
        from ... import creation, ops
        return ops.tril(creation.ones(self.seq_len_q, self.seq_len_kv, device=device, dtype=bool),
                        diagonal=self.seq_len_kv - self.seq_len_q)

    def _materialize(self, device=None):
        """The bias as a (seq_len_q, seq_len_kv) bool Tensor (True = may attend)."""
        if device is None:
            device = "cpu"
        if self.variant == CausalVariant.UPPER_LEFT:
            return self._upper_left(device)
        if self.variant == CausalVariant.LOWER_RIGHT:
            return self._lower_right(device)

    @staticmethod
    def _dispatch(query, key, value, attn_mask, dropout_p: float = 0.0, is_causal: bool = False, scale=None,
                  enable_gqa: bool = False):
        """``F.scaled_dot_product_attention`` with this bias as its mask: the upper-left variant (or a square
        one) is ``is_causal=True``; the lower-right one runs with the materialized mask, as PyTorch does on
        the CPU."""
        from ..functional import scaled_dot_product_attention as sdpa
        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        if attn_mask.seq_len_q == attn_mask.seq_len_kv or attn_mask.variant == CausalVariant.UPPER_LEFT:
            return sdpa(query, key, value, attn_mask=None, dropout_p=dropout_p, is_causal=True, scale=scale,
                        enable_gqa=enable_gqa)
        if attn_mask.variant == CausalVariant.LOWER_RIGHT:
            return sdpa(query, key, value, attn_mask=attn_mask._materialize(query.device), dropout_p=dropout_p,
                        is_causal=False, scale=scale, enable_gqa=enable_gqa)
        raise ValueError(f"CausalBias.variant must be a CausalVariant type, but found: {attn_mask.variant}")

    def __repr__(self) -> str:
        return self._materialize().__repr__()


def causal_upper_left(*size) -> CausalBias:
    """The upper-left causal bias of ``size`` (seq_len_q, seq_len_kv): ``is_causal=True``'s mask."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    seq_len_q, seq_len_kv = size
    return CausalBias(CausalVariant.UPPER_LEFT, seq_len_q, seq_len_kv)


def causal_lower_right(*size) -> CausalBias:
    """The lower-right causal bias of ``size`` (seq_len_q, seq_len_kv): query i sees keys
    j <= i + seq_len_kv - seq_len_q."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    seq_len_q, seq_len_kv = size
    return CausalBias(CausalVariant.LOWER_RIGHT, seq_len_q, seq_len_kv)
