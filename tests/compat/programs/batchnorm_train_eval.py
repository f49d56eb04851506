"""BatchNorm1d/2d running statistics in train and eval mode, momentum=None (cumulative average), Dropout
identity in eval, requires_grad_(False) to freeze a layer, and model.training flags."""
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 2))
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.7 + k).view_as(p))
x = torch.cos(torch.arange(8 * 4, dtype=torch.float32).view(8, 4) * 0.4)
model[3].p = 0.0                     # deterministic training step
model[0].requires_grad_(False)
opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
for step in range(3):
    opt.zero_grad()
    loss = model(x).pow(2).mean()
    loss.backward()
    opt.step()
    print(f"step {step} loss {loss.item():.4f} frozen grad {model[0].weight.grad}")
bn = model[1]
print("running_mean", [round(v, 4) for v in bn.running_mean.tolist()])
print("running_var", [round(v, 4) for v in bn.running_var.tolist()])
print("num_batches_tracked", bn.num_batches_tracked.item())
model[3].p = 0.5
model.eval()
print("training flags", [m.training for m in model])
with torch.no_grad():
    print("eval out", [round(v, 4) for v in model(x[:2]).view(-1).tolist()])

bn2 = nn.BatchNorm2d(3, momentum=None, affine=False)
for i in range(3):
    bn2(torch.sin(torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).view(2, 3, 2, 2) * (i + 1)))
print("cumulative mean", [round(v, 4) for v in bn2.running_mean.tolist()])
print("state keys", list(bn2.state_dict().keys()))
