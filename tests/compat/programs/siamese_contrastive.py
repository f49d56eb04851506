"""A siamese network: one embedding net applied to both inputs, a contrastive loss on pairwise_distance,
cosine_similarity for evaluation, RMSprop."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class EmbeddingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 12), nn.PReLU(), nn.Linear(12, 3))

    def forward(self, x):
        return self.net(x)


class SiameseNet(nn.Module):
    def __init__(self, embedding_net):
        super().__init__()
        self.embedding_net = embedding_net

    def forward(self, x1, x2):
        return self.embedding_net(x1), self.embedding_net(x2)


class ContrastiveLoss(nn.Module):
    def __init__(self, margin=2.0):
        super().__init__()
        self.margin = margin

    def forward(self, out1, out2, label):
        d = F.pairwise_distance(out1, out2, keepdim=True)
        return torch.mean((1 - label) * torch.pow(d, 2) + label * torch.pow(torch.clamp(self.margin - d, min=0.0), 2))


model = SiameseNet(EmbeddingNet())
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(0.4 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.9 + k).view_as(p))
a = torch.sin(torch.arange(10 * 6, dtype=torch.float32).view(10, 6) * 0.3)
b = torch.cat([a[:5] + 0.05, torch.cos(a[5:] * 3)])
label = torch.cat([torch.zeros(5, 1), torch.ones(5, 1)])
criterion = ContrastiveLoss()
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for epoch in range(6):
    optimizer.zero_grad()
    o1, o2 = model(a, b)
    loss = criterion(o1, o2, label)
    loss.backward()
    optimizer.step()
    print(f"epoch {epoch} contrastive loss {loss.item():.4f}")
with torch.no_grad():
    o1, o2 = model(a, b)
    print("cosine", [round(v, 3) for v in F.cosine_similarity(o1, o2).tolist()])
    print("distance", [round(v, 3) for v in F.pairwise_distance(o1, o2).tolist()])
