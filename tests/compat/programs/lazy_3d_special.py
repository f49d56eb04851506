"""Volumetric and "special" odds and ends: a 3-D CNN whose first convolution and head are lazy
(nn.LazyConv3d / nn.LazyLinear infer in_channels / in_features on the first call and become Conv3d / Linear),
with nn.Conv3d, nn.BatchNorm3d and nn.MaxPool3d on a small (N, C, D, H, W) input, weights set after the dry
run, a few SGD steps; nn.RMSNorm (with and without eps / affine), nn.EmbeddingBag (mean/sum/max with offsets,
per_sample_weights, padding_idx), torch.special functions and their gradients, and torch.finfo / torch.iinfo."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def det_(module, scale=0.5):
    with torch.no_grad():
        for i, (name, p) in enumerate(module.named_parameters()):
            fan_in = p[0].numel() if p.dim() > 1 else 1
            p.copy_(scale * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.71 + i).view_as(p) / fan_in ** 0.5)


class Vol3DNet(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.conv1 = nn.LazyConv3d(4, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm3d(4)
        self.pool = nn.MaxPool3d(2)
        self.conv2 = nn.Conv3d(4, 6, kernel_size=(1, 3, 3), padding=(0, 1, 1), bias=False)
        self.bn2 = nn.BatchNorm3d(6)
        self.head = nn.LazyLinear(n_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.head(torch.flatten(x, 1))


d = torch.arange(6, dtype=torch.float32)
vol = torch.sin(d.view(6, 1, 1) * 0.9 + d.view(1, 6, 1) * 0.5 + d.view(1, 1, 6) * 0.3)
X = torch.stack([torch.stack([vol * (1 + 0.1 * k), torch.cos(vol * (k + 1))]) for k in range(6)])  # (6, 2, 6, 6, 6)
y = torch.tensor([0, 1, 2, 0, 1, 2])
model = Vol3DNet()
print("before", type(model.conv1).__name__, type(model.head).__name__, model.head.weight.__class__.__name__)
with torch.no_grad():
    model(X[:1])
print("after", type(model.conv1).__name__, tuple(model.conv1.weight.shape), type(model.head).__name__,
      tuple(model.head.weight.shape), model.conv1.in_channels, model.head.in_features)
det_(model)
for m in model.modules():          # the dry run (train mode) updated the running stats with the random weights
    if isinstance(m, nn.BatchNorm3d):
        m.reset_running_stats()
print("state", [(k, tuple(v.shape)) for k, v in model.state_dict().items()][:6])
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for step in range(5):
    opt.zero_grad()
    loss = F.cross_entropy(model(X), y)
    loss.backward()
    opt.step()
    print("step %d loss %.4f" % (step, loss.item()))
model.eval()
with torch.no_grad():
    logits = model(X)
print("eval", [round(v, 4) for v in logits[0].tolist()], logits.argmax(1).tolist(),
      "bn running", [round(v, 4) for v in model.bn1.running_var.tolist()], int(model.bn2.num_batches_tracked))
out, idx = F.max_pool3d(X[:1, :1], 2, return_indices=True)
print("maxpool3d idx", tuple(out.shape), idx.flatten()[:6].tolist(), [round(v, 4) for v in F.avg_pool3d(X[:1], 3, stride=2).flatten()[:3].tolist()])

# RMSNorm
h = torch.sin(torch.arange(2 * 3 * 8, dtype=torch.float32).view(2, 3, 8) * 0.37) * 3
rms = nn.RMSNorm(8)
with torch.no_grad():
    rms.weight.copy_(torch.linspace(0.5, 1.5, 8))
r = rms(h)
print("rmsnorm", [round(v, 4) for v in r[0, 0].tolist()], "unit rms", round(r[1, 2].div(rms.weight).pow(2).mean().item(), 4))
r2 = nn.RMSNorm([3, 8], eps=1e-3, elementwise_affine=False)(h)
print("rmsnorm 2-d", [round(v, 4) for v in r2[1, 1, :4].tolist()], [n for n, _ in nn.RMSNorm([3, 8]).named_parameters()])
hg = h.clone().requires_grad_()
rms(hg).pow(2).sum().backward()
print("rmsnorm grads", [round(v, 4) for v in hg.grad[0, 0, :4].tolist()], [round(v, 4) for v in rms.weight.grad[:4].tolist()])

# EmbeddingBag
r5 = lambda t: [[round(v, 5) for v in row] for row in t.tolist()]
bag = nn.EmbeddingBag(10, 4, mode="mean")
with torch.no_grad():
    bag.weight.copy_(torch.arange(40, dtype=torch.float32).view(10, 4) / 10)
inp = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9])
offsets = torch.tensor([0, 4])
print("bag mean", r5(bag(inp, offsets)))
print("bag 2-d", r5(bag(torch.tensor([[1, 2, 3], [7, 8, 9]]))))
bsum = nn.EmbeddingBag.from_pretrained(bag.weight.detach().clone(), mode="sum", freeze=False)
w = torch.tensor([0.5, 1.0, 2.0, -1.0, 1.0, 1.0, 0.25, 0.5])
print("bag sum weighted", r5(bsum(inp, offsets, per_sample_weights=w)))
bmax = nn.EmbeddingBag(10, 4, mode="max", _weight=bag.weight.detach().clone() * torch.tensor([1.0, -1.0, 1.0, -1.0]))
print("bag max", r5(bmax(inp, torch.tensor([0, 3, 3]))))
bpad = nn.EmbeddingBag(10, 4, mode="sum", padding_idx=2, _weight=bag.weight.detach().clone())
print("bag padding_idx", r5(bpad(inp, offsets)))
bsum(inp, offsets, per_sample_weights=w).sum().backward()
print("bag grad rows", bsum.weight.grad[:, 0].tolist())
print("functional", F.embedding_bag(inp, bag.weight, offsets, mode="sum", include_last_offset=False).shape,
      [[round(v, 5) for v in r] for r in F.embedding_bag(inp, bag.weight, torch.tensor([0, 2, 8]), mode="mean",
                                                         include_last_offset=True).tolist()])

# torch.special
x = torch.tensor([-3.0, -0.5, 0.0, 0.25, 1.0, 2.5, 8.0])
p = torch.tensor([0.0, 1e-3, 0.25, 0.5, 0.9, 1.0])
fmt = lambda t: [round(v, 5) for v in t.tolist()]
print("expit", fmt(torch.special.expit(x)))
print("logit", torch.special.logit(p).tolist()[0], fmt(torch.special.logit(p[1:5])), fmt(torch.special.logit(p, eps=1e-6)))
print("ndtr", fmt(torch.special.ndtr(x)))
print("log_ndtr", fmt(torch.special.log_ndtr(torch.tensor([-40.0, -10.0, -3.0, 0.0, 3.0]))))
print("entr", fmt(torch.special.entr(torch.tensor([0.0, 0.1, 0.5, 1.0, 2.0]))), torch.special.entr(torch.tensor([-1.0])).tolist())
print("xlog1py", fmt(torch.special.xlog1py(torch.tensor([0.0, 1.0, 2.0, 3.0]), torch.tensor([-1.0, 0.0, 0.5, 3.0]))),
      fmt(torch.special.xlog1py(2.0, torch.tensor([0.5, 1.0]))))
print("gammaln", fmt(torch.special.gammaln(torch.tensor([0.5, 1.0, 3.5, 10.0, 100.0]))), torch.special.gammaln(torch.tensor([0.0, -1.0])).tolist())
print("erfcx", fmt(torch.special.erfcx(torch.tensor([-2.0, 0.0, 1.0, 5.0, 30.0, 1e4]))))
print("i0e", fmt(torch.special.i0e(torch.tensor([-4.0, 0.0, 0.5, 3.0, 50.0]))))
xg = torch.tensor([-1.5, 0.2, 2.0], requires_grad=True)
(torch.special.expit(xg) + torch.special.ndtr(xg) + torch.special.erfcx(xg) + torch.special.i0e(xg)
 + torch.special.log_ndtr(xg) + torch.special.entr(xg.abs())).sum().backward()
print("special grads", fmt(xg.grad))
xd = torch.tensor([0.3, 2.0], dtype=torch.float64)
print("float64", [f"{v:.12g}" for v in torch.special.gammaln(xd).tolist()], [f"{v:.12g}" for v in torch.special.erfcx(xd).tolist()],
      torch.special.ndtr(xd).dtype == torch.float64, torch.special.expit(torch.tensor([1, 2])).dtype == torch.float32)

# finfo / iinfo
print("finfo", torch.finfo(torch.float32).eps, torch.finfo(torch.float32).max, torch.finfo(torch.float32).tiny,
      torch.finfo(torch.float16).eps, torch.finfo().bits, torch.finfo(torch.float64).resolution)
print("iinfo", torch.iinfo(torch.int64).max, torch.iinfo(torch.int64).min, torch.iinfo(torch.int8).max, torch.iinfo(torch.uint8).bits)
eps = torch.finfo(torch.float32).eps
print("eps use", (torch.tensor(1.0) + eps) > 1, (torch.tensor(1.0) + eps / 2) == 1,
      torch.clamp(torch.tensor([0.0, 1.0]), min=eps, max=1 - eps).tolist())
