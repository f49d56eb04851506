"""Fit a damped oscillation's parameters with LBFGS and a strong-Wolfe line search in float64."""
import torch

t = torch.linspace(0, 4, 50, dtype=torch.float64)
target = 1.7 * torch.exp(-0.4 * t) * torch.cos(2.2 * t + 0.3)

params = torch.tensor([1.0, 0.2, 2.0, 0.0], dtype=torch.float64, requires_grad=True)
opt = torch.optim.LBFGS([params], lr=1, max_iter=20, history_size=10, line_search_fn="strong_wolfe")


def model(p):
    return p[0] * torch.exp(-p[1] * t) * torch.cos(p[2] * t + p[3])


def closure():
    opt.zero_grad()
    loss = ((model(params) - target) ** 2).mean()
    loss.backward()
    return loss


for step in range(3):
    loss = opt.step(closure)
    print(f"step {step}: loss {loss.item():.3e}")
print("params", [round(v, 4) for v in params.detach().tolist()])
