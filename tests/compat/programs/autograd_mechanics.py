"""The 'Autograd mechanics' and 'A Gentle Introduction to torch.autograd' notes as a program: requires_grad
propagation and is_leaf, gradient accumulation across backward calls, backward with grad_tensors for
non-scalar outputs (and the error without), the saved-tensor version check after an in-place op, in-place
on a leaf that requires grad, torch.autograd.backward on several roots, retain_graph, hooks that replace a
gradient, torch.autograd.functional (jacobian, hessian, vjp, jvp, hvp), freezing part of a model for
finetuning, and the grad of integer/non-differentiable paths (argmax, comparisons, round)."""
import torch
import torch.nn as nn
from torch.autograd.functional import hessian, hvp, jacobian, jvp, vjp

a = torch.tensor([2.0, 3.0], requires_grad=True)
b = torch.tensor([6.0, 4.0], requires_grad=True)
Q = 3 * a ** 3 - b ** 2
external_grad = torch.tensor([1.0, 1.0])
Q.backward(gradient=external_grad)
print("9a^2 == a.grad", (9 * a ** 2 == a.grad).tolist(), "-2b == b.grad", (-2 * b == b.grad).tolist())
print("leaf", a.is_leaf, Q.is_leaf, Q.requires_grad, (a.detach() * 2).requires_grad, (a * 0).requires_grad)
x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)
print("requires_grad", (x + y).requires_grad, (x + z).requires_grad)

w = torch.tensor([1.0, -1.0], requires_grad=True)
for _ in range(3):
    (w * torch.tensor([2.0, 5.0])).sum().backward()
print("accumulated", w.grad.tolist())
w.grad = None
(w ** 2).sum().backward()
print("after reset", w.grad.tolist())
try:
    (w * 2).backward()
except RuntimeError:
    print("non-scalar backward without gradient: RuntimeError")

s = torch.tensor([0.5, 1.0], requires_grad=True)
t = s.sigmoid()
t.mul_(2)
try:
    t.sum().backward()
except RuntimeError:
    print("in-place on a saved tensor: RuntimeError")
try:
    u = s.exp()
    u.add_(1)
    u.sum().backward()
except RuntimeError:
    print("exp saves its output: in-place then backward raises RuntimeError")
u = s * 3
u.add_(1)
u.sum().backward()
print("mul then add_ ok", [round(v, 5) for v in s.grad.tolist()])
try:
    s.add_(1)
except RuntimeError:
    print("in-place on a leaf that requires grad: RuntimeError")
with torch.no_grad():
    s.add_(1)
print("leaf updated under no_grad", s.tolist(), s.requires_grad, s.is_leaf)

p = torch.tensor([1.0, 2.0], requires_grad=True)
r1, r2 = p * 3, p ** 2
torch.autograd.backward([r1.sum(), r2], grad_tensors=[torch.tensor(1.0), torch.tensor([0.5, 0.25])])
print("multi-root backward", p.grad.tolist())
p.grad.zero_()
out = (p * p).sum()
out.backward(retain_graph=True)
out.backward()
print("retain_graph twice", p.grad.tolist())

h = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
mid = h * 2
mid.retain_grad()
handle = mid.register_hook(lambda g: g * torch.tensor([1.0, 0.0, -1.0]))
(mid ** 2).sum().backward()
print("hooked", mid.grad.tolist(), h.grad.tolist())
handle.remove()
h.grad = None
mid = h * 2
(mid ** 2).sum().backward()
print("hook removed", h.grad.tolist())


def f(x):
    return torch.stack([x[0] ** 2 * x[1], torch.sin(x[1]) + x[0]])


x0 = torch.tensor([1.0, 0.5])
print("jacobian", [[round(v, 5) for v in r] for r in jacobian(f, x0).tolist()])
print("hessian", [[round(v, 5) for v in r] for r in hessian(lambda x: (x ** 3).sum() + x[0] * x[1], x0).tolist()])
val, vjp_out = vjp(f, x0, torch.tensor([1.0, -1.0]))
print("vjp", [round(v, 5) for v in val.tolist()], [round(v, 5) for v in vjp_out.tolist()])
val, jvp_out = jvp(f, x0, torch.tensor([0.0, 1.0]))
print("jvp", [round(v, 5) for v in jvp_out.tolist()])
_, hv = hvp(lambda x: (x ** 3).sum(), x0, torch.tensor([1.0, 1.0]))
print("hvp", hv.tolist())
j2 = jacobian(lambda u, v: u * v, (torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])))
print("jacobian of two inputs", [m.tolist() for m in j2])

model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
with torch.no_grad():
    for i, prm in enumerate(model.parameters()):
        prm.copy_(torch.cos(torch.arange(prm.numel(), dtype=torch.float32) + i).view_as(prm))
for param in model.parameters():
    param.requires_grad = False
model[2] = nn.Linear(3, 2)
with torch.no_grad():
    model[2].weight.fill_(0.1)
    model[2].bias.fill_(0.0)
optimizer = torch.optim.SGD(model[2].parameters(), lr=1e-2, momentum=0.9)
inp = torch.arange(8.0).view(2, 4) / 8
loss = model(inp).pow(2).sum()
loss.backward()
print("finetune grads", [n for n, q in model.named_parameters() if q.grad is not None],
      [round(v, 5) for v in model[2].weight.grad.flatten().tolist()])
optimizer.step()
print("trainable", [n for n, q in model.named_parameters() if q.requires_grad])

v = torch.tensor([0.2, 1.7, -0.4], requires_grad=True)
print("argmax", v.argmax().requires_grad, (v > 0).requires_grad, v.round().requires_grad)
(v.round() * 3 + v.floor() + v.sign() + v.abs()).sum().backward()
print("zero-derivative ops", v.grad.tolist())
v.grad = None
torch.where(v > 0, v * 2, v * -3).sum().backward()
print("where grad", v.grad.tolist())
v.grad = None
v.clamp(0.0, 1.0).sum().backward()
print("clamp grad", v.grad.tolist(), "max grad", torch.autograd.grad(torch.stack([v, v.flip(0)]).max(0).values.sum(), v)[0].tolist())
