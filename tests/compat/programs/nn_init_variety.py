"""torch.nn.init across the board, printing what does not depend on the random stream: calculate_gain for
every nonlinearity, fan-in/fan-out of Linear/Conv weights, the deterministic initializers (constant_, ones_,
zeros_, eye_, dirac_ with groups), the bounds of the random ones (uniform_, kaiming_uniform_ in fan_in and
fan_out modes, xavier_uniform_ with gain, trunc_normal_'s [a, b]), orthogonal_'s W W^T = I, sparse_'s zeros
per column, the default reset_parameters bounds of Linear/Conv2d/Embedding/LSTM, same-seed reproducibility,
and a model.apply(init_fn) pass that dispatches on layer type."""
import math

import torch
import torch.nn as nn

for nl in ["linear", "conv1d", "conv2d", "sigmoid", "tanh", "relu", "selu"]:
    print(nl, round(nn.init.calculate_gain(nl), 6))
print("leaky_relu", round(nn.init.calculate_gain("leaky_relu"), 6), round(nn.init.calculate_gain("leaky_relu", 0.2), 6))
for shape in [(5, 3), (8, 4, 3, 3), (6, 2, 5), (7,)]:
    t = torch.empty(shape)
    try:
        print("fans", shape, nn.init._calculate_fan_in_and_fan_out(t))
    except ValueError:
        print("fans", shape, "ValueError")

w = torch.empty(3, 5)
print("constant", nn.init.constant_(w, 0.3).tolist()[0], nn.init.ones_(w).sum().item(), nn.init.zeros_(w).sum().item())
print("eye", nn.init.eye_(torch.empty(3, 4)).tolist())
d = nn.init.dirac_(torch.empty(4, 2, 3))
print("dirac", d.nonzero().tolist(), d.sum().item())
d2 = nn.init.dirac_(torch.empty(4, 2, 3, 3), groups=2)
print("dirac groups", d2.nonzero().tolist())
x = torch.arange(2 * 6, dtype=torch.float32).view(1, 2, 6)
conv = nn.Conv1d(2, 4, 3, padding=1, bias=False)
nn.init.dirac_(conv.weight)
print("dirac conv keeps channels", conv(x)[0, :2].tolist() == x[0].tolist(), conv(x)[0, 2:].abs().sum().item())

torch.manual_seed(123)
big = torch.empty(200, 50)
nn.init.uniform_(big, -0.2, 0.6)
print("uniform range", big.min().item() >= -0.2, big.max().item() < 0.6, abs(big.mean().item() - 0.2) < 0.02)
nn.init.kaiming_uniform_(big, a=math.sqrt(5))
bound = math.sqrt(6 / ((1 + 5) * 50))
print("kaiming_uniform fan_in", big.abs().max().item() <= bound, big.abs().max().item() > 0.95 * bound)
nn.init.kaiming_uniform_(big, mode="fan_out", nonlinearity="relu")
bound = math.sqrt(2) * math.sqrt(3 / 200)
print("kaiming_uniform fan_out", big.abs().max().item() <= bound, big.abs().max().item() > 0.95 * bound)
nn.init.kaiming_normal_(big, nonlinearity="relu")
print("kaiming_normal std", abs(big.std().item() - math.sqrt(2 / 50)) < 0.01)
nn.init.xavier_uniform_(big, gain=nn.init.calculate_gain("tanh"))
bound = 5 / 3 * math.sqrt(6 / 250)
print("xavier_uniform", big.abs().max().item() <= bound, big.abs().max().item() > 0.95 * bound)
nn.init.xavier_normal_(big)
print("xavier_normal std", abs(big.std().item() - math.sqrt(2 / 250)) < 0.005)
nn.init.normal_(big, mean=1.0, std=0.1)
print("normal", abs(big.mean().item() - 1.0) < 0.01, abs(big.std().item() - 0.1) < 0.01)
nn.init.trunc_normal_(big, mean=0.0, std=1.0, a=-0.5, b=0.25)
print("trunc_normal", big.min().item() >= -0.5, big.max().item() <= 0.25, big.min().item() < -0.49)
q = nn.init.orthogonal_(torch.empty(4, 6), gain=2.0)
print("orthogonal rows", torch.allclose(q @ q.t(), 4 * torch.eye(4), atol=1e-5))
q = nn.init.orthogonal_(torch.empty(6, 3))
print("orthogonal cols", torch.allclose(q.t() @ q, torch.eye(3), atol=1e-5))
s = nn.init.sparse_(torch.empty(10, 4), sparsity=0.3, std=0.05)
print("sparse zeros per column", (s == 0).sum(0).tolist())

torch.manual_seed(7)
a = nn.Linear(16, 8)
torch.manual_seed(7)
b = nn.Linear(16, 8)
print("same seed same init", torch.equal(a.weight, b.weight), torch.equal(a.bias, b.bias))
print("linear bounds", a.weight.abs().max().item() <= 1 / 4, a.bias.abs().max().item() <= 1 / 4)
c = nn.Conv2d(3, 5, 3)
print("conv bounds", c.weight.abs().max().item() <= 1 / math.sqrt(27), c.bias.abs().max().item() <= 1 / math.sqrt(27))
e = nn.Embedding(30, 4, padding_idx=2)
print("embedding", e.weight[2].tolist(), abs(e.weight.std().item() - 1.0) < 0.3)
lstm = nn.LSTM(4, 5)
print("lstm bounds", all(p.abs().max().item() <= 1 / math.sqrt(5) for p in lstm.parameters()))
ln = nn.LayerNorm(4)
bn = nn.BatchNorm2d(3)
print("norm defaults", ln.weight.tolist(), ln.bias.tolist(), bn.weight.tolist(), bn.running_var.tolist())
a.reset_parameters()
print("reset changes weights", not torch.equal(a.weight, b.weight))


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.constant_(m.bias, 0.01)
    elif isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.constant_(m.weight, 1)
        nn.init.constant_(m.bias, 0)


model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4, 3))
visited = []
model.apply(lambda m: visited.append(type(m).__name__))
model.apply(init_weights)
print("apply order", visited)
print("after apply", model[4].bias.tolist(), model[0].bias.tolist(), model[1].weight.tolist())
with torch.no_grad():
    model[4].weight.fill_(0.5)
    model[4].weight.uniform_(-0.1, 0.1)
print("uniform_ method", model[4].weight.abs().max().item() <= 0.1)
