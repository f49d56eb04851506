"""A tiny U-Net for segmentation of synthetic blobs: double-conv blocks with GroupNorm/InstanceNorm2d/
BatchNorm2d, MaxPool2d down, ConvTranspose2d and nn.Upsample(bilinear, align_corners=True) up, skip
connections with torch.cat and F.pad to match sizes, PixelShuffle, a BCEWithLogitsLoss + soft Dice loss
with pos_weight, Adam, IoU from thresholded sigmoid, and F.interpolate/ F.grid-free resizing checks."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class DoubleConv(nn.Module):
    def __init__(self, cin, cout, norm="group"):
        super().__init__()
        def make_norm(c):
            return {"group": nn.GroupNorm(2, c), "instance": nn.InstanceNorm2d(c, affine=True),
                    "batch": nn.BatchNorm2d(c)}[norm]
        self.block = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), make_norm(cout),
                                   nn.LeakyReLU(0.1), nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                                   make_norm(cout), nn.LeakyReLU(0.1))

    def forward(self, x):
        return self.block(x)


class Up(nn.Module):
    def __init__(self, cin, cout, bilinear):
        super().__init__()
        if bilinear:
            self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                                    nn.Conv2d(cin, cin // 2, 1))
        else:
            self.up = nn.ConvTranspose2d(cin, cin // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(cin, cout, "instance")

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        return self.conv(torch.cat([x2, x1], dim=1))


class TinyUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.inc = DoubleConv(1, 4)
        self.down1 = nn.Sequential(nn.MaxPool2d(2), DoubleConv(4, 8, "batch"))
        self.down2 = nn.Sequential(nn.MaxPool2d(2), DoubleConv(8, 16))
        self.up1 = Up(16, 8, bilinear=False)
        self.up2 = Up(8, 4, bilinear=True)
        self.outc = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.up1(x3, x2)
        x = self.up2(x, x1)
        return self.outc(x)


H = W = 10
yy, xx = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing="ij")
imgs, masks = [], []
for i in range(6):
    cy, cx, r = 3 + i % 4, 2 + (2 * i) % 6, 2.0 + (i % 2)
    m = (((yy - cy) ** 2 + (xx - cx) ** 2) <= r * r).float()
    imgs.append(m * 0.8 + 0.1 * torch.sin(xx * 0.9 + yy * 0.4 + i))
    masks.append(m)
X, Y = torch.stack(imgs).unsqueeze(1), torch.stack(masks).unsqueeze(1)
print("data", tuple(X.shape), Y.sum().item())
model = TinyUNet()
with torch.no_grad():
    for i, (name, p) in enumerate(model.named_parameters()):
        if p.dim() > 1:
            fan_in = p[0].numel()
            p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.83 + i).view_as(p) / fan_in ** 0.5)
        elif name.endswith("bias"):
            p.fill_(0.01)
print("params", sum(p.numel() for p in model.parameters()), "out", tuple(model(X).shape))


def dice_loss(logits, target, eps=1.0):
    prob = torch.sigmoid(logits)
    num = 2 * (prob * target).sum(dim=(1, 2, 3)) + eps
    den = prob.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3)) + eps
    return 1 - (num / den).mean()


bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0]))
opt = torch.optim.Adam(model.parameters(), lr=0.02)
for step in range(8):
    model.train()
    opt.zero_grad()
    logits = model(X)
    loss = bce(logits, Y) + dice_loss(logits, Y)
    loss.backward()
    opt.step()
    if step % 2 == 1:
        print("step", step, round(loss.item(), 4))
model.eval()
with torch.no_grad():
    pred = (torch.sigmoid(model(X)) > 0.5).float()
inter = (pred * Y).sum((1, 2, 3))
union = ((pred + Y) > 0).float().sum((1, 2, 3))
print("iou", [round(v, 3) for v in (inter / union).tolist()])
bn = model.down1[1].block[1]
print("bn stats", round(bn.running_mean.sum().item(), 4), round(bn.running_var.sum().item(), 4))

z = torch.arange(16.0).view(1, 4, 2, 2)
print("pixel_shuffle", nn.PixelShuffle(2)(z).tolist(), torch.equal(nn.PixelUnshuffle(2)(nn.PixelShuffle(2)(z)), z))
s = torch.arange(4.0).view(1, 1, 2, 2)
print("bilinear ac", [[round(v, 4) for v in r] for r in F.interpolate(s, size=(3, 3), mode="bilinear", align_corners=True)[0, 0].tolist()])
print("bilinear", [[round(v, 4) for v in r] for r in F.interpolate(s, scale_factor=2, mode="bilinear")[0, 0].tolist()])
print("nearest", F.interpolate(s, size=(3, 4), mode="nearest")[0, 0].tolist())
print("bicubic", [round(v, 4) for v in F.interpolate(s, size=(3, 3), mode="bicubic", align_corners=False)[0, 0, 1].tolist()])
print("area", F.adaptive_avg_pool2d(torch.arange(36.0).view(1, 1, 6, 6), (4, 4))[0, 0, 0].tolist())
gn = nn.GroupNorm(2, 4)
inorm = nn.InstanceNorm2d(4)
print("norms", round(gn(z).std().item(), 4), round(inorm(z).abs().sum().item(), 4), round(nn.LayerNorm([4, 2, 2])(z).sum().item(), 4))
