"""PyTorch's Spatial Transformer Networks tutorial in miniature: a localization network (Conv2d, MaxPool2d,
ReLU, a regressor whose last Linear starts at the identity transform with weight.data.zero_() and
bias.data.copy_), F.affine_grid -> F.grid_sample inside forward, a small classifier head with
F.log_softmax, trained a few SGD steps with F.nll_loss on synthetic 28x28 digit-like strokes (bars and rings
shifted around a textured canvas); prints losses, the learned theta, and grid_sample's modes/padding on a fixed
image (bilinear/nearest, zeros/border/reflection, align_corners both ways)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


def make_digits(n):
    yy, xx = torch.meshgrid(torch.arange(28, dtype=torch.float32), torch.arange(28, dtype=torch.float32),
                            indexing="ij")
    imgs, labels = [], []
    for i in range(n):
        cls = i % 3
        cx, cy = 14 + 4 * torch.sin(torch.tensor(i * 1.7)).item(), 14 + 4 * torch.cos(torch.tensor(i * 0.9)).item()
        if cls == 0:      # vertical bar
            img = torch.exp(-((xx - cx) ** 2) / 4.0) * (torch.abs(yy - cy) < 8).float()
        elif cls == 1:    # horizontal bar
            img = torch.exp(-((yy - cy) ** 2) / 4.0) * (torch.abs(xx - cx) < 8).float()
        else:             # ring
            r = torch.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
            img = torch.exp(-((r - 6.0) ** 2) / 3.0)
        # paper-like texture, so no two pixels (and no max-pool window) tie
        imgs.append(img * (1 + 0.2 * torch.sin(0.61 * xx + 0.37 * yy)) + 0.05 * torch.cos(0.83 * xx - 1.29 * yy + i))
        labels.append(cls)
    x = torch.stack(imgs).unsqueeze(1)
    return (x - 0.1307) / 0.3081, torch.tensor(labels)


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=5)
        self.fc1 = nn.Linear(4 * 12 * 12, 3)
        # Spatial transformer localization-network
        self.localization = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=7),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(4, 6, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True)
        )
        # Regressor for the 3 * 2 affine matrix
        self.fc_loc = nn.Sequential(
            nn.Linear(6 * 3 * 3, 16),
            nn.ReLU(True),
            nn.Linear(16, 3 * 2)
        )

    def init_deterministic(self):
        with torch.no_grad():
            for i, (name, p) in enumerate(self.named_parameters()):
                fan_in = p[0].numel() if p.dim() > 1 else 1
                p.copy_(0.5 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.77 + i).view_as(p)
                        / fan_in ** 0.5)
        # Initialize the weights/bias with identity transformation
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    # Spatial transformer network forward function
    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 6 * 3 * 3)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)
        return x, theta

    def forward(self, x):
        # transform the input
        x, theta = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = x.view(-1, 4 * 12 * 12)
        x = self.fc1(x)
        return F.log_softmax(x, dim=1), theta


data, target = make_digits(12)
print("data", tuple(data.shape), round(data.mean().item(), 4), target.tolist())
model = Net()
model.init_deterministic()
optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.5)
with torch.no_grad():
    warped, theta0 = model.stn(data[:2])
print("identity warp max diff", round((warped - data[:2]).abs().max().item(), 4), theta0[0].tolist())
for step in range(6):
    model.train()
    for batch in range(2):
        xb, yb = data[batch * 6:(batch + 1) * 6], target[batch * 6:(batch + 1) * 6]
        optimizer.zero_grad()
        output, theta = model(xb)
        loss = F.nll_loss(output, yb)
        loss.backward()
        optimizer.step()
    print("step %d loss %.4f theta %s" % (step, loss.item(), [round(v, 4) for v in theta[0].flatten().tolist()]))
model.eval()
with torch.no_grad():
    output, theta = model(data)
    test_loss = F.nll_loss(output, target, reduction="sum").item()
    pred = output.max(1, keepdim=True)[1]
    correct = pred.eq(target.view_as(pred)).sum().item()
print("test loss %.4f correct %d/%d" % (test_loss / len(data), correct, len(data)))
print("loc grad", round(model.localization[0].weight.grad.abs().sum().item(), 4),
      "fc_loc grad", round(model.fc_loc[2].weight.grad.abs().sum().item(), 4))

# grid_sample modes on a fixed image and a rotate-zoom-shift theta
img = torch.arange(2 * 5 * 6, dtype=torch.float32).view(1, 2, 5, 6) / 10
ang = torch.tensor(0.4)
theta = torch.stack([torch.stack([torch.cos(ang) * 1.3, -torch.sin(ang), torch.tensor(0.2)]),
                     torch.stack([torch.sin(ang), torch.cos(ang) * 1.3, torch.tensor(-0.1)])]).unsqueeze(0)
for ac in (False, True):
    grid = F.affine_grid(theta, (1, 2, 4, 5), align_corners=ac)
    print("grid", ac, tuple(grid.shape), [round(v, 4) for v in grid[0, 0, :2].flatten().tolist()])
    for mode in ("bilinear", "nearest"):
        for pad in ("zeros", "border", "reflection"):
            out = F.grid_sample(img, grid, mode=mode, padding_mode=pad, align_corners=ac)
            print(" ", mode, pad, tuple(out.shape), round(out.sum().item(), 4),
                  [round(v, 4) for v in out[0, 1, 1].tolist()])
t = theta.clone().requires_grad_(True)
src = img.clone().requires_grad_(True)
out = F.grid_sample(src, F.affine_grid(t, (1, 2, 4, 5), align_corners=False), align_corners=False)
(out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
print("theta grad", [round(v, 4) for v in t.grad.flatten().tolist()], "img grad", round(src.grad.abs().sum().item(), 4))
