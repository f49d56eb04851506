"""Hogwild-style training (the mnist_hogwild example's structure): model.share_memory(), then worker
processes that each train the shared model on their own data.  The workers run one after the other here so
the result is deterministic; the point is that their updates land in the parent's parameters."""
import torch
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


def train(rank, model, steps):
    x = torch.sin(torch.arange(16 * 4, dtype=torch.float32).view(16, 4) + rank)
    y = (torch.arange(16) + rank) % 2
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        optimizer.step()


def report(queue, t):
    queue.put(round(t.sum().item(), 4))


if __name__ == "__main__":
    mp.set_start_method("fork", force=True)
    model = Net()
    with torch.no_grad():
        for k, p in enumerate(model.parameters()):
            p.copy_(torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.3 + k).view_as(p) * 0.4)
    model.share_memory()
    print("shared:", all(p.is_shared() for p in model.parameters()))
    before = sum(p.sum().item() for p in model.parameters())
    for rank in range(2):
        p = mp.Process(target=train, args=(rank, model, 5))
        p.start()
        p.join()
        print("worker", rank, "exit code", p.exitcode)
    after = sum(p.sum().item() for p in model.parameters())
    print("parameters changed in the parent:", round(before, 4) != round(after, 4))
    x = torch.sin(torch.arange(16 * 4, dtype=torch.float32).view(16, 4))
    print("loss after workers:", round(F.nll_loss(model(x), torch.arange(16) % 2).item(), 4))
    q = mp.Queue()
    w = model.fc2.weight.detach()
    proc = mp.Process(target=report, args=(q, w))
    proc.start()
    print("child sees the same weights:", q.get() == round(w.sum().item(), 4))
    proc.join()
