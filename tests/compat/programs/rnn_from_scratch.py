"""The char-RNN classification tutorial's hand-written RNN: i2h/h2o Linear layers stepped in a Python loop
over one-hot letters, NLLLoss on LogSoftmax, manual SGD on p.data."""
import torch
import torch.nn as nn

all_letters = "abcdefghijklmnopqrstuvwxyz"
n_letters = len(all_letters)
categories = ["en", "fr", "de"]
names = [("smith", 0), ("dupont", 1), ("muller", 2), ("jones", 0), ("martin", 1), ("schmidt", 2)]


def line_to_tensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = torch.tanh(self.i2h(combined))
        output = self.softmax(self.h2o(hidden))
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


rnn = RNN(n_letters, 16, len(categories))
with torch.no_grad():
    for i, p in enumerate(rnn.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel()) * 0.37 + 2 * i).view(p.shape) * 0.25)
criterion = nn.NLLLoss()
learning_rate = 0.05


def train(category_tensor, line_tensor):
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item()


for epoch in range(4):
    total = 0.0
    for name, cat in names:
        output, loss = train(torch.tensor([cat], dtype=torch.long), line_to_tensor(name))
        total += loss
    print(f"epoch {epoch} mean loss {total / len(names):.4f}")

with torch.no_grad():
    for name, cat in names:
        hidden = rnn.initHidden()
        line = line_to_tensor(name)
        for i in range(line.size(0)):
            output, hidden = rnn(line[i], hidden)
        topv, topi = output.topk(1, 1, True)
        print(name, categories[topi[0].item()], round(topv[0].item(), 3))
