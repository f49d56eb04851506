"""A small SN-GAN on 2-D points, written the way GAN code does it: the discriminator's layers wrapped in
torch.nn.utils.spectral_norm (the hook API: weight_orig / weight_u / weight_v, one power iteration per
training forward, none in eval), the generator's in torch.nn.utils.parametrizations.weight_norm
(parametrizations.weight.original0/original1), hinge losses, Adam(betas=(0.0, 0.9)), a few steps; prints
losses, sigma estimates, state_dict keys, remove_spectral_norm / parametrize.remove_parametrizations, and a
state_dict round trip into a fresh wrapped model.  The power-iteration vectors start random in both libraries,
so the program sets them (and all weights) deterministically."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm, remove_spectral_norm
from torch.nn.utils.parametrizations import weight_norm
from torch.nn.utils import parametrize

nz, batch = 4, 16


def fill(t, scale, phase):
    with torch.no_grad():
        t.copy_(scale * torch.sin(torch.arange(t.numel(), dtype=torch.float32) * 0.91 + phase).view_as(t))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            spectral_norm(nn.Linear(2, 32)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Linear(32, 32)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Linear(32, 1)))

    def forward(self, x):
        return self.net(x)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = weight_norm(nn.Linear(nz, 32))
        self.fc2 = weight_norm(nn.Linear(32, 2), dim=None)

    def forward(self, z):
        return self.fc2(torch.relu(self.fc1(z)))


def det_init_D(D, seed=0.0):
    for i, m in enumerate(m for m in D.modules() if isinstance(m, nn.Linear)):
        fill(m.weight_orig, 0.5, i + seed)
        fill(m.bias, 0.1, i + 0.5)
        with torch.no_grad():
            m.weight_u.copy_(F.normalize(torch.cos(torch.arange(m.weight_u.numel(), dtype=torch.float32) + i), dim=0))
            m.weight_v.copy_(F.normalize(torch.sin(torch.arange(m.weight_v.numel(), dtype=torch.float32) + i + 1), dim=0))


def det_init_G(G):
    for i, m in enumerate([G.fc1, G.fc2]):
        fill(m.parametrizations.weight.original1, 0.4, i)
        with torch.no_grad():
            m.parametrizations.weight.original0.copy_(m.parametrizations.weight.original1.norm(
                dim=1 if i == 0 else None, keepdim=True).view_as(m.parametrizations.weight.original0) * 0.8)
        fill(m.bias, 0.05, i)


D, G = Discriminator(), Generator()
det_init_D(D)
det_init_G(G)
print("D keys", list(D.state_dict().keys()))
print("G keys", list(G.state_dict().keys()))
print("G params", [n for n, _ in G.named_parameters()])
print("g shapes", tuple(G.fc1.parametrizations.weight.original0.shape), tuple(G.fc2.parametrizations.weight.original0.shape),
      parametrize.is_parametrized(G.fc1), parametrize.is_parametrized(G.fc1, "bias"))
w = G.fc1.weight
print("weight_norm rows", [round(v, 4) for v in w.norm(dim=1)[:4].tolist()],
      [round(v, 4) for v in G.fc1.parametrizations.weight.original0[:4, 0].tolist()])

optD = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.0, 0.9))
optG = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.0, 0.9))


def real_batch(it):
    k = torch.arange(batch, dtype=torch.float32)
    ang = k * 0.3927 + it * 0.21
    r = 1.5 + 0.1 * torch.sin(k * 1.7 + it)
    return torch.stack([r * torch.cos(ang), r * torch.sin(ang)], 1)


for it in range(6):
    z = torch.cos(torch.arange(batch * nz, dtype=torch.float32).view(batch, nz) * 0.37 + it)
    real = real_batch(it)
    optD.zero_grad()
    fake = G(z).detach()
    lossD = F.relu(1.0 - D(real)).mean() + F.relu(1.0 + D(fake)).mean()
    lossD.backward()
    optD.step()
    optG.zero_grad()
    lossG = -D(G(z)).mean()
    lossG.backward()
    optG.step()
    sig = [torch.dot(m.weight_u, torch.mv(m.weight_orig, m.weight_v)).item()
           for m in D.modules() if isinstance(m, nn.Linear)]
    print("it %d lossD %.4f lossG %.4f sigma %s" % (it, lossD.item(), lossG.item(), [round(s, 4) for s in sig]))

lin = D.net[0]
true_sigma = torch.linalg.matrix_norm(lin.weight_orig.detach(), ord=2).item()
D.eval()
with torch.no_grad():
    w_eval = lin.weight.clone()
    out_eval = D(real_batch(0))
print("sigma of W/sigma in eval", round(torch.linalg.matrix_norm(w_eval, ord=2).item(), 3),
      "true sigma", round(true_sigma, 3), "eval out", [round(v, 4) for v in out_eval[:4, 0].tolist()])
u_before = lin.weight_u.clone()
with torch.no_grad():
    D(real_batch(1))
print("eval keeps u", torch.equal(u_before, lin.weight_u))
D.train()

D2 = Discriminator()
D2.load_state_dict(D.state_dict())
D2.eval()
with torch.no_grad():
    print("reloaded D matches", torch.allclose(D2(real_batch(0)), out_eval, atol=1e-6))
G2 = Generator()
G2.load_state_dict(G.state_dict())
with torch.no_grad():
    zz = torch.linspace(-1, 1, 3 * nz).view(3, nz)
    print("reloaded G", [[round(v, 4) for v in r] for r in G2(zz).tolist()], torch.allclose(G2(zz), G(zz)))

remove_spectral_norm(D.net[0])
print("after remove_spectral_norm", [k for k in D.state_dict().keys() if k.startswith("net.0.")],
      isinstance(D.net[0].weight, nn.Parameter))
with torch.no_grad():
    before = G(zz)
parametrize.remove_parametrizations(G.fc1, "weight")
print("after remove_parametrizations", [n for n, _ in G.fc1.named_parameters()],
      "same output", torch.allclose(G(zz), before, atol=1e-6))
