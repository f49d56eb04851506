"""A convolutional autoencoder: Conv2d/MaxPool2d encoder, ConvTranspose2d decoder, Sigmoid output, MSELoss,
Adam with weight decay; the latent code is flattened with view."""
import torch
from torch import nn


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(True),
            nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU(True))
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1), nn.ReLU(True),
            nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())

    def forward(self, x):
        code = self.encoder(x)
        return self.decoder(code), code.view(code.size(0), -1)


model = Autoencoder()
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(0.3 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 1.1 + k).view_as(p))
img = (torch.sin(torch.arange(4 * 12 * 12, dtype=torch.float32).view(4, 1, 12, 12) / 9.0) + 1) / 2
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-5)
for epoch in range(6):
    output, code = model(img)
    loss = criterion(output, img)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"epoch [{epoch + 1}/6], loss:{loss.item():.4f}")
print("code size", tuple(code.shape), "output size", tuple(output.shape))
