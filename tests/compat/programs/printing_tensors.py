"""Printing tensors the way tutorials do (print(x) rather than x.tolist()): float formatting (integral
values with a trailing '.', fixed decimals, scientific notation for wide ranges, tiny/huge values, nan/inf,
negative zero), integer/bool/float16/float64 dtype suffixes, empty tensors, 0-d tensors, requires_grad and
grad_fn-free suffixes, multi-line and summarised large tensors, torch.set_printoptions (precision,
sci_mode, threshold, edgeitems, linewidth, profile), f-string formatting of 0-d tensors (__format__),
Python number conversions (int/float/bool/complex-free, math functions, item types), and repr of torch.Size,
dtype comparisons, a Parameter, module and parameter-container reprs and legacy type names."""
import math

import torch
import torch.nn as nn

print(torch.tensor([1.0, 2.0, 3.0]))
print(torch.tensor([1.5, -2.25, 3.0]))
print(torch.tensor([[0.1, 0.22], [3.333, -4.4444]]))
print(torch.tensor([1e-5, 1.0, 1e5]))
print(torch.tensor([1e-10, 2e-10]))
print(torch.tensor([123456789.0, 1.0]))
print(torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0]))
print(torch.tensor([-0.0, 0.0, 1.0]))
print(torch.tensor([1, -2, 300]))
print(torch.tensor([True, False]))
print(torch.tensor([1.0, 2.5], dtype=torch.float64))
print(torch.tensor([1.0, 2.5], dtype=torch.float16))
print(torch.tensor([1, 2], dtype=torch.int32), torch.tensor([3], dtype=torch.uint8), torch.tensor([4], dtype=torch.int8))
print(torch.tensor(3.5), torch.tensor(7), torch.tensor(True), torch.tensor(2.0, dtype=torch.float64))
print(torch.tensor([]), torch.zeros(0, 3), torch.zeros(2, 0, dtype=torch.long))
print(torch.ones(2, 2, requires_grad=True))
print(torch.arange(12.0).view(2, 2, 3))
print(torch.arange(2000))
print(torch.arange(2000.0).view(40, 50) / 7)
print(torch.linspace(0, 1, 7))
print(torch.full((3,), 1 / 3))
print(torch.tensor([[1e-3, 1e3], [5.0, 6.0]]))
print(torch.tensor([0.1234567, 100.5]))
print(torch.eye(3) * 2.5)
x = torch.tensor([1.123456789, 22.5, -0.000123])
torch.set_printoptions(precision=2)
print(x)
torch.set_printoptions(sci_mode=True)
print(x)
torch.set_printoptions(sci_mode=False, precision=6)
print(x)
torch.set_printoptions(threshold=5, edgeitems=2)
print(torch.arange(10), torch.arange(20.0).view(4, 5))
torch.set_printoptions(linewidth=40)
print(torch.arange(30.0) * 1.5)
torch.set_printoptions(profile="default")
print(torch.arange(30.0) * 1.5)
t = torch.tensor(2.718281828)
print(f"{t:.3f}", f"{t.item():.2e}", "{:.1f}".format(torch.tensor(0.25)), f"{torch.tensor(5)}", f"{torch.tensor(5):>4}")
print(int(torch.tensor(3.9)), float(torch.tensor(2)), bool(torch.tensor(0.0)), int(torch.tensor([7])))
print(math.floor(torch.tensor(2.5)), math.sqrt(torch.tensor(16.0)), round(torch.tensor(2.567).item(), 2),
      abs(torch.tensor(-3)).item())
print(type(torch.tensor(1).item()).__name__, type(torch.tensor(1.0).item()).__name__,
      type(torch.tensor(True).item()).__name__, type(torch.tensor([1, 2]).tolist()[0]).__name__)
print(torch.tensor([1.5, 2.5]).sum(), torch.tensor([[1, 2]]).shape, torch.Size([2, 3]), torch.zeros(2, 3).size(1))
print(torch.float32 == torch.float, torch.int64 == torch.long, torch.tensor([1.0]).dtype == torch.float32)
print(nn.Parameter(torch.tensor([1.0, -1.0])))
print(torch.tensor([[1.0, -1.0]]).t())
print(torch.tensor([0.001, 0.0001]), torch.tensor([1.0, 0.5, 0.25, 0.125]))
print(torch.tensor([[-1.5, 2.0], [3.0, -4.0]], dtype=torch.float64) / 3)
print(nn.ModuleDict({"rnn": nn.RNN(2, 3, nonlinearity="relu"), "attn": nn.MultiheadAttention(4, 2),
                     "conv": nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), "bn": nn.BatchNorm2d(8)}))
print(nn.ParameterList([nn.Parameter(torch.ones(2)), nn.Parameter(torch.zeros(3, 2))]))
print(nn.ParameterDict({"w": nn.Parameter(torch.ones(2))}))
print(torch.ones(1).type(), torch.ones(1, dtype=torch.float16).type(), torch.ones(1, dtype=torch.long).type())
