"""'NLP From Scratch: Classifying Names with a Character-Level RNN', with synthetic names: letterToIndex,
lineToTensor one-hots (line_length x 1 x n_letters), the hand-written RNN module (i2h, h2h, LogSoftmax),
NLLLoss training one name at a time with manual SGD (p.data.add_(p.grad.data, alpha=-lr)), categoryFromOutput
via topk, an evaluation confusion matrix, and the same task with nn.RNN on a padded batch and
pack_padded_sequence."""
import string

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)
all_categories = ["Italian", "Japanese", "Russian"]
category_lines = {
    "Italian": ["rossi", "bianchi", "romano", "ricci", "moretti", "gallo", "conti", "marino"],
    "Japanese": ["sato", "suzuki", "takahashi", "tanaka", "watanabe", "ito", "nakamura", "kobayashi"],
    "Russian": ["ivanov", "smirnov", "kuznetsov", "popov", "vasiliev", "petrov", "sokolov", "mikhailov"],
}
n_categories = len(all_categories)


def letterToIndex(letter):
    return all_letters.find(letter)


def letterToTensor(letter):
    tensor = torch.zeros(1, n_letters)
    tensor[0][letterToIndex(letter)] = 1
    return tensor


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


print(letterToTensor("J").nonzero().tolist(), lineToTensor("Jones").size())


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size, hidden_size)
        self.h2h = nn.Linear(hidden_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        hidden = torch.tanh(self.i2h(input) + self.h2h(hidden))
        output = self.h2o(hidden)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


def det_init(module, scale=0.3):
    with torch.no_grad():
        for i, p in enumerate(module.parameters()):
            p.copy_(scale * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.91 + i).view_as(p))


n_hidden = 24
rnn = RNN(n_letters, n_hidden, n_categories)
det_init(rnn)
output, next_hidden = rnn(lineToTensor("Albert")[0], rnn.initHidden())
print("first step", [round(v, 4) for v in output[0].tolist()])


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i


print(categoryFromOutput(output))
criterion = nn.NLLLoss()
learning_rate = 0.02


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


examples = [(c, line) for k in range(8) for c in all_categories for line in [category_lines[c][k]]]
current_loss = 0
for it in range(1, 4 * len(examples) + 1):
    category, line = examples[(it * 7) % len(examples)]
    category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
    output, loss = train(category_tensor, lineToTensor(line))
    current_loss += loss
    if it % 24 == 0:
        guess, guess_i = categoryFromOutput(output)
        correct = "✓" if guess == category else "✗ (%s)" % category
        print("%d %d%% %.4f %s / %s %s avg %.4f" % (it, it / (4 * len(examples)) * 100, loss, line, guess, correct,
                                                     current_loss / 24))
        current_loss = 0


def evaluate(line_tensor):
    hidden = rnn.initHidden()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    return output


confusion = torch.zeros(n_categories, n_categories)
with torch.no_grad():
    for category, line in examples:
        guess, guess_i = categoryFromOutput(evaluate(lineToTensor(line)))
        confusion[all_categories.index(category)][guess_i] += 1
for i in range(n_categories):
    confusion[i] = confusion[i] / confusion[i].sum()
print("confusion", [[round(v, 3) for v in row] for row in confusion.tolist()])


def predict(input_line, n_predictions=2):
    with torch.no_grad():
        output = evaluate(lineToTensor(input_line))
        topv, topi = output.topk(n_predictions, 1, True)
        return [(round(topv[0][i].item(), 3), all_categories[topi[0][i].item()]) for i in range(n_predictions)]


print("predict", predict("dovesky"), predict("satoshi"))


class BatchedRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(n_letters + 1, 10, padding_idx=0)
        self.rnn = nn.RNN(10, 16, batch_first=True, nonlinearity="tanh")
        self.out = nn.Linear(16, n_categories)

    def forward(self, padded, lengths):
        packed = pack_padded_sequence(self.embed(padded), lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.rnn(packed)
        return self.out(h_n[-1])


model = BatchedRNN()
det_init(model, 0.25)
with torch.no_grad():
    model.embed.weight[0].zero_()
names = [line for _, line in examples]
seqs = [torch.tensor([letterToIndex(ch) + 1 for ch in n]) for n in names]
padded = pad_sequence(seqs, batch_first=True)
lengths = torch.tensor([len(s) for s in seqs])
targets = torch.tensor([all_categories.index(c) for c, _ in examples])
print("padded", tuple(padded.shape), lengths.max().item(), padded[0].tolist())
opt = torch.optim.RMSprop(model.parameters(), lr=0.01)
for epoch in range(12):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(padded, lengths), targets)
    loss.backward()
    opt.step()
    if epoch % 4 == 3:
        acc = (model(padded, lengths).argmax(1) == targets).float().mean().item()
        print("batched epoch", epoch, round(loss.item(), 4), round(acc, 4))
