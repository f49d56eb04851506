"""The benchmark workloads, each written once against a library module ``T`` (``ember`` or ``torch``).

A workload is a function ``make(T) -> (step, n_ops)``: it builds the model, data and optimizer with ``T`` and
returns a closure that runs one unit of work (a training step, a kernel's forward and backward) and the number
it is divided by when reported (1, or the number of ops for the per-op rows).  The same source builds both
frameworks' work, so the two sides do exactly the same thing; inputs come from NumPy with a fixed seed.

``WORKLOADS`` maps a row name to ``(make, group)``; ``run_all.py`` runs each in fresh processes, one per library.
"""
from __future__ import annotations

import numpy as np


def _arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _labels(n, k, seed=1):
    return np.random.default_rng(seed).integers(0, k, n)


def _train_step(T, model, x, y, loss="ce", opt="sgd"):
    """forward, loss, backward, optimizer step (zero_grad with set_to_none, as PyTorch's default)."""
    F = T.nn.functional
    if opt == "sgd":
        optimizer = T.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        optimizer = T.optim.Adam(model.parameters(), lr=1e-3)
    xs = x if isinstance(x, tuple) else (x,)

    def step():
        optimizer.zero_grad()
        out = model(*xs)
        if isinstance(out, tuple):
            out = out[0]
        if loss == "ce":
            value = F.cross_entropy(out, y)
        else:
            value = F.mse_loss(out, y)
        value.backward()
        optimizer.step()
    return step


# -- overhead and kernels ------------------------------------------------------------------------------------
def per_op_fwd_bwd(T):
    a, b, c = (T.tensor(_arr(4, 4, seed=i), requires_grad=True) for i in range(3))

    def step():
        for t in (a, b, c):
            t.grad = None
        ((a * b + c).tanh() * a - b).exp().sum().backward()      # 7 recorded ops
    return step, 7


def per_op_no_grad(T):
    a, b = T.tensor(_arr(4, 4)), T.tensor(_arr(4, 4, seed=1))

    def step():
        with T.no_grad():
            (a * b + b).relu()
    return step, 3


def matmul_1024(T):
    a = T.tensor(_arr(1024, 1024), requires_grad=True)
    b = T.tensor(_arr(1024, 1024, seed=1), requires_grad=True)

    def step():
        a.grad = b.grad = None
        (a @ b).sum().backward()
    return step, 1


def _fb(T, fn, *arrays):
    ts = [T.tensor(x, requires_grad=True) for x in arrays]

    def step():
        for t in ts:
            t.grad = None
        fn(*ts).sum().backward()
    return step, 1


def conv_lenet1(T):
    return _fb(T, T.nn.functional.conv2d, _arr(64, 1, 28, 28), _arr(6, 1, 5, 5), _arr(6))


def conv_3x3_32_64(T):
    return _fb(T, T.nn.functional.conv2d, _arr(64, 32, 26, 26), _arr(64, 32, 3, 3), _arr(64))


def max_pool(T):
    return _fb(T, lambda x: T.nn.functional.max_pool2d(x, 2), _arr(64, 64, 24, 24))


def batch_norm(T):
    return _fb(T, lambda x, w, b: T.nn.functional.batch_norm(x, None, None, w, b, True), _arr(64, 32, 26, 26),
               _arr(32), _arr(32))


def cross_entropy_large(T):
    y = T.tensor(_labels(4096, 1000))
    return _fb(T, lambda x: T.nn.functional.cross_entropy(x, y), _arr(4096, 1000))


def cross_entropy_small(T):
    y = T.tensor(_labels(128, 10))
    return _fb(T, lambda x: T.nn.functional.cross_entropy(x, y, label_smoothing=0.1), _arr(128, 10))


# -- models --------------------------------------------------------------------------------------------------
def _lenet(nn):
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def mlp_sgd(T):
    nn = T.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return _train_step(T, model, T.tensor(_arr(128, 784)), T.tensor(_labels(128, 10))), 1


def mlp_adam(T):
    nn = T.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return _train_step(T, model, T.tensor(_arr(128, 784)), T.tensor(_labels(128, 10)), opt="adam"), 1


def lenet5(T):
    return _train_step(T, _lenet(T.nn), T.tensor(_arr(64, 1, 28, 28)), T.tensor(_labels(64, 10))), 1


