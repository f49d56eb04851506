"""Every common optimizer minimising the Rosenbrock function from the same start, in float64."""
import torch


def rosenbrock(xy):
    x, y = xy
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def run(opt_cls, steps=60, **kw):
    p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt = opt_cls([p], **kw)
    for _ in range(steps):
        opt.zero_grad()
        loss = rosenbrock(p)
        loss.backward()
        opt.step()
    return [round(v, 5) for v in p.tolist()], round(rosenbrock(p).item(), 5)


print("SGD", run(torch.optim.SGD, lr=1e-4))
print("SGD momentum nesterov", run(torch.optim.SGD, lr=1e-4, momentum=0.9, nesterov=True))
print("Adam", run(torch.optim.Adam, lr=0.05))
print("Adam amsgrad", run(torch.optim.Adam, lr=0.05, amsgrad=True))
print("AdamW", run(torch.optim.AdamW, lr=0.05, weight_decay=0.1))
print("RMSprop", run(torch.optim.RMSprop, lr=0.01))
print("RMSprop centered momentum", run(torch.optim.RMSprop, lr=0.001, centered=True, momentum=0.5))
print("Adagrad", run(torch.optim.Adagrad, lr=0.3))
print("Adadelta", run(torch.optim.Adadelta, lr=1.0))
