"""Attention from scratch: einsum identities (batched matmul, outer products, traces, transposes, bilinear
forms), scaled dot-product attention written by hand with a causal mask (masked_fill -inf, tril) and checked
against F.scaled_dot_product_attention (is_causal, attn_mask bool/float), a multi-head self-attention module
with split/merge heads (view/transpose/contiguous) checked against nn.MultiheadAttention with the same weights,
and a tiny training loop."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def det(*shape, scale=1.0, phase=0.0):
    n = math.prod(shape)
    return scale * torch.sin(torch.arange(n, dtype=torch.float32) * 0.7 + phase).view(*shape)


def r(t, k=4):
    return [round(v, k) for v in t.flatten().tolist()]


A, B = det(2, 3, 4), det(2, 4, 5, phase=1.0)
print("bmm", torch.allclose(torch.einsum("bij,bjk->bik", A, B), torch.bmm(A, B), atol=1e-6))
v, w = det(3), det(4, phase=2.0)
print("outer", torch.equal(torch.einsum("i,j->ij", v, w), torch.outer(v, w)))
M = det(4, 4)
print("trace", round(torch.einsum("ii", M).item(), 4), round(torch.trace(M).item(), 4))
print("diag", r(torch.einsum("ii->i", M)), "transpose", torch.equal(torch.einsum("ij->ji", M), M.t()))
print("sum all", round(torch.einsum("ijk->", A).item(), 4), "batch dot", r(torch.einsum("bi,bi->b", M, M)))
W = det(3, 4, 4, phase=0.3)
print("bilinear", r(torch.einsum("bn,anm,bm->ba", M[:2], W, M[2:])))
print("ellipsis", tuple(torch.einsum("...ij,...jk->...ik", A, B).shape), r(torch.einsum("b i j -> j", A)))

torch.manual_seed(0)
bsz, T, d_model, n_heads = 2, 5, 8, 2
x = det(bsz, T, d_model, scale=0.5)
q, k, val = x, det(bsz, T, d_model, scale=0.5, phase=0.5), det(bsz, T, d_model, scale=0.5, phase=1.5)


def attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(mask == 0, float("-inf"))
    p_attn = scores.softmax(dim=-1)
    return p_attn @ v, p_attn


causal = torch.tril(torch.ones(T, T))
out, p = attention(q, k, val, causal)
print("attn rows sum to 1", torch.allclose(p.sum(-1), torch.ones(bsz, T)), "upper zero", p[0].triu(1).abs().max().item())
print("attn out", r(out[0, :2]))
sdpa = F.scaled_dot_product_attention(q, k, val, is_causal=True)
print("sdpa causal matches", torch.allclose(out, sdpa, atol=1e-6))
sdpa_bool = F.scaled_dot_product_attention(q, k, val, attn_mask=causal.bool())
print("sdpa bool mask matches", torch.allclose(out, sdpa_bool, atol=1e-6))
bias = torch.zeros(T, T).masked_fill(causal == 0, float("-inf"))
print("sdpa float mask matches", torch.allclose(out, F.scaled_dot_product_attention(q, k, val, attn_mask=bias), atol=1e-6))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, h):
        super().__init__()
        self.h, self.d_k = h, d_model // h
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, causal=False):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.h, self.d_k).transpose(1, 2)
        k = k.view(B, T, self.h, self.d_k).transpose(1, 2)
        v = v.view(B, T, self.h, self.d_k).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        if causal:
            att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y), att.mean(1)


mhsa = MultiHeadSelfAttention(d_model, n_heads)
with torch.no_grad():
    mhsa.qkv.weight.copy_(det(3 * d_model, d_model, scale=0.3))
    mhsa.qkv.bias.copy_(det(3 * d_model, scale=0.05, phase=0.2))
    mhsa.proj.weight.copy_(det(d_model, d_model, scale=0.3, phase=1.1))
    mhsa.proj.bias.zero_()
ref = nn.MultiheadAttention(d_model, n_heads, batch_first=True)
with torch.no_grad():
    ref.in_proj_weight.copy_(mhsa.qkv.weight)
    ref.in_proj_bias.copy_(mhsa.qkv.bias)
    ref.out_proj.weight.copy_(mhsa.proj.weight)
    ref.out_proj.bias.zero_()
mine, my_w = mhsa(x)
theirs, their_w = ref(x, x, x)
print("mha matches", torch.allclose(mine, theirs, atol=1e-5), torch.allclose(my_w, their_w, atol=1e-6))
mine_c, _ = mhsa(x, causal=True)
theirs_c, _ = ref(x, x, x, attn_mask=nn.Transformer.generate_square_subsequent_mask(T), need_weights=False)
print("causal mha matches", torch.allclose(mine_c, theirs_c, atol=1e-5), r(mine_c[1, -1], 3))

target = det(bsz, T, d_model, scale=0.2, phase=3.0)
opt = torch.optim.Adam(mhsa.parameters(), lr=0.01)
for step in range(15):
    opt.zero_grad()
    loss = F.mse_loss(mhsa(x, causal=True)[0], target)
    loss.backward()
    opt.step()
    if step % 5 == 0:
        print("step", step, round(loss.item(), 5))
print("final", round(loss.item(), 5))
