"""PyTorch's pruning tutorial flow: prune.l1_unstructured / ln_structured / random on a conv and a linear layer,
iterative pruning (a PruningContainer), the forward pre-hook, global_unstructured over several layers,
custom_from_mask, prune.remove, and the state_dict that results."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


model = LeNet()
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.37 + k).view_as(p) * 0.3)

module = model.conv1
print("params before", [n for n, _ in module.named_parameters()])
prune.l1_unstructured(module, name="weight", amount=0.3)
print("params after", [n for n, _ in module.named_parameters()])
print("buffers", [n for n, _ in module.named_buffers()])
print("zeros in weight", int((module.weight == 0).sum()), "of", module.weight.nelement())
print("pre-hooks", len(module._forward_pre_hooks))
prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
print("after ln_structured zeros", int((module.weight == 0).sum()))
hook = next(iter(module._forward_pre_hooks.values()))
print("container", type(hook).__name__, [type(h).__name__ for h in hook])
print("mask rows kept", [int(r) for r in module.weight_mask.sum(dim=(1, 2, 3)).tolist()])
prune.l1_unstructured(module, name="bias", amount=3)
print("bias mask", module.bias_mask.tolist())
print("state_dict keys", list(model.state_dict().keys())[:6])
prune.remove(module, "weight")
print("after remove", [n for n, _ in module.named_parameters()], [n for n, _ in module.named_buffers()])

parameters_to_prune = ((model.conv2, "weight"), (model.fc1, "weight"), (model.fc2, "weight"), (model.fc3, "weight"))
prune.global_unstructured(parameters_to_prune, pruning_method=prune.L1Unstructured, amount=0.2)
for name in ("conv2", "fc1", "fc2", "fc3"):
    w = getattr(model, name).weight
    print(f"sparsity in {name}.weight: {100.0 * float((w == 0).sum()) / float(w.nelement()):.2f}%")
total = sum(float((getattr(model, n).weight == 0).sum()) for n in ("conv2", "fc1", "fc2", "fc3"))
print("global sparsity", round(100.0 * total / sum(getattr(model, n).weight.nelement()
                                                   for n in ("conv2", "fc1", "fc2", "fc3")), 2))
mask = torch.tensor([1.0, 0.0] * 42)
prune.custom_from_mask(model.fc2, name="bias", mask=mask)
print("fc2 bias zeros", int((model.fc2.bias == 0).sum()), prune.is_pruned(model.fc2), prune.is_pruned(nn.ReLU()))

x = torch.cos(torch.arange(2 * 28 * 28, dtype=torch.float32) * 0.01).view(2, 1, 28, 28)
out = model(x)
out.sum().backward()
print("output", [[round(v, 3) for v in row] for row in out.tolist()])
g = model.fc1.weight_orig.grad
print("grad zero where pruned", bool((g[model.fc1.weight_mask == 0] == 0).all()), round(float(g.abs().sum())))