def mnist_example_cnn(T):
    nn = T.nn
    model = nn.Sequential(nn.Conv2d(1, 32, 3, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(128, 10))
    return _train_step(T, model, T.tensor(_arr(64, 1, 28, 28)), T.tensor(_labels(64, 10))), 1


def cnn_batchnorm(T):
    nn = T.nn
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64 * 7 * 7, 10))
    return _train_step(T, model, T.tensor(_arr(64, 1, 28, 28)), T.tensor(_labels(64, 10))), 1


def _resnet18(T, num_classes=10):
    """ResNet-18 (torchvision's structure; ember.vision.models.resnet18 is this network), built with ``T.nn``:
    torchvision's wheels do not load beside the CPU torch, so both sides use this definition."""
    nn = T.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                               if stride != 1 or cin != cout else None)

        def forward(self, x):
            idt = x if self.downsample is None else self.downsample(x)
            return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + idt)

    layers, cin = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                   nn.MaxPool2d(3, 2, 1)], 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, num_classes))


def resnet18_32(T):
    return _train_step(T, _resnet18(T), T.tensor(_arr(64, 3, 32, 32)), T.tensor(_labels(64, 10))), 1


def lenet5_infer_b1(T):
    model = _lenet(T.nn).eval()
    x = T.tensor(_arr(1, 1, 28, 28))

    def step():
        with T.no_grad():
            model(x)
    return step, 1


def _compiled_inference(T, model, x):
    """Batch-1 inference: ember through ``ember.compile`` (the traced graph replayed), PyTorch eager (its own
    ``torch.compile`` needs a C++ toolchain at run time and minutes of compilation, not what a laptop user does)."""
    model = model.eval()
    if T.__name__ == "ember":
        model = T.compile(model)

    def step():
        with T.no_grad():
            model(x)
    return step, 1


def lenet5_infer_b1_compiled(T):
    return _compiled_inference(T, _lenet(T.nn), T.tensor(_arr(1, 1, 28, 28)))


def mlp_infer_b1_compiled(T):
    nn = T.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return _compiled_inference(T, model, T.tensor(_arr(1, 784)))


def _compiled_train_step(T, model, x, y):
    """A training step (zero_grad, forward, cross-entropy, backward, SGD momentum step): ember through
    ``ember.jit.compile_training_step`` (forward + backward + update replayed as one plan), PyTorch eager."""
    if T.__name__ != "ember":
        return _train_step(T, model, x, y)
    optimizer = T.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    step = T.jit.compile_training_step(model, T.nn.functional.cross_entropy, optimizer)
    return lambda: step(x, y)


def _compiled_module_step(T, model, x, y):
    """The usual eager loop around ``ember.compile(model)`` (PyTorch's torch.compile usage): the compiled forward
    is one autograd node with a compiled backward; loss, backward call and SGD step stay eager.  PyTorch eager."""
    return _train_step(T, T.compile(model) if T.__name__ == "ember" else model, x, y)


def lenet5_compiled_module(T):
    return _compiled_module_step(T, _lenet(T.nn), T.tensor(_arr(64, 1, 28, 28)), T.tensor(_labels(64, 10))), 1


def mlp_sgd_compiled(T):
    nn = T.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return _compiled_train_step(T, model, T.tensor(_arr(128, 784)), T.tensor(_labels(128, 10))), 1


def lenet5_compiled(T):
    return _compiled_train_step(T, _lenet(T.nn), T.tensor(_arr(64, 1, 28, 28)), T.tensor(_labels(64, 10))), 1


def _rnn(T, kind):
    model = getattr(T.nn, kind)(28, 128)
    x = T.tensor(_arr(40, 64, 28))
    opt = T.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        out = model(x)[0]
        (out * out).mean().backward()
        opt.step()
    return step, 1


def lstm(T):
    return _rnn(T, "LSTM")


def gru(T):
    return _rnn(T, "GRU")


