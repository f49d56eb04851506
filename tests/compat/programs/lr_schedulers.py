"""The learning rates PyTorch's schedulers produce, epoch by epoch: StepLR, MultiStepLR, ExponentialLR,
CosineAnnealingLR, LambdaLR, OneCycleLR, CyclicLR, ReduceLROnPlateau, LinearLR + SequentialLR."""
import torch
from torch.optim import lr_scheduler


def make(lr=0.1):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)


def trace(sched_fn, steps=8, lr=0.1):
    opt = make(lr)
    sched = sched_fn(opt)
    out = []
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(round(opt.param_groups[0]["lr"], 6))
    return out


print("StepLR", trace(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5)))
print("MultiStepLR", trace(lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5], gamma=0.1)))
print("ExponentialLR", trace(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9)))
print("CosineAnnealingLR", trace(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.01)))
print("LambdaLR", trace(lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda e: 1.0 / (e + 1))))
print("OneCycleLR", trace(lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10)))
print("CyclicLR", trace(lambda o: lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3)))
print("LinearLR+Seq", trace(lambda o: lr_scheduler.SequentialLR(
    o, [lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=3), lr_scheduler.ExponentialLR(o, 0.5)],
    milestones=[3])))

opt = make()
plateau = lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1)
lrs = []
for loss in [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7, 0.8]:
    plateau.step(loss)
    lrs.append(opt.param_groups[0]["lr"])
print("ReduceLROnPlateau", lrs)
s = lr_scheduler.StepLR(make(), step_size=2)
print("state_dict keys", sorted(k for k in s.state_dict() if not k.startswith("_")))
