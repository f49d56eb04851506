"""Functions called with out= (the tensor tutorial writes torch.matmul(tensor, tensor.T, out=y3)), and
keyword-argument calls of common functions and methods."""
import torch

tensor = torch.arange(9, dtype=torch.float32).view(3, 3)
y3 = torch.empty(3, 3)
torch.matmul(tensor, tensor.T, out=y3)
print("matmul out", y3[0].tolist())
z3 = torch.empty(3, 3)
torch.mul(tensor, tensor, out=z3)
print("mul out", z3[1].tolist())
s = torch.empty(3)
torch.sum(tensor, dim=1, out=s)
print("sum out", s.tolist())
print("keywords", torch.sum(input=tensor, dim=0).tolist(), tensor.add(other=tensor, alpha=2)[0].tolist())
print("zeros size=", torch.zeros(size=(2, 2)).tolist())
print("matmul input/other", torch.matmul(input=tensor, other=tensor)[2].tolist())