def _cells_python_loop(T, cell, dtype=None):
    """PyTorch's time-sequence-prediction shape: two recurrent cells stepped in Python (100 steps, batch 97),
    a Linear read-out, MSE and an SGD step; ``dtype`` float64 as that example trains."""
    dt = getattr(T, dtype) if dtype else T.float32
    Cell = getattr(T.nn, cell)
    c1, c2, lin = Cell(1, 51).to(dt), Cell(51, 51).to(dt), T.nn.Linear(51, 1).to(dt)
    params = list(c1.parameters()) + list(c2.parameters()) + list(lin.parameters())
    opt = T.optim.SGD(params, lr=0.01)
    x = T.tensor(_arr(97, 100)).to(dt)
    lstm = cell == "LSTMCell"

    def step():
        opt.zero_grad()
        h = c = h2 = c2_ = T.zeros(97, 51, dtype=dt)
        outs = []
        for xt in x.split(1, dim=1):
            if lstm:
                h, c = c1(xt, (h, c))
                h2, c2_ = c2(h, (h2, c2_))
            else:
                h = c1(xt, h)
                h2 = c2(h, h2)
            outs.append(lin(h2))
        y = T.cat(outs, 1)
        ((y - x) ** 2).mean().backward()
        opt.step()
    return step, 1


def lstm_cells_python_loop(T):
    return _cells_python_loop(T, "LSTMCell")


def lstm_cells_python_loop_f64(T):
    return _cells_python_loop(T, "LSTMCell", "float64")


def time_sequence_lbfgs(T):
    """PyTorch's time-sequence-prediction example end to end, shortened: two float64 LSTMCells and a Linear
    stepped over 199 time steps (the example: 999), one LBFGS step (lr 0.8, max_iter 4; the example: 20)
    whose closure is a forward and backward, then a forecast of 200 steps under no_grad (the example: 1000)."""
    dt = T.float64
    c1, c2, lin = T.nn.LSTMCell(1, 51).to(dt), T.nn.LSTMCell(51, 51).to(dt), T.nn.Linear(51, 1).to(dt)
    params = list(c1.parameters()) + list(c2.parameters()) + list(lin.parameters())
    data = T.tensor(_arr(100, 200)).to(dt)
    inp, target, test = data[3:, :-1], data[3:, 1:], data[:3, :-1]
    opt = T.optim.LBFGS(params, lr=0.8, max_iter=4)

    def run(x, future=0):
        z = T.zeros(x.size(0), 51, dtype=dt)
        h, c, h2, c2_ = z, z, z, z
        outs = []
        for xt in x.split(1, dim=1):
            h, c = c1(xt, (h, c))
            h2, c2_ = c2(h, (h2, c2_))
            out = lin(h2)
            outs.append(out)
        for _ in range(future):
            h, c = c1(out, (h, c))
            h2, c2_ = c2(h, (h2, c2_))
            out = lin(h2)
            outs.append(out)
        return T.cat(outs, 1)

    def closure():
        opt.zero_grad()
        loss = ((run(inp) - target) ** 2).mean()
        loss.backward()
        return loss

    def step():
        opt.step(closure)
        with T.no_grad():
            run(test, future=200)
    return step, 1


def gru_cells_python_loop(T):
    return _cells_python_loop(T, "GRUCell")


def rnn_cells_python_loop(T):
    return _cells_python_loop(T, "RNNCell")


def gru_cells_python_loop_f64(T):
    return _cells_python_loop(T, "GRUCell", "float64")


def rnn_cells_python_loop_f64(T):
    return _cells_python_loop(T, "RNNCell", "float64")


def transformer_lm(T):
    nn = T.nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(65, 128)
            self.pos = nn.Parameter(T.zeros(64, 128))
            layer = nn.TransformerEncoderLayer(128, 4, 256, dropout=0.1, batch_first=True)
            self.enc = nn.TransformerEncoder(layer, 2, **({"enable_nested_tensor": False}
                                                          if T.__name__ == "torch" else {}))
            self.head = nn.Linear(128, 65)
            self.mask = nn.Transformer.generate_square_subsequent_mask(64)

        def forward(self, idx):
            h = self.enc(self.emb(idx) + self.pos, mask=self.mask, is_causal=True)
            return self.head(h).reshape(-1, 65)

    idx = _labels(32 * 64, 65).reshape(32, 64)
    return _train_step(T, LM(), T.tensor(idx), T.tensor(_labels(32 * 64, 65, seed=2))), 1


def autoencoder(T):
    nn = T.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 32), nn.ReLU(), nn.Linear(32, 256),
                          nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid())
    x = T.tensor(np.abs(_arr(128, 784)) % 1)
    return _train_step(T, model, x, x, loss="mse", opt="adam"), 1


