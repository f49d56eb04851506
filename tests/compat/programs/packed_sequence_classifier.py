"""Variable-length sequence classification: pad_sequence, pack_padded_sequence (enforce_sorted=False), a
bidirectional LSTM, pad_packed_sequence, and the last hidden states of both directions."""
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence


class Classifier(nn.Module):
    def __init__(self, vocab=10, emb=6, hidden=8, classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embedding(tokens), lengths, batch_first=True, enforce_sorted=False)
        out, (h, c) = self.lstm(packed)
        padded, out_lengths = pad_packed_sequence(out, batch_first=True)
        return self.fc(torch.cat([h[-2], h[-1]], dim=1)), padded, out_lengths


seqs = [torch.tensor([1, 2, 3, 4]), torch.tensor([5, 6]), torch.tensor([7, 8, 9]), torch.tensor([2, 4, 6, 8, 9])]
lengths = torch.tensor([len(s) for s in seqs])
tokens = pad_sequence(seqs, batch_first=True)
labels = torch.tensor([0, 1, 1, 0])
print("padded", tokens.tolist())
model = Classifier()
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(0.3 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.45 + k).view_as(p))
    model.embedding.weight[0].zero_()
opt = torch.optim.Adam(model.parameters(), lr=0.02)
for epoch in range(5):
    opt.zero_grad()
    logits, padded, out_lengths = model(tokens, lengths)
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    opt.step()
    print(f"epoch {epoch} loss {loss.item():.4f}")
print("unpacked", tuple(padded.shape), out_lengths.tolist())
print("padding rows are zero", bool((padded[1, 2:] == 0).all()))
