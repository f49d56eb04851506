"""Dtypes printed as they are: the tensors tutorial's f-string, str/repr of tensors' dtypes in containers, aliases,
the default dtype and promote_types, a model's parameters' dtype after .double(), dtype attributes, torch.finfo
of a tensor's dtype, dtype-keyed dicts and sets, and a dtype passed on from one tensor to another."""
import torch
import torch.nn as nn

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
x_rand = torch.rand_like(x_data, dtype=torch.float)
print(f"Shape of tensor: {x_rand.shape}")
print(f"Datatype of tensor: {x_rand.dtype}")
print(f"Datatype of x_data: {x_data.dtype}")
print("dtypes", [x_data.dtype, x_rand.dtype, (x_data > 2).dtype, x_data.half().dtype, x_data.double().dtype])
print("aliases", torch.float, torch.double, torch.half, torch.long, torch.int, torch.short, torch.bool, torch.uint8)
print("same objects", torch.float is torch.float32, torch.long is torch.int64, torch.int is torch.int32)
print("default", torch.get_default_dtype(), "promote", torch.promote_types(torch.int8, torch.uint8),
      torch.promote_types(torch.int64, torch.float16))
print("result_type", torch.result_type(x_data, 2.5), torch.result_type(x_data, x_rand))

model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
print("model", {n: p.dtype for n, p in model.named_parameters()})
model.double()
print("model.double()", sorted({str(p.dtype) for p in model.parameters()}))
print(nn.ParameterList([nn.Parameter(torch.ones(2, dtype=torch.float64))]))

for d in (torch.float16, torch.float32, torch.float64, torch.int8, torch.uint8, torch.int64, torch.bool):
    print(d, d.is_floating_point, d.is_complex, d.is_signed, d.itemsize, d.to_real())
print("to_complex", torch.float32.to_complex(), torch.float64.to_complex())
print("finfo", torch.finfo(x_rand.dtype).eps, torch.finfo(x_rand.dtype).dtype, torch.iinfo(x_data.dtype).max)

counts = {}
for t in (x_data, x_rand, x_data * 2, x_rand * 2, x_data > 0):
    counts[t.dtype] = counts.get(t.dtype, 0) + 1
print("counts", counts)
print("set", len({torch.float, torch.float32, torch.double}), torch.float32 == torch.float, torch.float32 != torch.int32)
y = torch.zeros(2, dtype=x_data.dtype)
print("passed on", y, y.dtype, torch.ones(2).to(y.dtype), torch.ones(2, dtype=torch.int16))
print("type", x_rand.type(), x_data.type(torch.float64).dtype, isinstance(x_rand.dtype, torch.dtype))
print("tensor reprs", torch.tensor([1.5], dtype=torch.float64), torch.tensor([1, 2], dtype=torch.int32),
      torch.tensor([1.0], dtype=torch.float16))