def conv_autoencoder(T):
    """The zoo's ``ConvAutoencoder``: two stride-2 3x3 convolutions down (16, 32 channels), two stride-2
    transposed convolutions up, MSE against the input, Adam."""
    nn = T.nn
    model = nn.Sequential(nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
                          nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
                          nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                          nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())
    x = T.tensor(np.abs(_arr(64, 1, 28, 28)) % 1)
    return _train_step(T, model, x, x, loss="mse", opt="adam"), 1


def vae(T):
    """The zoo's ``VAE`` (784-400-16, Bernoulli decoder): reparameterized sample, BCE with logits summed over
    pixels plus the KL term, Adam; batch 128."""
    nn, F = T.nn, T.nn.functional
    enc, mu_l, lv_l = nn.Sequential(nn.Linear(784, 400), nn.ReLU()), nn.Linear(400, 16), nn.Linear(400, 16)
    dec = nn.Sequential(nn.Linear(16, 400), nn.ReLU(), nn.Linear(400, 784))
    params = [p for m in (enc, mu_l, lv_l, dec) for p in m.parameters()]
    opt = T.optim.Adam(params, lr=1e-3)
    x = T.tensor((_arr(128, 784) > 0).astype(np.float32))

    def step():
        opt.zero_grad()
        h = enc(x)
        mu, logvar = mu_l(h), lv_l(h)
        z = mu + T.randn_like(mu) * (0.5 * logvar).exp()
        rec = F.binary_cross_entropy_with_logits(dec(z), x, reduction="sum") / 128
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum() / 128
        (rec + kl).backward()
        opt.step()
    return step, 1


def gan(T):
    """The zoo's MLP GAN (generator 64-256-512-784 with LeakyReLU(0.2) and tanh, discriminator 784-512-256-1
    with LeakyReLU(0.2) and dropout 0.3), one discriminator step then one generator step as PyTorch's GAN
    examples alternate them (BCE with logits, Adam betas (0.5, 0.999)); batch 64."""
    nn, F = T.nn, T.nn.functional
    G = nn.Sequential(nn.Linear(64, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                      nn.Linear(512, 784), nn.Tanh())
    D = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(512, 256),
                      nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(256, 1))
    opt_g = T.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = T.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = T.tensor(np.tanh(_arr(64, 784)))
    ones, zeros = T.ones(64, 1), T.zeros(64, 1)

    def step():
        fake = G(T.randn(64, 64))
        opt_d.zero_grad()
        d_loss = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        F.binary_cross_entropy_with_logits(D(fake), ones).backward()
        opt_g.step()
    return step, 1


def triplet_net(T):
    """A triplet network on the zoo's ``EmbeddingNet`` (conv 5x5 32 -> pool -> conv 5x5 64 -> pool -> fc 128 ->
    fc 32): anchors, positives and negatives (32 images each) through the shared net, ``TripletMarginLoss``
    (margin 1), Adam."""
    nn = T.nn
    net = nn.Sequential(nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 5), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, 32))
    loss_fn = nn.TripletMarginLoss(margin=1.0)
    opt = T.optim.Adam(net.parameters(), lr=1e-3)
    a, p, n = (T.tensor(_arr(32, 1, 28, 28, seed=s)) for s in (3, 4, 5))

    def step():
        opt.zero_grad()
        loss_fn(net(a), net(p), net(n)).backward()
        opt.step()
    return step, 1


def rbm(T):
    """The zoo's ``RBM`` (784 visible, 128 hidden Bernoulli units) trained by CD-1 through its surrogate loss:
    one block Gibbs step under ``no_grad`` (``bernoulli`` of the sigmoids), free energies of data and sample,
    backward, SGD; batch 64."""
    F = T.nn.functional
    W = T.tensor(_arr(128, 784) * 0.01, requires_grad=True)
    b_v = T.zeros(784, requires_grad=True)
    b_h = T.zeros(128, requires_grad=True)
    opt = T.optim.SGD([W, b_v, b_h], lr=0.01)
    v = T.tensor((_arr(64, 784) > 0).astype(np.float32))

    def free_energy(x):
        return -(x @ b_v) - F.softplus(x @ W.T + b_h).sum(1)

    def step():
        with T.no_grad():
            h = T.bernoulli(T.sigmoid(v @ W.T + b_h))
            v_k = T.bernoulli(T.sigmoid(h @ W + b_v))
        opt.zero_grad()
        (free_energy(v).mean() - free_energy(v_k).mean()).backward()
        opt.step()
    return step, 1


