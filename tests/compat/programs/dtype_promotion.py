"""Type promotion as the 'Tensor Attributes' docs describe it: result_type/promote_types/can_cast, tensor
op tensor across categories, dimensioned tensors vs 0-d tensors vs Python scalars, integer division and
true division, in-place ops that cannot change the result type, comparisons, reductions' result dtypes
(sum of ints, mean needs floats), the default dtype, and conversions (to/type/half/double/long, int
truncation, bool).  Dtypes are printed by name (str(dtype).split('.')[-1])."""
import torch


def name(d):
    return str(d).split(".")[-1]


i8 = torch.tensor([1, -2], dtype=torch.int8)
u8 = torch.tensor([200, 3], dtype=torch.uint8)
i32 = torch.tensor([7, 9], dtype=torch.int32)
i64 = torch.tensor([7, 9])
f16 = torch.tensor([1.5, 2.0], dtype=torch.float16)
f32 = torch.tensor([1.5, 2.0])
f64 = torch.tensor([1.5, 2.0], dtype=torch.float64)
b = torch.tensor([True, False])
tensors = {"bool": b, "uint8": u8, "int8": i8, "int32": i32, "int64": i64, "float16": f16, "float32": f32,
           "float64": f64}
for n1, t1 in tensors.items():
    print(n1, [name((t1 + t2).dtype) for t2 in tensors.values()])

print("int + 2.5", name((i64 + 2.5).dtype), "int32 * 2", name((i32 * 2).dtype), "f16 * 1e3", name((f16 * 1000.0).dtype))
print("uint8 + 0-d int64", name((u8 + torch.tensor(5)).dtype), "uint8 + 0-d float64",
      name((u8 + torch.tensor(5.0, dtype=torch.float64)).dtype))
print("int32 + 0-d float64", name((i32 + torch.tensor(1.0, dtype=torch.float64)).dtype),
      "f16 + 0-d f64", name((f16 + torch.tensor(1.0, dtype=torch.float64)).dtype))
print("0-d + 0-d", name((torch.tensor(1, dtype=torch.int8) + torch.tensor(1.0, dtype=torch.float64)).dtype))
print("bool + True", name((b + True).dtype), "bool * 2", name((b * 2).dtype), "bool & bool", name((b & b).dtype))
print("result_type", name(torch.result_type(i32, 1.0)), name(torch.result_type(u8, i8)),
      name(torch.result_type(torch.tensor(1), torch.tensor([1], dtype=torch.int16))))
print("promote_types", name(torch.promote_types(torch.uint8, torch.int8)),
      name(torch.promote_types(torch.float16, torch.int64)), name(torch.promote_types(torch.bool, torch.int32)))
print("can_cast", torch.can_cast(torch.float64, torch.int32), torch.can_cast(torch.int32, torch.float16),
      torch.can_cast(torch.int64, torch.uint8), torch.can_cast(torch.bool, torch.int8))
print("div", (i64 / 2).tolist(), name((i64 / 2).dtype), (i64 // 2).tolist(), name((i64 // 2).dtype))
print("div rounding", torch.div(torch.tensor([-7, 7]), 2, rounding_mode="floor").tolist(),
      torch.div(torch.tensor([-7, 7]), 2, rounding_mode="trunc").tolist(), (torch.tensor([-7, 7]) % 3).tolist())
print("float floor-div", (torch.tensor([-7.5, 7.5]) // 2).tolist(), torch.fmod(torch.tensor([-7, 7]), 3).tolist())
print("pow", name((i64 ** 2).dtype), name((i64 ** 0.5).dtype), name(torch.pow(2, i64).dtype),
      name((2.0 ** i64).dtype))
print("true-div int tensors", name((i32 / i32).dtype), name(torch.true_divide(i8, i8).dtype))
try:
    i64 += 1.5
except RuntimeError as e:
    print("in-place int += float raises RuntimeError")
f32c = f32.clone()
f32c += torch.tensor([1, 2])
print("in-place float += int", f32c.tolist(), name(f32c.dtype))
i64c = i64.clone()
i64c.mul_(2)
print("in-place int *= 2", i64c.tolist())
print("comparison", name((i32 > 8).dtype), (i32 == 7.0).tolist(), (f16 < f64).tolist())
print("sum int8", name(i8.sum().dtype), "sum bool", name(b.sum().dtype), b.sum().item(),
      "sum uint8", u8.sum().item(), "prod int32", name(i32.prod().dtype))
print("sum dtype arg", name(i8.sum(dtype=torch.float32).dtype), "cumsum int32", name(i32.cumsum(0).dtype))
try:
    i64.mean()
except RuntimeError:
    print("mean of int64 raises RuntimeError")
print("mean float", i64.float().mean().item(), "mean dtype=", i64.mean(dtype=torch.float64).item())
print("max int", name(i32.max().dtype), "argmax", name(f32.argmax().dtype), "std f16", name(f16.std().dtype))
print("default dtype", name(torch.get_default_dtype()), name(torch.tensor([1.0]).dtype), name(torch.tensor(1).dtype),
      name(torch.tensor(True).dtype), name(torch.arange(3.0).dtype), name(torch.arange(3).dtype),
      name(torch.linspace(0, 1, 3).dtype), name(torch.full((1,), 7).dtype), name(torch.zeros(1).dtype))
torch.set_default_dtype(torch.float64)
print("after set_default_dtype", name(torch.tensor([1.0]).dtype), name((torch.tensor([1, 2]) * 0.5).dtype),
      name(torch.ones(1).dtype), name(torch.tensor([1.0], dtype=torch.float32).dtype))
torch.set_default_dtype(torch.float32)
g = torch.tensor([-2.7, -0.5, 0.5, 2.7, 300.0])
print("to int", g.to(torch.int64).tolist(), g.long().tolist(), g.int().tolist(), g.bool().tolist())
print("to uint8 wraps", torch.tensor([-1, 256, 257]).to(torch.uint8).tolist())
print("half round trip", torch.tensor([0.1, 1000.1, 65504.0]).half().float().tolist())
print("double", g.double().dtype == torch.float64, g.type(torch.float16).dtype == torch.float16,
      g.to(dtype=torch.int16).tolist(), name(g.to(i8).dtype))
print("float64 precision", torch.tensor(0.1, dtype=torch.float64).item() == 0.1, torch.tensor(0.1).item() == 0.1)
print("is_floating_point", f16.is_floating_point(), i64.is_floating_point(), torch.is_floating_point(b),
      f32.element_size(), f64.element_size(), i8.element_size(), b.element_size())
print("type_as", name(i64.type_as(f16).dtype), name(torch.zeros_like(i32, dtype=torch.float64).dtype),
      name(torch.ones_like(f16).dtype), name(i32.new_zeros(2).dtype), name(f64.new_tensor([1, 2]).dtype))
print("clamp int with float", name(torch.clamp(i64, 0.5, 8.5).dtype), torch.clamp(i64, 0.5, 8.5).tolist())
print("where mixed", name(torch.where(b, i32, f16).dtype), name(torch.where(b, i8, 2.5).dtype))
print("cat mixed", name(torch.cat([i32, f16]).dtype), name(torch.stack([u8, i8]).dtype))
print("matmul int", (torch.tensor([[1, 2]]) @ torch.tensor([[3], [4]])).tolist())
print("bitwise", (torch.tensor([12]) & 10).tolist(), (torch.tensor([12]) | 3).tolist(), (~torch.tensor([0])).tolist(),
      (torch.tensor([1]) << 3).tolist())
