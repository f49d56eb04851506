"""Custom autograd Functions: the tutorial's LegendrePolynomial3 (save_for_backward) fitted to sin, and a
clamp with a straight-through gradient using ctx attributes and mark_non_differentiable."""
import math

import torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class StraightThroughClamp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        return x.clamp(lo, hi)

    @staticmethod
    def backward(ctx, grad):
        return grad, None, None


class SortWithIndices(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, idx = torch.sort(x)
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        return values, idx

    @staticmethod
    def backward(ctx, g_values, g_idx):
        idx, = ctx.saved_tensors
        grad = torch.zeros_like(g_values)
        grad[idx] = g_values
        return grad


dtype = torch.float64
x = torch.linspace(-math.pi, math.pi, 200, dtype=dtype)
y = torch.sin(x)
a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
learning_rate = 5e-6
for t in range(300):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, f"{loss.item():.4f}")
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= learning_rate * p.grad
            p.grad = None
a_, c_ = round(a.item(), 4) + 0.0, round(c.item(), 4) + 0.0      # + 0.0: no "-0.0000" for a value near 0
print(f"Result: y = {a_:.4f} + {b.item():.4f} * P3({c_:.4f} + {d.item():.4f} x)")

z = torch.tensor([-2.0, 0.5, 3.0], requires_grad=True)
StraightThroughClamp.apply(z, -1.0, 1.0).mul(torch.tensor([1.0, 2.0, 3.0])).sum().backward()
print("straight-through grad", z.grad.tolist())
w = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
vals, idx = SortWithIndices.apply(w)
(vals * torch.tensor([1.0, 10.0, 100.0])).sum().backward()
print("sorted", vals.tolist(), idx.tolist(), idx.requires_grad, "grad", w.grad.tolist())
print("grad_fn", vals.grad_fn.name())
