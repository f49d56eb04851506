"""Device-agnostic boilerplate that scripts carry: cuda/mps availability checks, cudnn flags, seeding every
generator, model.to(device), tensors created on `device`, DataParallel when several GPUs exist, autocast
and GradScaler when CUDA is there."""
import random

import numpy as np
import torch
import torch.nn as nn

use_cuda = torch.cuda.is_available()
use_mps = torch.backends.mps.is_available()
device = torch.device("cuda" if use_cuda else "mps" if use_mps else "cpu")
print("device", device, "cuda devices", torch.cuda.device_count())

torch.manual_seed(1)
torch.cuda.manual_seed_all(1)
np.random.seed(1)
random.seed(1)
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False
train_kwargs = {"batch_size": 4}
if use_cuda:
    train_kwargs.update({"num_workers": 1, "pin_memory": True, "shuffle": True})
print("kwargs", train_kwargs)

model = nn.Linear(3, 2)
if torch.cuda.device_count() > 1:
    model = nn.DataParallel(model)
model = model.to(device)
with torch.no_grad():
    model.weight.copy_(torch.tensor([[0.1, 0.2, 0.3], [-0.3, 0.2, -0.1]], device=device))
    model.bias.zero_()
x = torch.arange(6, dtype=torch.float32, device=device).view(2, 3)
y = torch.zeros(2, dtype=torch.long).to(device)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
scaler = torch.cuda.amp.GradScaler(enabled=use_cuda)
for step in range(3):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    print(f"step {step} loss {loss.item():.4f} on {x.device.type}")
print("param device", next(model.parameters()).device)
print("out on cpu", [round(v, 4) for v in model(x).detach().cpu().numpy().ravel().tolist()])
if use_cuda:
    torch.cuda.synchronize()
    print(torch.cuda.memory_allocated())
