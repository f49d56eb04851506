"""MLP 784-512-256-10 on MNIST, a plain PyTorch-style training loop.  Target: >= 98.0% test accuracy.

Run:  python examples/mnist_mlp.py [--epochs 10] [--quick]
"""
from _common import parse_args, load_mnist_arrays, Timer, evaluate, progress

import ember
import ember.nn.functional as F
from ember.data import DataLoader, TensorDataset
from ember.models import MLP


def main():
    args = parse_args(__doc__, epochs=(int, 10, "training epochs"))
    ember.manual_seed(args.seed)
    xtr, ytr, xte, yte = load_mnist_arrays("mnist", args.quick)
    mean, std = 0.1307, 0.3081
    xtr, xte = ((xtr - mean) / std).reshape(len(xtr), -1), ((xte - mean) / std).reshape(len(xte), -1)
    train = DataLoader(TensorDataset(ember.tensor(xtr), ember.tensor(ytr)), batch_size=128, shuffle=True)
    test = DataLoader(TensorDataset(ember.tensor(xte), ember.tensor(yte)), batch_size=1000)

    model = MLP(784, hidden=(512, 256), out_features=10, activation="relu", dropout=0.2)
    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.3)
    epochs = 1 if args.quick else args.epochs
    with Timer() as t:
        for epoch in range(epochs):
            model.train()
            total = 0.0
            for i, (x, y) in enumerate(progress(train, epoch, epochs)):
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                total += loss.item()
                if args.quick and i == 3:
                    break
            sched.step()
            print(f"epoch {epoch + 1}: train loss {total / (i + 1):.4f}, test accuracy {evaluate(model, test):.2%}")
    acc = evaluate(model, test)
    print(f"MLP on MNIST: test accuracy {acc:.2%} after {epochs} epochs in {t.seconds:.0f}s "
          f"({'meets' if acc >= 0.98 else 'below'} the 98.0% target)")


if __name__ == "__main__":
    main()
