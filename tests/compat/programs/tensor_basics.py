"""The tensor tutorial's operations: creation, dtypes, indexing and slicing (ints, slices, lists, ranges,
boolean masks, assignment), joining, reshaping, broadcasting arithmetic, reductions, in-place ops, NumPy
bridge."""
import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
x_np = torch.from_numpy(np.array(data))
print(x_data.tolist(), x_np.dtype == torch.int64, x_data.dtype == torch.int64)
x_ones = torch.ones_like(x_data)
x_rand = torch.full_like(x_data, 7, dtype=torch.float)
print(x_ones.tolist(), x_rand.tolist())
shape = (2, 3,)
print(torch.zeros(shape).tolist(), torch.ones(shape).shape)

tensor = torch.arange(16, dtype=torch.float32).reshape(4, 4)
print("First row:", tensor[0].tolist())
print("First column:", tensor[:, 0].tolist())
print("Last column:", tensor[..., -1].tolist())
print("rows 1,3:", tensor[[1, 3]].tolist())
print("range rows:", tensor[range(2)].tolist())
print("mask:", tensor[tensor > 10].tolist())
print("fancy pairs:", tensor[[0, 2], [1, 3]].tolist())
print("tensor index:", tensor[torch.tensor([3, 0])][:, 1].tolist())
print("0-d index:", tensor[torch.tensor(2)].tolist())
print("step slice:", tensor[::2, 1::2].tolist())
print("None axis:", tuple(tensor[None, :, 0].shape))
tensor[:, 1] = 0
tensor[tensor > 13] = -1
tensor[[0, 1], [2, 3]] = torch.tensor([100.0, 200.0])
print("assigned:", tensor.tolist())

t1 = torch.cat([tensor[:1], tensor[:1], tensor[:1]], dim=1)
print("cat:", tuple(t1.shape), "stack:", tuple(torch.stack([tensor, tensor]).shape))
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
y3 = torch.matmul(tensor, tensor.T)
print("matmul equal:", torch.equal(y1, y2), torch.equal(y1, y3))
z1 = tensor * tensor
print("elementwise:", z1[0].tolist())
agg = tensor.sum()
print("sum item:", agg.item(), type(agg.item()).__name__)
tensor.add_(5)
print("in-place:", tensor[0].tolist())
t = torch.ones(5)
n = t.numpy()
t.add_(1)
print("numpy shares memory:", n.tolist())
a = torch.arange(6).view(2, 3)
print("permute", a.permute(1, 0).tolist(), "transpose contiguous", a.t().is_contiguous())
print("unsqueeze", tuple(a.unsqueeze(0).shape), "squeeze", tuple(torch.zeros(1, 3, 1).squeeze().shape))
print("broadcast", (torch.arange(3).view(3, 1) + torch.arange(4)).tolist())
print("max/argmax", a.max().item(), a.argmax(dim=1).tolist(), a.float().mean(dim=0).tolist())
v, i = torch.max(a, dim=1)
print("max dim", v.tolist(), i.tolist())
print("where", torch.where(a > 2, a, torch.zeros_like(a)).tolist())
print("chunk", [c.tolist() for c in torch.arange(7).chunk(3)])
print("split", [s.tolist() for s in torch.arange(7).split([2, 5])])
print("gather", torch.gather(a, 1, torch.tensor([[2, 0], [1, 1]])).tolist())
print("topk", torch.topk(torch.tensor([3.0, 1.0, 4.0, 1.5]), 2).values.tolist())
print("sort", torch.sort(torch.tensor([3, 1, 2]), descending=True).indices.tolist())
print("clamp", torch.clamp(torch.tensor([-2.0, 0.5, 3.0]), -1, 1).tolist())
print("cumsum", torch.cumsum(torch.arange(5), 0).tolist())
