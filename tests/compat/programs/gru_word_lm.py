"""A word-level language model (Embedding -> GRU -> Linear decoder) in the style of the word_language_model
example: batchify, get_batch with bptt, hidden state detached between batches, clip_grad_norm_, perplexity."""
import math

import torch
import torch.nn as nn

text = ("the cat sat on the mat the dog sat on the log the cat saw the dog and the dog saw the cat " * 4).split()
vocab = sorted(set(text))
idx = {w: i for i, w in enumerate(vocab)}
data = torch.tensor([idx[w] for w in text], dtype=torch.long)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


class RNNModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid, nlayers):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.GRU(ninp, nhid, nlayers)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nhid, self.nlayers = nhid, nlayers

    def forward(self, input, hidden):
        emb = self.encoder(input)
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, decoded.size(-1))
        return nn.functional.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


bptt = 6
train_data = batchify(data, 4)


def get_batch(source, i):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)


model = RNNModel(len(vocab), 8, 12, 2)
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(0.3 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.77 + k).view_as(p))
criterion = nn.NLLLoss()
lr = 2.0
for epoch in range(3):
    model.train()
    hidden = model.init_hidden(4)
    total_loss, n = 0.0, 0
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        inputs, targets = get_batch(train_data, i)
        hidden = repackage_hidden(hidden)
        model.zero_grad()
        output, hidden = model(inputs, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        total_loss += loss.item()
        n += 1
    cur = total_loss / n
    print(f"| epoch {epoch + 1} | loss {cur:5.3f} | ppl {math.exp(cur):8.3f}")
