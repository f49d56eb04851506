"""A custom nn.Module with register_buffer (persistent and not), a running-statistics normalizer updated
under torch.no_grad, state_dict keys/ordering/_metadata-free round trip, load_state_dict(strict=False)'s
missing/unexpected keys, strict errors, named_buffers/named_modules/named_children, buffers following
.double(), requires_grad_(False) freezing, train()/eval() flags through children, torch.no_grad vs
torch.inference_mode vs set_grad_enabled vs enable_grad evaluation, and a decorator-form no_grad."""
import io

import torch
import torch.nn as nn


class RunningNorm(nn.Module):
    def __init__(self, n, momentum=0.5):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("var", torch.ones(n))
        self.register_buffer("count", torch.tensor(0, dtype=torch.long))
        self.register_buffer("scratch", torch.zeros(n), persistent=False)

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                m, v = x.mean(0), x.var(0, unbiased=False)
                self.mean.mul_(1 - self.momentum).add_(self.momentum * m)
                self.var.lerp_(v, self.momentum)
                self.count += 1
                self.scratch.copy_(m)
        return (x - self.mean) / torch.sqrt(self.var + 1e-5)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = RunningNorm(3)
        self.body = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
        self.register_parameter("scale", nn.Parameter(torch.ones(2)))
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))

    def forward(self, x):
        return self.body(self.norm(x)) * self.scale


def det(net):
    with torch.no_grad():
        for i, p in enumerate(net.parameters()):
            p.copy_(torch.cos(torch.arange(p.numel(), dtype=torch.float32) + i).view_as(p) * 0.5)


net = Net()
det(net)
print("state_dict keys", list(net.state_dict().keys()))
print("buffers", [n for n, _ in net.named_buffers()], "params", [n for n, _ in net.named_parameters()])
print("modules", [n for n, _ in net.named_modules()], "children", [n for n, _ in net.named_children()])
x = torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [0.0, 4.0, 2.0], [2.0, 2.0, 2.0]])
net.train()
for _ in range(3):
    net.norm(x * 1.5)
print("running", [round(v, 4) for v in net.norm.mean.tolist()], [round(v, 4) for v in net.norm.var.tolist()],
      net.norm.count.item(), net.norm.scratch.tolist())
print("training flags", net.training, net.body[1].training)
net.eval()
print("eval flags", net.training, net.body[1].training, net.norm.training)
with torch.no_grad():
    y_ng = net(x)
with torch.inference_mode():
    y_im = net(x)
print("no_grad", y_ng.requires_grad, "inference_mode", y_im.requires_grad, torch.equal(y_ng, y_im))
print("eval out", [[round(v, 4) for v in r] for r in y_ng.tolist()])
with torch.set_grad_enabled(False):
    print("set_grad_enabled(False)", net(x).requires_grad, torch.is_grad_enabled())
    with torch.enable_grad():
        print("enable_grad inside", net(x).requires_grad)
print("grad enabled again", torch.is_grad_enabled(), net(x).requires_grad)


@torch.no_grad()
def evaluate(model, data):
    return model(data).sum()


print("decorated", evaluate(net, x).requires_grad, round(evaluate(net, x).item(), 4))

buf = io.BytesIO()
torch.save(net.state_dict(), buf)
buf.seek(0)
sd = torch.load(buf)
net2 = Net()
print("fresh count", net2.norm.count.item())
res = net2.load_state_dict(sd)
print("loaded", res.missing_keys, res.unexpected_keys, net2.norm.count.item(), torch.equal(net2.norm.mean, net.norm.mean))
net2.eval()
print("same eval output", torch.equal(net2(x), net(x)), "scratch not saved", net2.norm.scratch.tolist())
partial = {k: v for k, v in sd.items() if not k.startswith("body.2")}
partial["extra.weight"] = torch.zeros(1)
res = net2.load_state_dict(partial, strict=False)
print("strict=False", res.missing_keys, res.unexpected_keys)
try:
    net2.load_state_dict(partial)
except RuntimeError as e:
    print("strict load raises", "Missing key" in str(e), "Unexpected key" in str(e))
bad = dict(sd)
bad["scale"] = torch.ones(3)
try:
    net2.load_state_dict(bad)
except RuntimeError as e:
    print("size mismatch raises", "size mismatch" in str(e))

net.double()
print("double", net.norm.mean.dtype == torch.float64, net.norm.count.dtype == torch.int64,
      net.scale.dtype == torch.float64, net.steps.dtype == torch.int64)
net.float()
net.body.requires_grad_(False)
print("frozen", [n for n, p in net.named_parameters() if p.requires_grad])
out = net(x).sum()
out.backward()
print("grads", [round(v, 5) for v in net.scale.grad.tolist()], net.body[0].weight.grad)
net.norm.register_buffer("late", None)
print("None buffer", "norm.late" in net.state_dict(), [n for n, _ in net.named_buffers()])
del net.norm.scratch
print("after del", [n for n, _ in net.norm.named_buffers()], hasattr(net.norm, "scratch"))
