"""A Transformer language model in the word_language_model example's shape: a PositionalEncoding buffer
filled with sin/cos by strided slices, a causal mask from nn.Transformer.generate_square_subsequent_mask,
and the whole model saved with torch.save(model, f) and loaded back with the default weights_only=True
inside torch.serialization.safe_globals([...])."""
import math
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=50):
        super(PositionalEncoding, self).__init__()
        self.dropout = nn.Dropout(p=dropout)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer("pe", pe)

    def forward(self, x):
        x = x + self.pe[:x.size(0), :]
        return self.dropout(x)


class TransformerModel(nn.Module):
    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.0):
        super().__init__()
        self.model_type = "Transformer"
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        layer = nn.TransformerEncoderLayer(ninp, nhead, nhid, dropout)
        self.encoder = nn.TransformerEncoder(layer, nlayers)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)

    def forward(self, src, has_mask=True):
        if has_mask:
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                self.src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
        else:
            self.src_mask = None
        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        return F.log_softmax(self.decoder(output), dim=-1)


ntokens = 11
model = TransformerModel(ntokens, 8, 2, 16, 2)
with torch.no_grad():
    for k, (name, p) in enumerate(model.named_parameters()):
        p.copy_(0.2 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.71 + k).view_as(p))
data = (torch.arange(7 * 4).view(7, 4) * 3) % ntokens
inputs, targets = data[:-1], data[1:].reshape(-1)
print("mask row 2", model.forward(inputs[:3]).shape, nn.Transformer.generate_square_subsequent_mask(3)[1].tolist())
print("pe[1, 0, :4]", [round(v, 4) for v in model.pos_encoder.pe[1, 0, :4].tolist()])
lr = 0.5
for step in range(4):
    model.zero_grad()
    output = model(inputs)
    loss = F.nll_loss(output.view(-1, ntokens), targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
    for p in model.parameters():
        p.data.add_(p.grad, alpha=-lr)
    print(f"step {step} loss {loss.item():.4f} ppl {math.exp(loss.item()):.3f}")

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "model.pt")
    with open(path, "wb") as f:
        torch.save(model, f)
    safe_globals = [PositionalEncoding, TransformerModel, torch.nn.functional.relu,
                    torch.nn.modules.activation.MultiheadAttention, torch.nn.modules.container.ModuleList,
                    torch.nn.modules.dropout.Dropout, torch.nn.modules.linear.Linear,
                    torch.nn.modules.linear.NonDynamicallyQuantizableLinear,
                    torch.nn.modules.normalization.LayerNorm, torch.nn.modules.sparse.Embedding,
                    torch.nn.modules.transformer.TransformerEncoder,
                    torch.nn.modules.transformer.TransformerEncoderLayer]
    with open(path, "rb") as f:
        with torch.serialization.safe_globals(safe_globals):
            loaded = torch.load(f)
    loaded.eval()
    with torch.no_grad():
        out = loaded(inputs)
    test_loss = F.nll_loss(out.view(-1, ntokens), targets).item()
    print("reloaded", type(loaded).__name__, loaded.model_type, round(test_loss, 4))
