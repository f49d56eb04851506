"""Next-value prediction on sine waves with nn.LSTM(batch_first=True) and a Linear head, Adam, MSE."""
import torch
import torch.nn as nn


class SeqModel(nn.Module):
    def __init__(self, hidden=12):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.head(out[:, -1, :])


t = torch.arange(0, 8 * 24, dtype=torch.float32).view(8, 24) * 0.1
series = torch.sin(t + torch.arange(8, dtype=torch.float32).unsqueeze(1))
x = series[:, :-1].unsqueeze(-1)
y = series[:, -1:]

model = SeqModel()
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(0.2 * torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.53).reshape(p.shape))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
loss_fn = nn.MSELoss()
for it in range(15):
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    if it % 5 == 4:
        print(f"iter {it + 1} mse {loss.item():.5f}")
print("parameters:", sum(p.numel() for p in model.parameters()))
print("names:", [n for n, _ in model.named_parameters()][:4])
print("pred:", [round(v, 3) for v in model(x).squeeze(1).tolist()])
