"""'Language Translation with nn.Transformer' on a synthetic copy-and-shift task: Seq2SeqTransformer around
nn.Transformer (batch_first=False), TokenEmbedding scaled by sqrt(emb_size), sinusoidal PositionalEncoding
kept in a register_buffer, generate_square_subsequent_mask / create_mask with src/tgt key padding masks
(PAD tokens), CrossEntropyLoss(ignore_index=PAD_IDX), the teacher-forced tgt_input = tgt[:-1, :], and
greedy_decode with encode/decode and torch.cat of the next word.  Dropout is 0 so both libraries agree."""
import math

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn import Transformer

PAD_IDX, BOS_IDX, EOS_IDX = 1, 2, 3
VOCAB = 10


class PositionalEncoding(nn.Module):
    def __init__(self, emb_size: int, dropout: float, maxlen: int = 50):
        super().__init__()
        den = torch.exp(- torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pos_embedding = torch.zeros((maxlen, emb_size))
        pos_embedding[:, 0::2] = torch.sin(pos * den)
        pos_embedding[:, 1::2] = torch.cos(pos * den)
        pos_embedding = pos_embedding.unsqueeze(-2)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pos_embedding", pos_embedding)

    def forward(self, token_embedding: Tensor):
        return self.dropout(token_embedding + self.pos_embedding[:token_embedding.size(0), :])


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size: int, emb_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_size)
        self.emb_size = emb_size

    def forward(self, tokens: Tensor):
        return self.embedding(tokens.long()) * math.sqrt(self.emb_size)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, num_encoder_layers, num_decoder_layers, emb_size, nhead, src_vocab_size, tgt_vocab_size,
                 dim_feedforward=32, dropout=0.0):
        super().__init__()
        self.transformer = Transformer(d_model=emb_size, nhead=nhead, num_encoder_layers=num_encoder_layers,
                                       num_decoder_layers=num_decoder_layers, dim_feedforward=dim_feedforward,
                                       dropout=dropout)
        self.generator = nn.Linear(emb_size, tgt_vocab_size)
        self.src_tok_emb = TokenEmbedding(src_vocab_size, emb_size)
        self.tgt_tok_emb = TokenEmbedding(tgt_vocab_size, emb_size)
        self.positional_encoding = PositionalEncoding(emb_size, dropout=dropout)

    def forward(self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, memory_key_padding_mask):
        src_emb = self.positional_encoding(self.src_tok_emb(src))
        tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
        outs = self.transformer(src_emb, tgt_emb, src_mask, tgt_mask, None, src_padding_mask, tgt_padding_mask,
                                memory_key_padding_mask)
        return self.generator(outs)

    def encode(self, src, src_mask):
        return self.transformer.encoder(self.positional_encoding(self.src_tok_emb(src)), src_mask)

    def decode(self, tgt, memory, tgt_mask):
        return self.transformer.decoder(self.positional_encoding(self.tgt_tok_emb(tgt)), memory, tgt_mask)


def generate_square_subsequent_mask(sz):
    mask = (torch.triu(torch.ones((sz, sz))) == 1).transpose(0, 1)
    mask = mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, float(0.0))
    return mask


def create_mask(src, tgt):
    src_seq_len = src.shape[0]
    tgt_seq_len = tgt.shape[0]
    tgt_mask = generate_square_subsequent_mask(tgt_seq_len)
    src_mask = torch.zeros((src_seq_len, src_seq_len)).type(torch.bool)
    src_padding_mask = (src == PAD_IDX).transpose(0, 1)
    tgt_padding_mask = (tgt == PAD_IDX).transpose(0, 1)
    return src_mask, tgt_mask, src_padding_mask, tgt_padding_mask


print("mask", generate_square_subsequent_mask(3).tolist(),
      torch.equal(generate_square_subsequent_mask(4), nn.Transformer.generate_square_subsequent_mask(4)))
# sequences of tokens 4..9 with lengths 3..5, padded; target = each token + 1 (mod into 4..9)
seqs = [[4 + (i * 3 + j * 2) % 6 for j in range(3 + i % 3)] for i in range(12)]
src = nn.utils.rnn.pad_sequence([torch.tensor([BOS_IDX] + s + [EOS_IDX]) for s in seqs], padding_value=PAD_IDX)
tgt = nn.utils.rnn.pad_sequence([torch.tensor([BOS_IDX] + [4 + (t - 3) % 6 for t in s] + [EOS_IDX]) for s in seqs],
                                padding_value=PAD_IDX)
print("src", tuple(src.shape), src[:, 0].tolist(), "tgt", tgt[:, 0].tolist())
model = Seq2SeqTransformer(1, 1, 16, 2, VOCAB, VOCAB)
with torch.no_grad():
    for i, (name, p) in enumerate(model.named_parameters()):
        if p.dim() > 1:
            p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.37 + i).view_as(p) / p.size(-1) ** 0.5)
        elif "norm" not in name:
            p.zero_()
loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD_IDX)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.98), eps=1e-9)
for epoch in range(1, 13):
    model.train()
    losses = 0
    for b in range(0, 12, 4):
        s, t = src[:, b:b + 4], tgt[:, b:b + 4]
        tgt_input = t[:-1, :]
        src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(s, tgt_input)
        logits = model(s, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, src_padding_mask)
        optimizer.zero_grad()
        tgt_out = t[1:, :]
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
        loss.backward()
        optimizer.step()
        losses += loss.item()
    if epoch % 3 == 0:
        print(f"Epoch: {epoch}, Train loss: {losses / 3:.4f}")


def greedy_decode(model, src, src_mask, max_len, start_symbol):
    memory = model.encode(src, src_mask)
    ys = torch.ones(1, 1).fill_(start_symbol).type(torch.long)
    for i in range(max_len - 1):
        tgt_mask = (generate_square_subsequent_mask(ys.size(0)).type(torch.bool))
        out = model.decode(ys, memory, tgt_mask)
        out = out.transpose(0, 1)
        prob = model.generator(out[:, -1])
        _, next_word = torch.max(prob, dim=1)
        next_word = next_word.item()
        ys = torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
        if next_word == EOS_IDX:
            break
    return ys


model.eval()
with torch.no_grad():
    for k in (0, 4, 7):
        s = src[:, k][src[:, k] != PAD_IDX].view(-1, 1)
        num_tokens = s.shape[0]
        out = greedy_decode(model, s, torch.zeros(num_tokens, num_tokens).type(torch.bool), num_tokens + 3, BOS_IDX)
        print("decode", s.flatten().tolist(), "->", out.flatten().tolist())
    src_mask, tgt_mask, spm, tpm = create_mask(src, tgt[:-1])
    logits = model(src, tgt[:-1], src_mask, tgt_mask, spm, tpm, spm)
    acc = ((logits.argmax(-1) == tgt[1:]) & (tgt[1:] != PAD_IDX)).sum().item() / (tgt[1:] != PAD_IDX).sum().item()
print("teacher-forced token accuracy", round(acc, 4))
