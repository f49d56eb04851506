"""'What is torch.nn really?' step by step: a logistic model from raw tensors with manual log_softmax and
nll, then F.cross_entropy, nn.Module with nn.Parameter, nn.Linear, optim, TensorDataset + DataLoader,
nn.Sequential with a Lambda layer, and a fit() with validation."""
import math

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

n, d, c = 64, 16, 4
x_train = torch.sin(torch.arange(n * d, dtype=torch.float32).view(n, d) * 0.13)
y_train = torch.arange(n) % c
x_valid, y_valid = x_train[:16] * 0.9, y_train[:16]

weights = (torch.sin(torch.arange(d * c, dtype=torch.float32)).view(d, c) / math.sqrt(d))
weights.requires_grad_()
bias = torch.zeros(c, requires_grad=True)


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


loss_func = nll
bs, lr = 16, 0.5
print("initial loss", round(loss_func(model(x_train[:bs]), y_train[:bs]).item(), 4))
for epoch in range(2):
    for i in range((n - 1) // bs + 1):
        xb, yb = x_train[i * bs:i * bs + bs], y_train[i * bs:i * bs + bs]
        loss = loss_func(model(xb), yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
print("manual loss", round(loss_func(model(x_train[:bs]), y_train[:bs]).item(), 4))
print("F.cross_entropy", round(F.cross_entropy(x_train[:bs] @ weights + bias, y_train[:bs]).item(), 4))


class MnistLogistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.sin(torch.arange(d * c, dtype=torch.float32)).view(d, c) / math.sqrt(d))
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, xb):
        return xb @ self.weights + self.bias


class Lambda(nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        print(epoch, round(sum(l * k for l, k in zip(losses, nums)) / sum(nums), 4))


train_dl = DataLoader(TensorDataset(x_train, y_train), batch_size=bs)
valid_dl = DataLoader(TensorDataset(x_valid, y_valid), batch_size=bs * 2)
m = MnistLogistic()
fit(2, m, F.cross_entropy, optim.SGD(m.parameters(), lr=lr), train_dl, valid_dl)

seq = nn.Sequential(Lambda(lambda x: x.view(-1, 1, 4, 4)), nn.Conv2d(1, 4, 3, stride=1, padding=1), nn.ReLU(),
                    nn.AdaptiveAvgPool2d(1), Lambda(lambda x: x.view(x.size(0), -1)))
with torch.no_grad():
    for k, p in enumerate(seq.parameters()):
        p.copy_(torch.cos(torch.arange(p.numel(), dtype=torch.float32) + k).view_as(p) * 0.5)
fit(2, seq, F.cross_entropy, optim.SGD(seq.parameters(), lr=0.1, momentum=0.9), train_dl, valid_dl)
