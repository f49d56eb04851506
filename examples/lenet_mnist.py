"""LeNet-5 on MNIST with a PyTorch-style loop.  Target: >= 99.0% test accuracy.

Run:  python examples/lenet_mnist.py [--epochs 8] [--quick]
"""
from _common import parse_args, load_mnist_arrays, Timer, evaluate, progress

import ember
import ember.nn.functional as F
from ember.data import DataLoader, TensorDataset
from ember.models import LeNet5


def main():
    args = parse_args(__doc__, epochs=(int, 8, "training epochs"))
    ember.manual_seed(args.seed)
    xtr, ytr, xte, yte = load_mnist_arrays("mnist", args.quick)
    xtr, xte = (xtr - 0.1307) / 0.3081, (xte - 0.1307) / 0.3081
    train = DataLoader(TensorDataset(ember.tensor(xtr), ember.tensor(ytr)), batch_size=64, shuffle=True)
    test = DataLoader(TensorDataset(ember.tensor(xte), ember.tensor(yte)), batch_size=1000)
    model = LeNet5()
    opt = ember.optim.Adam(model.parameters(), lr=2e-3)
    epochs = 1 if args.quick else args.epochs
    sched = ember.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * len(train))
    with Timer() as t:
        for epoch in range(epochs):
            model.train()
            for i, (x, y) in enumerate(progress(train, epoch, epochs)):
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                sched.step()
                if args.quick and i == 3:
                    break
            print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}, test accuracy {evaluate(model, test):.2%}")
    acc = evaluate(model, test)
    print(f"LeNet-5 on MNIST: test accuracy {acc:.2%} after {epochs} epochs in {t.seconds:.0f}s "
          f"({'meets' if acc >= 0.99 else 'below'} the 99.0% target)")


if __name__ == "__main__":
    main()
