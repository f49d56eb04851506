"""The VAE example's model and loss (BCE summed + KL divergence) with the reparameterization trick; the
noise comes from a fixed tensor instead of randn_like so both libraries see the same numbers."""
import torch
import torch.nn.functional as F
from torch import nn, optim


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(36, 16)
        self.fc21 = nn.Linear(16, 4)
        self.fc22 = nn.Linear(16, 4)
        self.fc3 = nn.Linear(4, 16)
        self.fc4 = nn.Linear(16, 36)
        self.eps = None

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = self.eps[:std.size(0)]
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 36))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 36), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


model = VAE()
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(0.2 * torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.29 + k).view_as(p))
model.eps = torch.sin(torch.arange(8 * 4, dtype=torch.float32).view(8, 4))
optimizer = optim.Adam(model.parameters(), lr=1e-2)
data = (torch.sin(torch.arange(8 * 36, dtype=torch.float32).view(8, 1, 6, 6) * 0.21) + 1) / 2
for epoch in range(1, 6):
    model.train()
    optimizer.zero_grad()
    recon_batch, mu, logvar = model(data)
    loss = loss_function(recon_batch, data, mu, logvar)
    loss.backward()
    optimizer.step()
    print(f"====> Epoch: {epoch} Average loss: {loss.item() / len(data):.4f}")
with torch.no_grad():
    sample = model.decode(torch.zeros(2, 4))
    print("sample mean", round(sample.mean().item(), 4), "shape", list(sample.view(2, 1, 6, 6).shape))
