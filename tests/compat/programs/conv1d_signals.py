"""A 1-D CNN (bias-free convolutions before BatchNorm, whose bias gradient is rounding noise that Adam would
amplify) classifying synthetic signals (sine / square / sawtooth / noise-like chirp made with NumPy):
Conv1d with padding and dilation, BatchNorm1d, MaxPool1d, AdaptiveAvgPool1d, Dropout (eval only for
outputs), a channels-first data layout from (N, L) with unsqueeze(1), training with AdamW and a
ReduceLROnPlateau scheduler, a confusion matrix with bincount, and ConvTranspose1d / AvgPool1d / F.pad /
F.interpolate shapes."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

L = 64
t = np.linspace(0, 1, L, dtype=np.float32)
signals, labels = [], []
for i in range(48):
    f = 2 + (i % 6)
    kind = i % 4
    if kind == 0:
        s = np.sin(2 * np.pi * f * t)
    elif kind == 1:
        s = np.sign(np.sin(2 * np.pi * f * t))
    elif kind == 2:
        s = 2 * ((f * t) % 1.0) - 1
    else:
        s = np.sin(2 * np.pi * (f + 8 * t) * t)
    signals.append(s + 0.1 * np.cos(7.0 * i * t))
    labels.append(kind)
X = torch.from_numpy(np.stack(signals).astype(np.float32)).unsqueeze(1)
y = torch.tensor(labels)
print("data", tuple(X.shape), torch.bincount(y).tolist())


class SignalNet(nn.Module):
    def __init__(self, n_classes=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, 8, kernel_size=5, padding=2, bias=False), nn.BatchNorm1d(8), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(8, 12, kernel_size=3, padding=2, dilation=2, bias=False), nn.BatchNorm1d(12), nn.ReLU(),
            nn.AdaptiveAvgPool1d(4))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(12 * 4, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


model = SignalNet()
with torch.no_grad():
    for name, p in model.named_parameters():
        if p.dim() > 1:
            p.copy_(0.4 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 1.3).view_as(p) / p[0].numel() ** 0.5)
        elif "bias" in name:
            p.fill_(0.0)
model.eval()
feats = model.features(X[:2])
print("features", tuple(feats.shape), round(feats.sum().item(), 3))
print("params", sum(p.numel() for p in model.parameters()), [n for n, _ in model.named_buffers()][:3])

loader = DataLoader(TensorDataset(X, y), batch_size=12)
opt = torch.optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.01)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1)
crit = nn.CrossEntropyLoss(label_smoothing=0.05)
for epoch in range(6):
    model.train()
    total = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        with torch.no_grad():
            mask = torch.ones(12, 48)      # dropout is random: train with a fixed mask of ones instead
        logits = model.classifier[2](model.classifier[0](model.features(xb)) * mask[: xb.size(0)])
        loss = crit(logits, yb)
        loss.backward()
        opt.step()
        total += loss.item() * xb.size(0)
    model.eval()
    with torch.no_grad():
        val_loss = crit(model(X), y).item()
    sched.step(val_loss)
    print(f"epoch {epoch} train {total / len(X):.4f} val {val_loss:.4f} lr {opt.param_groups[0]['lr']:.4f}")
with torch.no_grad():
    pred = model(X).argmax(1)
conf = torch.bincount(y * 4 + pred, minlength=16).view(4, 4)
print("confusion", conf.tolist(), "accuracy", round((pred == y).float().mean().item(), 4))
bn = model.features[1]
print("bn running", [round(v, 3) for v in bn.running_mean[:3].tolist()], int(bn.num_batches_tracked))

z = torch.arange(2 * 3 * 10, dtype=torch.float32).view(2, 3, 10)
print("conv_transpose1d", tuple(nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1)(z).shape),
      "avgpool", tuple(nn.AvgPool1d(3, stride=2, ceil_mode=True)(z).shape),
      "maxpool idx", nn.MaxPool1d(2, return_indices=True)(z)[1][0, 0].tolist())
print("pad", F.pad(z[:1, :1, :4], (2, 1), mode="reflect").tolist(), F.pad(z[:1, :1, :3], (1, 1), value=-1.0).tolist())
print("interpolate", F.interpolate(z[:1, :1, :4], scale_factor=2, mode="linear", align_corners=False).tolist(),
      F.interpolate(z[:1, :1, :3], size=5, mode="nearest").tolist())
print("unfold", tuple(z.unfold(2, 4, 3).shape), z[0, 0].unfold(0, 4, 3).tolist())
