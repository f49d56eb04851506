"""Whether ``F.scaled_dot_product_attention`` may run under the enabled backends, decided as PyTorch decides
on the CPU (``sdp_utils_cpp``): the math kernel runs anything; the CPU flash kernel only inputs that pass its
checks, and when it is the only one enabled, a failed check warns why and raises.  ember computes every
accepted call with its one (math) kernel."""
from __future__ import annotations

import warnings

__all__ = ["check_backends"]

_NO_VIABLE = ("No viable backend for scaled_dot_product_attention was found. This is likely due to turning off "
              "both the math kernel and the fused kernels.")
_BROADCAST = "To broadcast dense inputs, try using unsqueeze and expand_to before passing them into the kernel."


def check_backends(query, key, value, attn_mask, dropout_p, enable_gqa) -> None:
    """Raise ``RuntimeError`` as PyTorch on the CPU when no enabled backend can run this call."""
    from ...backends import cuda
    if cuda.math_sdp_enabled():
        return
    if query.numel() == 0 or key.numel() == 0 or value.numel() == 0:     # PyTorch returns before choosing
        return
    if not cuda.flash_sdp_enabled():
        raise RuntimeError(_NO_VIABLE)
    reason = _flash_refusal(query, key, value, attn_mask, dropout_p, enable_gqa)
    if reason is not None:
        warnings.warn("Flash attention kernel not used because:", UserWarning, stacklevel=3)
        warnings.warn(reason, UserWarning, stacklevel=3)
        raise RuntimeError("No available kernel.  Aborting execution.")


def _flash_refusal(q, k, v, attn_mask, dropout_p, enable_gqa):
    """Why PyTorch's CPU flash kernel refuses these inputs (its message), or None."""
    if dropout_p > 0.0:
        return "Both fused kernels do not support non-zero dropout."
    if not (q.dim() == k.dim() == v.dim() == 4):
        return (f"All fused kernels requires query, key and value to be 4 dimensional, but got Query dim: "
                f"{q.dim()}, Key dim: {k.dim()}, Value dim: {v.dim()} instead.")
    qs, ks, vs = list(q.shape), list(k.shape), list(v.shape)
    if not (qs[0] == ks[0] == vs[0]):
        return (f"For dense inputs, both fused kernels require query, key and value to have the same batch_size. "
                f"Query.sizes(): {qs}, Key.sizes(): {ks}, Value.sizes(): {vs} instead. {_BROADCAST}")
    heads_ok = qs[1] == ks[1] == vs[1] or (enable_gqa and ks[1] == vs[1] and ks[1] and qs[1] % ks[1] == 0)
    if not heads_ok:
        return (f"For dense input, both fused kernels require query, key and value to have the same num_heads. "
                f"Query.sizes(): {qs}, Key sizes(): {ks}, Value sizes(): {vs} instead. {_BROADCAST}")
    if attn_mask is not None:
        B, H, L, S = qs[0], qs[1], qs[2], ks[2]
        ms = list(attn_mask.shape)
        want = {2: [(L, 1), (S, 1)], 4: [(B, 1), (H, 1), (L, 1), (S, 1)]}.get(len(ms))
        if want is None or any(d not in w for d, w in zip(ms, want)):
            return ("Please use the following attn mask shapes: 2d - ({Q_seq_len, 1}  x {KV_seq_len, 1}); 4d - "
                    "({Batch, 1} x {Num_heads, 1} x {Q_seq_len, 1}  x {KV_seq_len, 1})")
    if not (qs[3] == ks[3] == vs[3]):
        return (f"Flash attention requires q,k,v to have the same last dimension. Got Query.size(-1): {qs[3]}, "
                f"Key.size(-1): {ks[3]}, Value.size(-1): {vs[3]} instead.")
    strides = (q.stride(-1), k.stride(-1), v.stride(-1))
    if strides != (1, 1, 1):
        return (f"All fused kernels require the last dimension of the input to have stride 1. Got "
                f"Query.stride(-1): {strides[0]}, Key.stride(-1): {strides[1]}, Value.stride(-1): {strides[2]}")
    return None
