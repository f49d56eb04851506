"""Saving and loading: the whole model with torch.save(model, PATH) / torch.load(PATH, weights_only=False),
and the recommended state_dict way, in a temporary folder."""
import os
import tempfile

import torch
import torch.nn as nn


class TheModelClass(nn.Module):
    def __init__(self):
        super(TheModelClass, self).__init__()
        self.conv1 = nn.Conv2d(1, 3, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(3 * 3 * 3, 8)
        self.fc2 = nn.Linear(8, 2)
        self.label = "tiny"

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = torch.flatten(x, 1)
        return self.fc2(torch.relu(self.fc1(x)))


model = TheModelClass()
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.5 + k).view_as(p))
optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
x = torch.cos(torch.arange(2 * 8 * 8, dtype=torch.float32)).view(2, 1, 8, 8)
model(x).sum().backward()
optimizer.step()

print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\t", tuple(model.state_dict()[param_tensor].size()))
print("Optimizer's state_dict keys:", sorted(optimizer.state_dict().keys()))
print("param_groups lr:", optimizer.state_dict()["param_groups"][0]["lr"])

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "model.pt")
    torch.save(model, path)
    loaded = torch.load(path, weights_only=False)
    loaded.eval()
    print("whole model:", type(loaded).__name__, loaded.label,
          round(loaded(x).sum().item(), 4) == round(model(x).sum().item(), 4))

    sd_path = os.path.join(d, "weights.pt")
    torch.save(model.state_dict(), sd_path)
    model2 = TheModelClass()
    result = model2.load_state_dict(torch.load(sd_path, weights_only=True))
    print("state_dict load:", result)
    model2.eval()
    print("outputs:", [round(v, 4) for v in model2(x).view(-1).tolist()])

    ckpt = os.path.join(d, "ckpt.tar")
    torch.save({"epoch": 3, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": 0.25}, ckpt)
    checkpoint = torch.load(ckpt)
    model2.load_state_dict(checkpoint["model_state_dict"])
    optimizer2 = torch.optim.SGD(model2.parameters(), lr=0.001, momentum=0.9)
    optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
    print("checkpoint:", checkpoint["epoch"], checkpoint["loss"],
          len(optimizer2.state_dict()["state"]))
