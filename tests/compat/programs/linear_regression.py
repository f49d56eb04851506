"""Linear regression with nn.Linear, MSELoss and SGD, the first thing most tutorials train."""
import torch
import torch.nn as nn

x = torch.arange(0, 20, dtype=torch.float32).unsqueeze(1) / 10
y = 3.0 * x - 1.5 + 0.1 * torch.sin(7 * x)

model = nn.Linear(1, 1)
with torch.no_grad():
    model.weight.fill_(0.5)
    model.bias.fill_(0.0)
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(100):
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    if (epoch + 1) % 20 == 0:
        print(f"Epoch [{epoch + 1}/100], Loss: {loss.item():.5f}")

w, b = model.weight.item(), model.bias.item()
print(f"w = {w:.4f}, b = {b:.4f}")
print("prediction at 2.5:", round(model(torch.tensor([[2.5]])).item(), 4))
