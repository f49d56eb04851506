"""The word-language-model example's training tricks on a tiny LSTM LM: weight tying (decoder.weight =
encoder.weight, one shared Parameter in parameters() and state_dict), repackage_hidden (detach a tuple),
clip_grad_norm_ (returned total norm, error_if_nonfinite, foreach) and clip_grad_value_, learning-rate warmup
with LambdaLR (linear warmup then inverse square root, the Transformer schedule), SequentialLR/LinearLR +
CosineAnnealingLR, get_last_lr, AdamW param groups without weight decay for biases and norms, and
perplexity (math.exp of the mean loss)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

ntoken, ninp, nhid, bptt = 12, 10, 10, 6


class RNNModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, 1)
        self.norm = nn.LayerNorm(nhid)
        self.decoder = nn.Linear(nhid, ntoken)
        self.decoder.weight = self.encoder.weight
        self.init_weights()

    def init_weights(self):
        with torch.no_grad():
            for i, p in enumerate(self.parameters()):
                p.copy_(0.2 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.53 + i).view_as(p))

    def forward(self, input, hidden):
        emb = self.encoder(input)
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(self.norm(output)).view(-1, ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(1, bsz, nhid), weight.new_zeros(1, bsz, nhid))


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


model = RNNModel()
print("tied", model.decoder.weight is model.encoder.weight, len(list(model.parameters())),
      sorted(model.state_dict().keys()))
print("param count", sum(p.numel() for p in model.parameters()))
decay, no_decay = [], []
for name, p in model.named_parameters():
    (no_decay if name.endswith("bias") or "norm" in name else decay).append(p)
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                              lr=0.05)
warmup = 4


def lr_lambda(step):
    step = step + 1
    return min(step / warmup, (warmup / step) ** 0.5)


scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
data = torch.tensor([(3 * i + i // 5) % ntoken for i in range(4 * 37)]).view(4, -1).t().contiguous()
print("batchified", tuple(data.shape))
criterion = nn.NLLLoss()
hidden = model.init_hidden(4)
total_loss, steps = 0.0, 0
for i in range(0, data.size(0) - 1, bptt):
    seq_len = min(bptt, len(data) - 1 - i)
    inp, target = data[i:i + seq_len], data[i + 1:i + 1 + seq_len].reshape(-1)
    hidden = repackage_hidden(hidden)
    model.zero_grad()
    output, hidden = model(inp, hidden)
    loss = criterion(output, target)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    optimizer.step()
    scheduler.step()
    total_loss += loss.item()
    steps += 1
    print(f"| step {steps} | lr {scheduler.get_last_lr()[0]:.5f} | loss {loss.item():5.3f} | ppl "
          f"{math.exp(loss.item()):7.3f} | grad norm {norm.item():.4f}")
print("mean ppl", round(math.exp(total_loss / steps), 3), "groups lr", [round(g["lr"], 5) for g in optimizer.param_groups])
print("still tied", torch.equal(model.decoder.weight, model.encoder.weight))

p = nn.Parameter(torch.tensor([3.0, -4.0]))
p.grad = torch.tensor([3.0, -4.0])
q = nn.Parameter(torch.tensor([1.0]))
q.grad = torch.tensor([12.0])
total = torch.nn.utils.clip_grad_norm_([p, q], max_norm=6.5, norm_type=2.0)
print("clip norm", round(total.item(), 4), [round(v, 4) for v in p.grad.tolist()], [round(v, 4) for v in q.grad.tolist()])
p.grad = torch.tensor([3.0, -4.0])
print("inf norm", torch.nn.utils.clip_grad_norm_(p, 1.0, norm_type="inf").item(), p.grad.tolist())
p.grad = torch.tensor([0.3, -4.0])
torch.nn.utils.clip_grad_value_([p], clip_value=1.0)
print("clip value", p.grad.tolist())
p.grad = torch.tensor([float("nan"), 1.0])
try:
    torch.nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
except RuntimeError:
    print("nonfinite norm raises RuntimeError")
p.grad = torch.tensor([3.0, 4.0])
print("get_total_norm", torch.nn.utils.get_total_norm([p.grad]).item())

w = nn.Parameter(torch.zeros(1))
opt = torch.optim.SGD([w], lr=1.0)
s1 = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=3)
s2 = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.1)
seq = torch.optim.lr_scheduler.SequentialLR(opt, schedulers=[s1, s2], milestones=[3])
lrs = []
for _ in range(9):
    opt.step()
    seq.step()
    lrs.append(round(seq.get_last_lr()[0], 4))
print("warmup+cosine", lrs)
opt2 = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
onecycle = torch.optim.lr_scheduler.OneCycleLR(opt2, max_lr=1.0, total_steps=8, pct_start=0.25)
cyc = []
for _ in range(8):
    opt2.step()
    cyc.append(round(opt2.param_groups[0]["lr"], 4))
    onecycle.step() if len(cyc) < 8 else None
print("onecycle", cyc)
