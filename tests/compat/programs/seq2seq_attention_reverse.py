"""'NLP From Scratch: Translation with a Sequence to Sequence Network and Attention' on a synthetic task
(reverse a sequence of tokens): EncoderRNN (Embedding + GRU, batch_first), BahdanauAttention (Wa, Ua, Va,
bmm of weights and keys), AttnDecoderRNN with teacher forcing (a fixed schedule in place of random.random()),
greedy decoding with topk + squeeze().detach(), NLLLoss over log_softmax outputs, Adam, and an evaluation of
exact-match accuracy and the attention matrix's anti-diagonal."""
import torch
import torch.nn as nn
import torch.nn.functional as F

SOS_token, EOS_token = 0, 1
vocab = 8
MAX_LENGTH = 6


def det_init(module, scale=0.3):
    with torch.no_grad():
        for i, p in enumerate(module.parameters()):
            p.copy_(scale * torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.77 + 0.5 * i).view_as(p))


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)
        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs, attentions = [], []
        for i in range(MAX_LENGTH):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs)
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)
            if target_tensor is not None:
                decoder_input = target_tensor[:, i].unsqueeze(1)
            else:
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()
        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)
        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))
        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)
        output, hidden = self.gru(input_gru, hidden)
        output = self.out(output)
        return output, hidden, attn_weights


# data: sequences of 5 tokens from 2..7, target = reversed + EOS
rows = [[2 + (3 * i + 5 * j + i * j) % 6 for j in range(5)] for i in range(24)]
inputs = torch.tensor([r + [EOS_token] for r in rows])
targets = torch.tensor([r[::-1] + [EOS_token] for r in rows])
print("example", inputs[3].tolist(), "->", targets[3].tolist())

hidden_size = 16
encoder, decoder = EncoderRNN(vocab, hidden_size), AttnDecoderRNN(hidden_size, vocab)
det_init(encoder)
det_init(decoder, 0.25)
encoder_optimizer = torch.optim.Adam(encoder.parameters(), lr=0.01)
decoder_optimizer = torch.optim.Adam(decoder.parameters(), lr=0.01)
criterion = nn.NLLLoss()
encoder.train()
decoder.train()
encoder.dropout.p = decoder.dropout.p = 0.0      # dropout masks are random: off for a reproducible run
for epoch in range(1, 21):
    total_loss = 0
    for b in range(0, 24, 8):
        input_tensor, target_tensor = inputs[b:b + 8], targets[b:b + 8]
        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        teacher = target_tensor if epoch % 3 != 0 else None
        decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, teacher)
        loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(encoder.parameters()) + list(decoder.parameters()), 5.0)
        encoder_optimizer.step()
        decoder_optimizer.step()
        total_loss += loss.item()
    if epoch % 5 == 0:
        print("epoch %d loss %.4f" % (epoch, total_loss / 3))

encoder.eval()
decoder.eval()
with torch.no_grad():
    encoder_outputs, encoder_hidden = encoder(inputs)
    decoder_outputs, decoder_hidden, attentions = decoder(encoder_outputs, encoder_hidden)
    _, topi = decoder_outputs.topk(1)
    decoded_ids = topi.squeeze()
print("decoded", decoded_ids[3].tolist(), decoded_ids[10].tolist())
print("exact match", round((decoded_ids == targets).all(1).float().mean().item(), 4),
      "token acc", round((decoded_ids == targets).float().mean().item(), 4))
print("attention shape", tuple(attentions.shape), "rows sum", round(attentions.sum(-1).mean().item(), 4))
anti = torch.stack([attentions[:, i, 4 - i] for i in range(5)], 1)
print("anti-diagonal mass", round(anti.mean().item(), 3), "hidden", tuple(decoder_hidden.shape))
