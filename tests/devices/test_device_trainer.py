"""``Trainer(device="cuda")``: the model and every batch on the device, the same numbers as on the CPU."""
import numpy as np

import ember
from ember import nn
from ember.train import Trainer


def _fit(device):
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((64, 8)).astype(np.float32))
    y = ember.tensor(rng.integers(0, 3, 64))
    data = ember.utils.data.DataLoader(ember.utils.data.TensorDataset(x, y), batch_size=16)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    trainer = Trainer(model, nn.CrossEntropyLoss(), ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                      metrics=["accuracy"], device=device)
    hist = trainer.fit(data, val_data=(x, y), epochs=2, verbose=0)
    return model, trainer, hist, x


def test_trainer_on_cuda_matches_cpu(cuda, exact):
    m_cpu, _, h_cpu, x = _fit(None)
    m_dev, t_dev, h_dev, _ = _fit("cuda")
    assert all(p.is_cuda for p in m_dev.parameters())
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        a, b = np.array(h_cpu.history[key]), np.array(h_dev.history[key])
        assert np.array_equal(a, b) if exact else np.allclose(a, b, rtol=1e-4), key
    pred = t_dev.predict(x)
    assert pred.is_cuda and pred.shape == (64, 3)
    np.testing.assert_array_equal(pred.cpu().numpy(), m_cpu(x).detach().numpy()) if exact else None
