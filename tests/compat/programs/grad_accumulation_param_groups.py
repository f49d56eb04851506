"""Gradient accumulation over micro-batches, per-parameter-group learning rates and weight decay,
clip_grad_value_ and clip_grad_norm_, zero_grad(set_to_none=False), add_param_group."""
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 1.7 + k).view_as(p) * 0.5)
opt = torch.optim.SGD([
    {"params": model[0].parameters(), "lr": 0.05, "weight_decay": 1e-3},
    {"params": model[2].parameters()},
], lr=0.01, momentum=0.9)
print("groups", [(g["lr"], g["weight_decay"], g["momentum"]) for g in opt.param_groups])
x = torch.cos(torch.arange(12 * 3, dtype=torch.float32).view(12, 3))
y = torch.sin(torch.arange(12, dtype=torch.float32)).unsqueeze(1)
accum = 3
for epoch in range(3):
    opt.zero_grad(set_to_none=False)
    for i in range(accum):
        xb, yb = x[i * 4:(i + 1) * 4], y[i * 4:(i + 1) * 4]
        loss = nn.functional.mse_loss(model(xb), yb) / accum
        loss.backward()
    total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
    torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.1)
    opt.step()
    print(f"epoch {epoch} grad norm before clip {total.item():.4f} "
          f"loss {nn.functional.mse_loss(model(x), y).item():.4f}")
extra = nn.Parameter(torch.ones(2))
opt.add_param_group({"params": [extra], "lr": 1.0})
(extra ** 2).sum().backward()
opt.step()
print("added group", len(opt.param_groups), [round(v, 4) for v in extra.tolist()])
print("momentum buffers", sum(1 for s in opt.state.values() if "momentum_buffer" in s))
