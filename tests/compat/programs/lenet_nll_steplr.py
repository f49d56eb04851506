"""The MNIST example's network shape (conv, max_pool2d, dropout, flatten, log_softmax, nll_loss) with a
StepLR schedule and a test loop that sums the loss and counts correct predictions."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, 1)
        self.conv2 = nn.Conv2d(6, 8, 3, 1)
        self.dropout1 = nn.Dropout(0.0)
        self.fc1 = nn.Linear(8 * 5 * 5, 20)
        self.fc2 = nn.Linear(20, 4)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def data(n):
    t = torch.arange(n * 14 * 14, dtype=torch.float32).reshape(n, 1, 14, 14)
    return torch.sin(t / 37.0), torch.arange(n) % 4


model = Net()
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel()) * 0.91 + i).reshape(p.shape) * 0.2)
optimizer = optim.Adadelta(model.parameters(), lr=1.0)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
x, y = data(16)
for epoch in range(1, 4):
    model.train()
    for b in range(0, 16, 8):
        optimizer.zero_grad()
        loss = F.nll_loss(model(x[b:b + 8]), y[b:b + 8])
        loss.backward()
        optimizer.step()
    scheduler.step()
    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        output = model(x)
        test_loss += F.nll_loss(output, y, reduction="sum").item()
        pred = output.argmax(dim=1, keepdim=True)
        correct += pred.eq(y.view_as(pred)).sum().item()
    print(f"epoch {epoch} lr {scheduler.get_last_lr()[0]:.4f} test loss {test_loss / 16:.4f} "
          f"correct {correct}/16")
