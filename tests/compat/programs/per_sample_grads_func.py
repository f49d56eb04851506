"""The 'Per-sample-gradients' tutorial: per-sample gradients of a small CNN-free MLP computed three ways
(a loop of single-sample backward passes, torch.func.grad + vmap over functional_call, and the
'batched loss' trick), compared; plus torch.vmap on plain functions (in_dims, out_dims, nested)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap


class SimpleMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 6)
        self.fc2 = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


model = SimpleMLP()
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(0.4 * torch.sin(torch.arange(p.numel(), dtype=torch.float32).view_as(p) + i))
batch_size = 5
data = torch.cos(torch.arange(batch_size * 8, dtype=torch.float32).view(batch_size, 8) * 0.3)
targets = torch.tensor([0, 2, 1, 1, 0])


def loss_fn(predictions, targets):
    return F.cross_entropy(predictions, targets)


def compute_grad(sample, target):
    sample = sample.unsqueeze(0)
    target = target.unsqueeze(0)
    prediction = model(sample)
    loss = loss_fn(prediction, target)
    return torch.autograd.grad(loss, list(model.parameters()))


def compute_sample_grads(data, targets):
    sample_grads = [compute_grad(data[i], targets[i]) for i in range(batch_size)]
    sample_grads = zip(*sample_grads)
    return [torch.stack(shards) for shards in sample_grads]


per_sample_grads = compute_sample_grads(data, targets)
print("loop shapes", [tuple(g.shape) for g in per_sample_grads])
print("loop fc2.bias", [[round(v, 4) for v in r] for r in per_sample_grads[3].tolist()])

params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}


def compute_loss(params, buffers, sample, target):
    batch = sample.unsqueeze(0)
    targets = target.unsqueeze(0)
    predictions = functional_call(model, (params, buffers), (batch,))
    loss = loss_fn(predictions, targets)
    return loss


ft_compute_grad = grad(compute_loss)
ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)
print("func keys", sorted(ft_per_sample_grads))
for per_sample_grad, ft_per_sample_grad in zip(per_sample_grads, ft_per_sample_grads.values()):
    assert torch.allclose(per_sample_grad, ft_per_sample_grad, atol=3e-3, rtol=1e-5)
print("func matches loop", True)
print("func fc1.weight sum", [round(v, 4) for v in ft_per_sample_grads["fc1.weight"].sum((1, 2)).tolist()])
out = functional_call(model, params, (data,))
print("functional_call", tuple(out.shape), round(out.sum().item(), 4))

summed = torch.autograd.grad(F.cross_entropy(model(data), targets, reduction="sum"), model.fc2.bias)[0]
print("sum of per-sample = batch grad", torch.allclose(summed, per_sample_grads[3].sum(0), atol=1e-5))

x = torch.arange(6.0).view(2, 3)
y = torch.arange(3.0)
print("vmap dot", vmap(torch.dot, in_dims=(0, None))(x, y).tolist())
print("vmap out_dims", tuple(vmap(lambda r: r * 2, out_dims=1)(x).shape))
print("nested vmap", vmap(vmap(lambda a, b: a * b))(x, x + 1).tolist())
print("vmap tuple out", [t.tolist() for t in vmap(lambda r: (r.sum(), r.max()))(x)])
g = grad(lambda t: (t ** 3).sum())(torch.tensor([1.0, 2.0]))
print("grad of cube", g.tolist())
