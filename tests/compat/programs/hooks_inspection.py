"""Forward hooks collecting activations, forward pre-hooks, full backward hooks, tensor hooks that scale a
gradient, retain_grad, and walking grad_fn.next_functions."""
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) + k).view_as(p))

activations = {}


def save_activation(name):
    def hook(module, inp, out):
        activations[name] = out.detach()
    return hook


handles = [m.register_forward_hook(save_activation(n)) for n, m in model.named_children()]
pre_calls = []
handles.append(model[0].register_forward_pre_hook(lambda m, args: pre_calls.append(tuple(args[0].shape))))
grads = {}
handles.append(model[2].register_full_backward_hook(
    lambda m, gin, gout: grads.update(gin=[g.shape if g is not None else None for g in gin],
                                      gout=[round(g.sum().item(), 4) for g in gout])))

x = torch.tensor([[1.0, -2.0, 0.5], [0.3, 0.2, -0.1]], requires_grad=True)
out = model(x)
hidden = activations["1"]
print("activation keys", sorted(activations))
print("relu output", [[round(v, 4) for v in row] for row in hidden.tolist()])
print("pre-hook saw", pre_calls)
h = x.register_hook(lambda g: g * 2)
out.retain_grad()
loss = out.pow(2).sum()
loss.backward()
print("backward hook", grads["gin"], grads["gout"])
print("x.grad (doubled)", [[round(v, 4) for v in row] for row in x.grad.tolist()])
print("out.grad", [[round(v, 4) for v in row] for row in out.grad.tolist()])
names = []
fn = loss.grad_fn
while fn is not None:
    names.append(fn.name())
    fn = next((f for f, _ in fn.next_functions if f is not None and "Accumulate" not in f.name()), None)
print("chain starts with", names[0])
for hd in handles:
    hd.remove()
h.remove()
model(x)
print("after remove", len(pre_calls))
