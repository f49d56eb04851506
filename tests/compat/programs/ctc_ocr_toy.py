"""A toy OCR / speech model trained with CTC: a Conv1d front end over (N, C, T) feature frames, a bidirectional
LSTM over (T, N, H) (batch_first=False), a Linear to classes with log_softmax(2), nn.CTCLoss(blank=0,
zero_infinity=True) with concatenated 1-D targets and per-sample input/target lengths (of different lengths),
a few Adam steps with clip_grad_norm_, greedy decoding (argmax, collapse repeats, drop blanks), plus
CTCLoss's reductions, padded 2-D targets, an impossible alignment (inf, or 0 with zero_infinity) and the
gradient of F.ctc_loss with respect to the log-probabilities."""
import torch
import torch.nn as nn
import torch.nn.functional as F

n_classes, feat, frames_per_char = 5, 6, 4      # classes: blank + 4 "characters"
protos = torch.stack([torch.cos(torch.arange(feat, dtype=torch.float32) * (k + 1) * 0.7 + k) for k in range(n_classes)])


def render(label_seq, T):
    """Feature frames for a character sequence: each character's prototype for 4 frames, blanks between."""
    x = protos[0].unsqueeze(1).repeat(1, T).clone()
    t = 1
    for c in label_seq:
        x[:, t:t + frames_per_char - 1] = protos[c].unsqueeze(1)
        t += frames_per_char
    return x + 0.05 * torch.sin(torch.arange(feat * T, dtype=torch.float32).view(feat, T) * 1.3)


texts = [[1, 2, 3], [4, 4, 1], [2, 1], [3, 4, 2, 1], [1, 3], [4, 2, 2]]
T = 18
inputs = torch.stack([render(s, T) for s in texts])                       # (N, C, T)
input_lengths = torch.tensor([min(T, 1 + frames_per_char * len(s) + 1) for s in texts])
targets = torch.cat([torch.tensor(s) for s in texts])
target_lengths = torch.tensor([len(s) for s in texts])
print("batch", tuple(inputs.shape), input_lengths.tolist(), target_lengths.tolist(), targets.tolist())


class CTCModel(nn.Module):
    def __init__(self, hidden=12):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(feat, 16, 3, padding=1), nn.ReLU(), nn.Conv1d(16, 16, 3, padding=1), nn.ReLU())
        self.rnn = nn.LSTM(16, hidden, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, n_classes)

    def forward(self, x):
        h = self.conv(x)                 # (N, 16, T)
        h = h.permute(2, 0, 1)           # (T, N, 16)
        h, _ = self.rnn(h)
        return self.fc(h).log_softmax(2)  # (T, N, C)


model = CTCModel()
with torch.no_grad():
    for i, (name, p) in enumerate(model.named_parameters()):
        scale = 0.6 / (p.shape[1] ** 0.5 if p.dim() > 1 else 4.0)
        p.copy_(scale * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.53 + 0.7 * i).view_as(p))
print("params", sum(p.numel() for p in model.parameters()), [n for n, _ in model.rnn.named_parameters()][:4])

ctc = nn.CTCLoss(blank=0, zero_infinity=True)
opt = torch.optim.Adam(model.parameters(), lr=0.03)


def greedy_decode(log_probs, lengths):
    best = log_probs.argmax(2).t()          # (N, T)
    out = []
    for seq, n in zip(best.tolist(), lengths.tolist()):
        decoded, prev = [], 0
        for c in seq[:n]:
            if c != prev and c != 0:
                decoded.append(c)
            prev = c
        out.append(decoded)
    return out


for step in range(40):
    opt.zero_grad()
    log_probs = model(inputs)
    loss = ctc(log_probs, targets, input_lengths, target_lengths)
    loss.backward()
    gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    if step % 8 == 0 or step == 39:
        print("step %2d loss %.4f grad norm %.4f" % (step, loss.item(), gnorm.item()))
model.eval()
with torch.no_grad():
    lp = model(inputs)
decoded = greedy_decode(lp, input_lengths)
print("decoded", decoded)
print("exact", sum(d == s for d, s in zip(decoded, texts)), "of", len(texts))
print("final loss per sample", [round(v, 4) for v in F.ctc_loss(lp, targets, input_lengths, target_lengths,
                                                                  reduction="none").tolist()])

# reductions, padded targets, impossible alignments, gradient
lp = torch.sin(torch.arange(7 * 2 * 4, dtype=torch.float32).view(7, 2, 4) * 0.9).log_softmax(2).detach().requires_grad_()
padded = torch.tensor([[1, 2, 2], [3, 1, 0]])
il, tl = torch.tensor([7, 5]), torch.tensor([3, 2])
for red in ("none", "sum", "mean"):
    v = F.ctc_loss(lp, padded, il, tl, reduction=red)
    print("reduction", red, [round(x, 4) for x in v.flatten().tolist()])
loss = F.ctc_loss(lp, padded, il, tl)
loss.backward()
print("grad", [round(x, 4) for x in lp.grad[:3, 0].flatten().tolist()], "row sums", [round(x, 5) + 0.0 for x in lp.grad.sum(2)[:3, 0].tolist()])
short = torch.tensor([2, 5])                     # [1, 2, 2] needs 4 frames: impossible in 2
print("impossible", [round(x, 4) for x in F.ctc_loss(lp, padded, short, tl, reduction="none").tolist()],
      [round(x, 4) for x in F.ctc_loss(lp, padded, short, tl, reduction="none", zero_infinity=True).tolist()])
print("blank=3", round(nn.CTCLoss(blank=3)(lp, torch.tensor([[1, 2, 2], [0, 1, 1]]), il, tl).item(), 4))
