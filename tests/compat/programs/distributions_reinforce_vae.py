"""torch.distributions as the RL and VAE examples use it: REINFORCE with an entropy bonus on a toy chain
(Categorical(logits=...), log_prob, entropy, discounted returns), actions drawn by Gumbel-max from a seeded
random.Random so both libraries take the same actions; a small VAE step (Normal posterior, kl_divergence against
the Normal prior, Independent Bernoulli likelihood, the reparameterised z from a fixed noise); and the shape
semantics of sample/expand/Independent, which do not depend on the generator."""
import math
import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Bernoulli, Categorical, Independent, Normal, kl_divergence
from torch.distributions import MultivariateNormal, Beta, Gamma, Poisson, Dirichlet


def fill(module, k):
    with torch.no_grad():
        for i, p in enumerate(module.parameters()):
            p.copy_(0.4 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.37 + i + k).view_as(p))


# --- REINFORCE on a 5-state chain: action 1 moves right, 0 moves left; the right end pays 1 ---
N_STATES, N_ACTIONS, GAMMA = 5, 2, 0.9
policy = nn.Sequential(nn.Linear(N_STATES, 16), nn.Tanh(), nn.Linear(16, N_ACTIONS))
fill(policy, 0)
optimizer = torch.optim.Adam(policy.parameters(), lr=0.02)
rng = random.Random(0)


def select_action(state):
    x = torch.zeros(1, N_STATES)
    x[0, state] = 1.0
    m = Categorical(logits=policy(x))
    gumbel = torch.tensor([[-math.log(-math.log(rng.random())) for _ in range(N_ACTIONS)]])
    action = (m.logits + gumbel).argmax(-1)
    return action, m.log_prob(action), m.entropy()


for episode in range(25):
    state, log_probs, entropies, rewards = 0, [], [], []
    for t in range(12):
        action, lp, ent = select_action(state)
        state = min(N_STATES - 1, state + 1) if int(action) == 1 else max(0, state - 1)
        log_probs.append(lp)
        entropies.append(ent)
        rewards.append(1.0 if state == N_STATES - 1 else 0.0)
        if state == N_STATES - 1:
            break
    R, returns = 0.0, []
    for r in reversed(rewards):
        R = r + GAMMA * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    loss = -(torch.cat(log_probs) * returns).sum() - 0.01 * torch.cat(entropies).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if episode % 5 == 0:
        print(f"episode {episode} steps {len(rewards)} loss {loss.item():.4f}")
with torch.no_grad():
    probs = Categorical(logits=policy(torch.eye(N_STATES))).probs
print("policy right-probs", [round(v, 3) for v in probs[:, 1].tolist()])

# --- one VAE: Normal posterior, KL to the prior, Bernoulli likelihood ---
enc = nn.Linear(8, 2 * 2)
dec = nn.Linear(2, 8)
fill(enc, 1)
fill(dec, 2)
x = (torch.sin(torch.arange(32, dtype=torch.float32).view(4, 8)) > 0).float()
eps = 0.5 * torch.cos(torch.arange(8, dtype=torch.float32).view(4, 2))
opt = torch.optim.SGD(list(enc.parameters()) + list(dec.parameters()), lr=0.1)
for step in range(4):
    mu, logvar = enc(x).chunk(2, dim=-1)
    q = Normal(mu, torch.exp(0.5 * logvar))
    prior = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    z = q.mean + q.stddev * eps
    likelihood = Independent(Bernoulli(logits=dec(z)), 1)
    kl = kl_divergence(q, prior).sum(-1)
    elbo = likelihood.log_prob(x) - kl
    loss = -elbo.mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"vae step {step} loss {loss.item():.4f} kl {kl.mean().item():.4f} "
          f"q-entropy {q.entropy().sum().item():.4f}")

# --- densities and shapes ---
mvn = MultivariateNormal(torch.zeros(2), covariance_matrix=torch.tensor([[2.0, 0.5], [0.5, 1.0]]))
print("mvn", round(mvn.log_prob(torch.tensor([0.3, -0.2])).item(), 4), round(mvn.entropy().item(), 4))
print("beta", round(Beta(torch.tensor(2.0), torch.tensor(3.0)).log_prob(torch.tensor(0.4)).item(), 4))
print("gamma", round(Gamma(torch.tensor(2.0), torch.tensor(0.5)).log_prob(torch.tensor(3.0)).item(), 4))
print("poisson", round(Poisson(torch.tensor(3.0)).log_prob(torch.tensor(2.0)).item(), 4))
print("dirichlet", round(Dirichlet(torch.tensor([1.0, 2.0, 3.0])).entropy().item(), 4))
print("normal cdf", [round(v, 4) for v in Normal(0.0, 1.0).cdf(torch.tensor([-1.0, 0.0, 2.0])).tolist()])
c = Categorical(logits=torch.zeros(2, 3))
print("shapes", tuple(c.sample((4,)).shape), tuple(c.batch_shape), tuple(c.event_shape),
      tuple(Normal(torch.zeros(3), 1.0).expand((2, 3)).batch_shape),
      tuple(Independent(Normal(torch.zeros(2, 3), 1.0), 1).event_shape), c.sample().dtype == torch.int64,
      tuple(c.enumerate_support().shape))
print("has_rsample", Normal(0.0, 1.0).has_rsample, Categorical(torch.ones(2)).has_rsample)
