"""WGAN-GP on 2-D points (the 'Improved Training of Wasserstein GANs' recipe as PyTorch code writes it):
interpolates between real and fake with a per-sample alpha (expand_as), torch.autograd.grad with
create_graph=True and grad_outputs=torch.ones(...), the penalty ((norm(2, dim=1) - 1) ** 2).mean() whose
gradient flows into the critic, n_critic steps per generator step with Adam(betas=(0.5, 0.9)),
requires_grad toggling on the critic (p.requires_grad = False), plus gradient-of-gradient checks
(a double backward through tanh/linear, and torch.autograd.grad of a grad norm)."""
import torch
import torch.nn as nn
from torch import autograd

LAMBDA = 10.0
nz, batch = 3, 16


def det_init(m, scale):
    with torch.no_grad():
        for i, p in enumerate(m.parameters()):
            p.copy_(scale * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 1.1 + i).view_as(p))


G = nn.Sequential(nn.Linear(nz, 32), nn.ReLU(True), nn.Linear(32, 2))
D = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
det_init(G, 0.4)
det_init(D, 0.3)
optimizerD = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9))
optimizerG = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9))
one = torch.tensor(1, dtype=torch.float)
mone = one * -1


def calc_gradient_penalty(netD, real_data, fake_data, alpha):
    alpha = alpha.expand(real_data.size())
    interpolates = alpha * real_data + ((1 - alpha) * fake_data)
    interpolates = autograd.Variable(interpolates, requires_grad=True)
    disc_interpolates = netD(interpolates)
    gradients = autograd.grad(outputs=disc_interpolates, inputs=interpolates,
                              grad_outputs=torch.ones(disc_interpolates.size()),
                              create_graph=True, retain_graph=True, only_inputs=True)[0]
    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA
    return gradient_penalty


def real_batch(it):
    k = torch.arange(batch, dtype=torch.float32)
    ang = k * 0.39 + it * 0.17
    return torch.stack([torch.cos(ang), torch.sin(ang)], 1) * 2 + torch.tensor([0.5, -0.5])


for iteration in range(8):
    for p in D.parameters():
        p.requires_grad = True
    for iter_d in range(3):
        real_data = real_batch(iteration * 3 + iter_d)
        D.zero_grad()
        D_real = D(real_data).mean()
        D_real.backward(mone)
        noise = torch.cos(torch.arange(batch * nz, dtype=torch.float32).view(batch, nz) * 0.3 + iteration + iter_d)
        with torch.no_grad():
            fake = G(noise)
        D_fake = D(fake).mean()
        D_fake.backward(one)
        alpha = torch.linspace(0.05, 0.95, batch).unsqueeze(1)
        gradient_penalty = calc_gradient_penalty(D, real_data, fake, alpha)
        gradient_penalty.backward()
        D_cost = D_fake - D_real + gradient_penalty
        Wasserstein_D = D_real - D_fake
        optimizerD.step()
    for p in D.parameters():
        p.requires_grad = False
    G.zero_grad()
    noise = torch.sin(torch.arange(batch * nz, dtype=torch.float32).view(batch, nz) * 0.7 + iteration)
    fake = G(noise)
    G_cost = -D(fake).mean()
    G_cost.backward()
    optimizerG.step()
    print("it %d D_cost %.4f G_cost %.4f W_D %.4f GP %.4f" % (iteration, D_cost.item(), G_cost.item(),
                                                             Wasserstein_D.item(), gradient_penalty.item()))
print("D grads off", all(not p.requires_grad for p in D.parameters()), "G grad set", G[0].weight.grad is not None)

x = torch.tensor([[0.3, -0.2], [1.0, 0.5]], requires_grad=True)
for p in D.parameters():
    p.requires_grad = True
out = D(x).sum()
(g,) = torch.autograd.grad(out, x, create_graph=True)
gnorm = g.pow(2).sum()
(gg,) = torch.autograd.grad(gnorm, x)
print("grad", [[round(v, 5) for v in row] for row in g.tolist()])
print("grad of grad norm", [[round(v, 5) for v in row] for row in gg.tolist()])
D.zero_grad()
gnorm2 = torch.autograd.grad(D(x).sum(), x, create_graph=True)[0].norm()
gnorm2.backward()
print("penalty reaches critic weights", round(D[0].weight.grad.abs().sum().item(), 5), round(x.grad.abs().sum().item(), 5))
y = torch.tensor([0.5, 1.5], requires_grad=True)
z = (y ** 3).sum()
(dy,) = torch.autograd.grad(z, y, create_graph=True)
(d2y,) = torch.autograd.grad(dy.sum(), y, create_graph=True)
(d3y,) = torch.autograd.grad(d2y.sum(), y)
print("third derivative", dy.tolist(), d2y.tolist(), d3y.tolist())
