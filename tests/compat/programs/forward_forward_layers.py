"""Hinton's forward-forward training in the pytorch/examples style: a Linear subclass with its own Adam that
overrides train(), labels overlaid on the first pixels (x_[range(n), y] = x.max()), goodness summed with
Python's sum() over a list of tensors, and prediction by the argmax over overlaid labels."""
import torch
import torch.nn as nn
from torch.optim import Adam

N, D, C = 60, 20, 4
x = torch.sin(torch.arange(N * D, dtype=torch.float32).view(N, D) * 0.37) + 0.1
y = torch.arange(N) % C
x[torch.arange(N), C + y] += 1.5                    # make the classes separable


def overlay_y_on_x(x, y, classes=C):
    x_ = x.clone()
    x_[:, :classes] *= 0.0
    x_[range(x.shape[0]), y] = x.max()
    return x_


class Layer(nn.Linear):
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device, dtype)
        with torch.no_grad():
            self.weight.copy_(torch.cos(torch.arange(out_features * in_features, dtype=torch.float32)
                                        .view(out_features, in_features)) * 0.3)
            self.bias.fill_(0.01)
        self.relu = torch.nn.ReLU()
        self.opt = Adam(self.parameters(), lr=0.03)
        self.threshold = 2.0
        self.num_epochs = 30

    def forward(self, x):
        x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
        return self.relu(torch.mm(x_direction, self.weight.T) + self.bias.unsqueeze(0))

    def train(self, x_pos, x_neg):
        for i in range(self.num_epochs):
            g_pos = self.forward(x_pos).pow(2).mean(1)
            g_neg = self.forward(x_neg).pow(2).mean(1)
            loss = torch.log1p(torch.exp(torch.cat([-g_pos + self.threshold, g_neg - self.threshold]))).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            if i % 10 == 0:
                print("Loss: ", round(loss.item(), 4))
        return self.forward(x_pos).detach(), self.forward(x_neg).detach()


class Net(torch.nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = []
        for d in range(len(dims) - 1):
            self.layers = self.layers + [Layer(dims[d], dims[d + 1])]

    def predict(self, x):
        goodness_per_label = []
        for label in range(C):
            h = overlay_y_on_x(x, label)
            goodness = []
            for layer in self.layers:
                h = layer(h)
                goodness = goodness + [h.pow(2).mean(1)]
            goodness_per_label += [sum(goodness).unsqueeze(1)]
        goodness_per_label = torch.cat(goodness_per_label, 1)
        return goodness_per_label.argmax(1)

    def train(self, x_pos, x_neg):
        h_pos, h_neg = x_pos, x_neg
        for i, layer in enumerate(self.layers):
            print("training layer: ", i)
            h_pos, h_neg = layer.train(h_pos, h_neg)


net = Net([D, 16, 16])
x_pos = overlay_y_on_x(x, y)
y_neg = (y + 1 + torch.arange(N) % (C - 1)) % C     # a wrong label for every sample, no randomness
x_neg = overlay_y_on_x(x, y_neg)
net.train(x_pos, x_neg)
print("train error:", round(1.0 - net.predict(x).eq(y).float().mean().item(), 4))
print(type(net.layers[0]).__mro__[1].__name__, len(list(net.parameters())), len(net.state_dict()))
print(net.predict(x[:8]).tolist(), y[:8].tolist())
