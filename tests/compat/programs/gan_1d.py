"""A GAN on 1-D data in the DCGAN example's training pattern: label tensors filled with real/fake labels,
BCELoss, D and G with Adam(betas=(0.5, 0.999)), detach() for the discriminator step."""
import torch
import torch.nn as nn
import torch.optim as optim

nz = 4


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(nz, 16), nn.LeakyReLU(0.2, inplace=True), nn.Linear(16, 2))

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Sigmoid())

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Linear") != -1:
        with torch.no_grad():
            m.weight.copy_(0.3 * torch.sin(torch.arange(m.weight.numel(), dtype=torch.float32)).view_as(m.weight))
            m.bias.fill_(0.01)


netG, netD = Generator(), Discriminator()
netG.apply(weights_init)
netD.apply(weights_init)
criterion = nn.BCELoss()
real_label, fake_label = 1.0, 0.0
optimizerD = optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
batch = 16
steps = torch.arange(batch, dtype=torch.float32)
for i in range(10):
    angle = steps * 0.4 + i
    real = torch.stack([torch.cos(angle), torch.sin(angle)], 1) * 2
    noise = torch.sin(torch.arange(batch * nz, dtype=torch.float32).view(batch, nz) * 1.7 + i)
    netD.zero_grad()
    label = torch.full((batch,), real_label, dtype=torch.float)
    errD_real = criterion(netD(real), label)
    errD_real.backward()
    fake = netG(noise)
    label.fill_(fake_label)
    output = netD(fake.detach())
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optimizerD.step()
    netG.zero_grad()
    label.fill_(real_label)
    output = netD(fake)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optimizerG.step()
    print(f"[{i}/10] Loss_D: {errD.item():.4f} Loss_G: {errG.item():.4f} D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}")
