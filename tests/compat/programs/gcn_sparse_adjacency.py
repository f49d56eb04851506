"""Graph convolution as PyTorch's GCN example (pygcn) and graph tutorials write it: an adjacency matrix built
with torch.sparse_coo_tensor, symmetrised (adj + adj.t()), self loops added (eye + sparse -> dense),
row-normalised and turned back into a sparse tensor with the legacy torch.sparse.FloatTensor; a two-layer GCN
whose layers call torch.mm then torch.spmm, trained with Adam; then the sparse tensor API it touches (repr,
coalesce, indices/values, torch.sparse.sum, torch.sparse.softmax, sparse leaf gradients)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parameter import Parameter


def fill(module, k):
    with torch.no_grad():
        for i, p in enumerate(module.parameters()):
            p.copy_(0.3 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.61 + i + k).view_as(p))


N, F_IN, HIDDEN, CLASSES = 30, 8, 16, 3
src = torch.arange(N)
edge_index = torch.cat([torch.stack([src, (src * 7 + 3) % N]), torch.stack([src, (src + 1) % N])], dim=1)
adj = torch.sparse_coo_tensor(edge_index, torch.ones(edge_index.shape[1]), (N, N))
adj = (adj + adj.t()).coalesce()
print("adjacency", adj.layout, adj.is_sparse, adj._nnz(), adj.is_coalesced(), tuple(adj.shape))
adj = torch.sparse_coo_tensor(adj.indices(), torch.ones(adj._nnz()), (N, N))   # duplicates count once


def normalize(mx):
    """Row-normalise (pygcn's normalize): D^-1 (A + I)."""
    rowsum = mx.sum(1)
    r_inv = rowsum.pow(-1)
    r_inv[torch.isinf(r_inv)] = 0.0
    return r_inv[:, None] * mx


dense = normalize(torch.eye(N) + adj)                  # dense + sparse -> dense
idx = dense.nonzero().t()
adj_norm = torch.sparse.FloatTensor(idx, dense[idx[0], idx[1]], torch.Size([N, N]))
print("normalised nnz", adj_norm._nnz(), "row sums", torch.sparse.sum(adj_norm, 1).to_dense()[:5].tolist())


class GraphConvolution(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = Parameter(torch.FloatTensor(in_features, out_features))
        self.bias = Parameter(torch.FloatTensor(out_features))
        stdv = 1.0 / math.sqrt(out_features)
        self.weight.data.uniform_(-stdv, stdv)
        self.bias.data.uniform_(-stdv, stdv)

    def forward(self, input, adj):
        support = torch.mm(input, self.weight)
        output = torch.spmm(adj, support)
        return output + self.bias


class GCN(nn.Module):
    def __init__(self, nfeat, nhid, nclass, dropout):
        super().__init__()
        self.gc1 = GraphConvolution(nfeat, nhid)
        self.gc2 = GraphConvolution(nhid, nclass)
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = F.dropout(x, self.dropout, training=self.training)
        x = self.gc2(x, adj)
        return F.log_softmax(x, dim=1)


features = torch.sin(torch.arange(N * F_IN, dtype=torch.float32).view(N, F_IN) * 0.37)
labels = (torch.arange(N) * 5 // 7) % CLASSES
idx_train, idx_val = torch.arange(0, 20), torch.arange(20, N)
model = GCN(F_IN, HIDDEN, CLASSES, dropout=0.0)
fill(model, 1)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)


def accuracy(output, labels):
    preds = output.max(1)[1].type_as(labels)
    return preds.eq(labels).double().sum().item() / len(labels)


for epoch in range(40):
    model.train()
    optimizer.zero_grad()
    output = model(features, adj_norm)
    loss_train = F.nll_loss(output[idx_train], labels[idx_train])
    loss_train.backward()
    optimizer.step()
    if epoch % 10 == 9:
        model.eval()
        with torch.no_grad():
            output = model(features, adj_norm)
        print(f"epoch {epoch + 1}: loss {loss_train.item():.4f} "
              f"val {F.nll_loss(output[idx_val], labels[idx_val]).item():.4f} "
              f"acc {accuracy(output[idx_val], labels[idx_val]):.4f}")

# --- the sparse tensor API the examples touch ---
i = torch.tensor([[1, 0, 1, 2], [2, 0, 2, 1]])
s = torch.sparse_coo_tensor(i, torch.tensor([1.0, 2.0, 3.0, 4.0]), (3, 3))
print(s)
print(s.coalesce())
print(s.to_dense())
print((s * 2).t().coalesce().values().tolist(), (s / 4)._values().tolist())
print(torch.sparse.sum(s), torch.sparse.sum(s, dim=0))
print(torch.sparse.softmax(s.coalesce(), dim=1).to_dense().round(decimals=4))
leaf = torch.sparse_coo_tensor(i, torch.tensor([1.0, 2.0, 3.0, 4.0]), (3, 3), requires_grad=True)
torch.sparse.mm(leaf, torch.ones(3, 2)).pow(2).sum().backward()
print(leaf.grad)
values = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
out = torch.spmm(torch.sparse_coo_tensor(i, values, (3, 3)), torch.arange(6.0).view(3, 2))
out.sum().backward()
print(out, values.grad)
try:
    s.values()
except RuntimeError as e:
    print("RuntimeError:", str(e).split(",")[0])