WORKLOADS = {
    "per-op overhead, 7-op expression fwd+bwd on 4x4, per op": (per_op_fwd_bwd, "core"),
    "per-op overhead, forward under no_grad, per op": (per_op_no_grad, "core"),
    "matmul 1024x1024, forward + backward": (matmul_1024, "core"),
    "conv2d fwd+bwd 64x1x28x28 * 6x1x5x5": (conv_lenet1, "kernels"),
    "conv2d fwd+bwd 64x32x26x26 * 64x32x3x3": (conv_3x3_32_64, "kernels"),
    "max_pool2d(2) fwd+bwd 64x64x24x24": (max_pool, "kernels"),
    "batch_norm (training) fwd+bwd 64x32x26x26": (batch_norm, "kernels"),
    "cross_entropy fwd+bwd, logits 4096x1000": (cross_entropy_large, "kernels"),
    "cross_entropy (label_smoothing 0.1) fwd+bwd, logits 128x10": (cross_entropy_small, "kernels"),
    "MLP 784-512-256-10, batch 128, SGD momentum step": (mlp_sgd, "models"),
    "MLP 784-512-256-10, batch 128, Adam step": (mlp_adam, "models"),
    "LeNet-5, batch 64, training step": (lenet5, "models"),
    "LeNet-5, batch 1, inference": (lenet5_infer_b1, "models"),
    "LeNet-5, batch 1, inference, ember.compile vs PyTorch eager": (lenet5_infer_b1_compiled, "models"),
    "MLP 784-512-256-10, batch 1, inference, ember.compile vs PyTorch eager": (mlp_infer_b1_compiled, "models"),
    "MLP 784-512-256-10, batch 128, SGD momentum training step, compiled vs PyTorch eager":
        (mlp_sgd_compiled, "models"),
    "LeNet-5, batch 64, SGD momentum training step, compiled vs PyTorch eager": (lenet5_compiled, "models"),
    "LeNet-5, batch 64, SGD momentum step, eager loop around ember.compile(model), vs PyTorch eager":
        (lenet5_compiled_module, "models"),
    "PyTorch's MNIST example CNN, batch 64, training step": (mnist_example_cnn, "models"),
    "CNN with batch norm, batch 64, training step": (cnn_batchnorm, "models"),
    "ResNet-18 on 3x32x32, batch 64, training step": (resnet18_32, "models"),
    "dense autoencoder 784-256-32, batch 128, Adam step": (autoencoder, "models"),
    "convolutional autoencoder (ConvTranspose2d up), batch 64, Adam step": (conv_autoencoder, "models"),
    "VAE 784-400-16, batch 128, Adam step": (vae, "models"),
    "MLP GAN, batch 64, one discriminator and one generator step (Adam)": (gan, "models"),
    "triplet network (EmbeddingNet CNN), 3x32 images, TripletMarginLoss, Adam step": (triplet_net, "models"),
    "RBM 784-128, batch 64, CD-1 step (Gibbs sampling, free-energy loss, SGD)": (rbm, "models"),
    "LSTM h128, 40 steps, batch 64, training step": (lstm, "models"),
    "GRU h128, 40 steps, batch 64, training step": (gru, "models"),
    "two LSTMCells in a Python loop, 100 steps, batch 97": (lstm_cells_python_loop, "models"),
    "two LSTMCells in a Python loop, float64 (the time-sequence example)": (lstm_cells_python_loop_f64, "models"),
    "time-sequence example shortened: float64 LSTMCells, LBFGS step (4 closures over 199 steps) + 200-step "
    "forecast": (time_sequence_lbfgs, "models"),
    "two GRUCells in a Python loop, 100 steps, batch 97": (gru_cells_python_loop, "models"),
    "two RNNCells in a Python loop, 100 steps, batch 97": (rnn_cells_python_loop, "models"),
    "two GRUCells in a Python loop, float64": (gru_cells_python_loop_f64, "models"),
    "two RNNCells in a Python loop, float64": (rnn_cells_python_loop_f64, "models"),
    "transformer LM, 2 layers d128, 32x64 tokens, training step": (transformer_lm, "models"),
}
