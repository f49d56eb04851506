"""Interrupt and resume: training 6 epochs straight equals training 3, saving model/optimizer/scheduler
state_dicts to a checkpoint file, rebuilding everything, loading and training 3 more."""
import os
import tempfile

import torch
import torch.nn as nn


def build():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    with torch.no_grad():
        for k, p in enumerate(model.parameters()):
            p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.8 + k).view_as(p) * 0.5)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.8)
    return model, opt, sched


x = torch.cos(torch.arange(16 * 4, dtype=torch.float32).view(16, 4) * 0.37)
y = x.sum(1, keepdim=True).sin()


def train(model, opt, sched, epochs):
    for _ in range(epochs):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
    return loss.item()


m1, o1, s1 = build()
straight = train(m1, o1, s1, 6)
m2, o2, s2 = build()
train(m2, o2, s2, 3)
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "checkpoint.pth")
    torch.save({"epoch": 3, "model": m2.state_dict(), "optimizer": o2.state_dict(), "scheduler": s2.state_dict()},
               path)
    ck = torch.load(path)
m3, o3, s3 = build()
m3.load_state_dict(ck["model"])
o3.load_state_dict(ck["optimizer"])
s3.load_state_dict(ck["scheduler"])
resumed = train(m3, o3, s3, 3)
print("epoch in checkpoint", ck["epoch"])
print("straight", round(straight, 5), "resumed", round(resumed, 5))
print("same weights", all(torch.allclose(a, b) for a, b in zip(m1.parameters(), m3.parameters())))
print("lr", round(o3.param_groups[0]["lr"], 6), "adam step", int(o3.state_dict()["state"][0]["step"]))
