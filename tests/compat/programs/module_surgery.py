"""Fine-tuning surgery on a small pretrained-style network: replace a child in place (net.conv1 = ...,
net.fc = ...), freeze the backbone, count trainable parameters, and check that named_children(),
parameters() and state_dict() keep the original order."""
import torch
import torch.nn as nn


class TinyResNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x) + x
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


net = TinyResNet()
print("children", [n for n, _ in net.named_children()])
net.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)       # grayscale input
for param in net.parameters():
    param.requires_grad = False
net.fc = nn.Linear(net.fc.in_features, 3)
print("children after", [n for n, _ in net.named_children()])
print("state_dict", list(net.state_dict().keys())[:6])
print("trainable", [n for n, p in net.named_parameters() if p.requires_grad])
print("num trainable", sum(p.numel() for p in net.parameters() if p.requires_grad))
with torch.no_grad():
    for k, p in enumerate(net.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.6 + k).view_as(p) * 0.3)
opt = torch.optim.SGD(filter(lambda p: p.requires_grad, net.parameters()), lr=0.1)
x = torch.cos(torch.arange(2 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6))
for step in range(3):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(net(x), torch.tensor([0, 2]))
    loss.backward()
    opt.step()
    print(f"step {step} loss {loss.item():.4f}")
print("frozen conv grad is None", net.conv1.weight.grad is None)
del net.layer1[2]
print("after del", [n for n, _ in net.layer1.named_children()], len(list(net.modules())))
