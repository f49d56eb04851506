"""'Learn the Basics': build the model (Flatten + Linear/ReLU stack, named_parameters, softmax of logits,
layer-by-layer shapes), automatic differentiation (requires_grad, grad_fn names, retain_graph,
Jacobian-vector products via backward(gradient), accumulation, detach/no_grad), the optimization loop
(train_loop/test_loop with CrossEntropyLoss and SGD) and save & load (state_dict round trip through a
BytesIO buffer, load_state_dict, eval)."""
import io

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(6 * 6, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 5))

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def init_weights(m):
    if isinstance(m, nn.Linear):
        with torch.no_grad():
            k = torch.arange(m.weight.numel(), dtype=torch.float32).view_as(m.weight)
            m.weight.copy_(torch.cos(k * 0.37) / m.in_features ** 0.5)
            m.bias.copy_(torch.linspace(-0.1, 0.1, m.out_features))


model = NeuralNetwork()
model.apply(init_weights)
print(model)
X = torch.sin(torch.arange(3 * 36, dtype=torch.float32)).view(3, 6, 6)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print("Predicted class:", y_pred.tolist(), [round(v, 4) for v in pred_probab[0].tolist()])
input_image = X
flat_image = nn.Flatten()(input_image)
print("flat", tuple(flat_image.size()))
hidden1 = nn.ReLU()(model.linear_relu_stack[0](flat_image))
print("hidden", tuple(hidden1.size()), round(hidden1.mean().item(), 4), int((hidden1 == 0).sum()))
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {tuple(param.size())} | Values : {[round(v, 4) for v in param.flatten()[:2].tolist()]}")

x = torch.ones(5)
y = torch.zeros(3)
w = torch.linspace(-1, 1, 15).view(5, 3).requires_grad_()
b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print("Gradient function for z =", z.grad_fn is not None)
print("Gradient function for loss =", loss.grad_fn is not None, loss.requires_grad)
loss.backward()
print("w.grad", [[round(v, 4) for v in r] for r in w.grad.tolist()], "b.grad", [round(v, 4) for v in b.grad.tolist()])
with torch.no_grad():
    z = torch.matmul(x, w) + b
print("no_grad requires_grad", z.requires_grad)
z_det = (torch.matmul(x, w) + b).detach()
print("detach requires_grad", z_det.requires_grad, z_det.is_leaf)

inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")
try:
    out.sum().backward()
    out.sum().backward()
except RuntimeError as e:
    print("second backward without retain_graph raises RuntimeError")

rng = np.random.RandomState(0)
images = torch.from_numpy(rng.rand(96, 6, 6).astype(np.float32))
labels = torch.from_numpy((images.view(96, -1)[:, :5].argmax(1)).numpy().astype(np.int64))
train_dataloader = DataLoader(TensorDataset(images[:64], labels[:64]), batch_size=16)
test_dataloader = DataLoader(TensorDataset(images[64:], labels[64:]), batch_size=16)
learning_rate, epochs = 0.5, 3
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 2 == 0:
            loss, current = loss.item(), batch * 16 + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")


for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train_loop(train_dataloader, model, loss_fn, optimizer)
    test_loop(test_dataloader, model, loss_fn)
print("Done!")

buffer = io.BytesIO()
torch.save(model.state_dict(), buffer)
buffer.seek(0)
model2 = NeuralNetwork()
result = model2.load_state_dict(torch.load(buffer, weights_only=True))
print("load result", result.missing_keys, result.unexpected_keys, list(model2.state_dict().keys())[:2])
model2.eval()
with torch.no_grad():
    print("same outputs", torch.equal(model2(images[64:70]), model(images[64:70])))
