"""Data loading speed: one epoch over MNIST's training set in batches of 128 with ``Normalize``.

Compares ember's ``DataLoader`` with ``torch.utils.data.DataLoader`` on the same uint8 arrays (the real MNIST
files from ember's data root when present, else 60,000 random 28x28 images), each the way a user writes it:

* dataset: an MNIST-style dataset whose transform is ``Compose([ToTensor(), Normalize(...)])`` (ember's
  ``MNIST`` fetches and normalizes a batch at once; for torch, a minimal Dataset doing the same per sample
  with torch ops, which is what torchvision's MNIST does minus PIL);
* tensors: a ``TensorDataset`` of already-normalized float images (the loaders' pure gather + collate cost).

Prints seconds per epoch (best of ``--repeats``) and the ratio torch / ember.  The issue requires under
0.5 s per epoch for ember on the first case.  Usage: ``python benchmarks/bench_data.py [--repeats 3]``.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import ember  # noqa: E402
from ember.data import DataLoader, TensorDataset  # noqa: E402
from ember.data.datasets import MNIST  # noqa: E402
from ember.data.transforms import Compose, Normalize, ToTensor  # noqa: E402

MEAN, STD = 0.1307, 0.3081


def load_arrays():
    """The MNIST training images/labels, or random stand-ins of the same shape."""
    try:
        ds = MNIST()                                    # ember's data root ($EMBER_DATA or the cache folder)
        return ds.data.numpy(), ds.targets.numpy(), "real MNIST"
    except RuntimeError:
        pass
    rng = np.random.default_rng(0)
    return (rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60000),
            "random 28x28 arrays (MNIST not in the data root)")


def epoch_time(loader, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = 0
        for xb, yb in loader:
            n += len(yb)
        best = min(best, time.perf_counter() - t0)
        assert n == 60000, n
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-torch-dataset", action="store_true", help="skip torch's slow per-sample case")
    args = ap.parse_args()
    images, labels, what = load_arrays()
    print(f"data: {what}, {images.shape[0]} images, batch 128, shuffle=True, Normalize({MEAN}, {STD})")

    # ember: the MNIST dataset with a ToTensor + Normalize transform
    ds = MNIST.__new__(MNIST)           # the same arrays, without re-reading the files
    ds.root, ds.train, ds.target_transform = None, True, None
    ds.transform = Compose([ToTensor(), Normalize((MEAN,), (STD,))])
    ds.data, ds.targets = images, labels
    ember_ds = epoch_time(DataLoader(ds, batch_size=128, shuffle=True), args.repeats)
    ember_ds_w = epoch_time(DataLoader(ds, batch_size=128, shuffle=True, num_workers=2), args.repeats)
    xf = ((images.astype(np.float32) / 255 - MEAN) / STD)[:, None]
    ember_td = epoch_time(DataLoader(TensorDataset(ember.from_numpy(xf), ember.from_numpy(labels.astype(np.int64))),
                                     batch_size=128, shuffle=True), args.repeats)

    try:
        import torch
        from torch.utils.data import DataLoader as TDataLoader, Dataset as TDataset, TensorDataset as TTensorDataset
    except ImportError:
        torch = None
    rows = [("MNIST + ToTensor/Normalize", ember_ds, None), ("  same, num_workers=2", ember_ds_w, None),
            ("TensorDataset (pre-normalized)", ember_td, None)]
    if torch is not None:
        torch.set_num_threads(1)

        class TorchMNIST(TDataset):
            def __init__(self, x, y):
                self.x, self.y = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

            def __len__(self):
                return len(self.x)

            def __getitem__(self, i):
                img = self.x[i].to(torch.float32).div(255).unsqueeze(0)     # ToTensor
                return (img - MEAN) / STD, int(self.y[i])                  # Normalize

        t_ds = None if args.skip_torch_dataset else epoch_time(
            TDataLoader(TorchMNIST(images, labels), batch_size=128, shuffle=True), 1)
        t_td = epoch_time(TDataLoader(TTensorDataset(torch.from_numpy(xf), torch.from_numpy(labels.astype(np.int64))),
                                      batch_size=128, shuffle=True), 1)
        rows = [(rows[0][0], ember_ds, t_ds), rows[1], (rows[2][0], ember_td, t_td)]
    print(f"{'case':34s} {'ember s/epoch':>14s} {'torch s/epoch':>14s} {'torch/ember':>12s}")
    for name, e, t in rows:
        ts = f"{t:14.3f}" if t is not None else f"{'-':>14s}"
        ratio = f"{t / e:12.1f}" if t is not None else f"{'-':>12s}"
        print(f"{name:34s} {e:14.3f} {ts} {ratio}")
    cifar_pipeline(args.repeats, torch)
    verdict = "OK" if ember_ds < 0.5 else "TOO SLOW"
    print(f"requirement: ember MNIST epoch < 0.5 s -> {ember_ds:.3f} s ({verdict}); cpu count {os.cpu_count()}")


def cifar_pipeline(repeats: int, torch, n: int = 10000) -> None:
    """CIFAR-10-shaped augmentation pipeline (RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor, Normalize)
    on PIL images from CIFAR's binary format, 2 workers, batch 128: ember.vision against the same per-sample steps
    written with PIL, NumPy and torch ops in a torch DataLoader (what torchvision does on PIL images; torchvision's
    own wheels do not load beside the CPU torch)."""
    import tempfile
    from ember.vision import datasets, transforms as T
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    with tempfile.TemporaryDirectory() as root:
        folder = os.path.join(root, "cifar-10-batches-bin")
        os.makedirs(folder)
        rec = np.concatenate([labels[:, None], pixels.reshape(n, -1)], 1)
        for i, name in enumerate([f"data_batch_{i}.bin" for i in range(1, 6)]):       # n images in all
            rec[i * n // 5:(i + 1) * n // 5].tofile(os.path.join(folder, name))
        rec[:100].tofile(os.path.join(folder, "test_batch.bin"))
        tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(mean, std)])
        ds = datasets.CIFAR10(root, train=True, transform=tf)
        count = len(ds)

        def rate(loader):
            best = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                for _xb, _yb in loader:
                    pass
                best = min(best, time.perf_counter() - t0)
            return count / best
        e = rate(DataLoader(ds, batch_size=128, shuffle=True, num_workers=2))
        t = None
        if torch is not None:
            from PIL import Image
            from torch.utils.data import DataLoader as TDataLoader, Dataset as TDataset
            m = torch.tensor(mean).view(3, 1, 1)
            sd = torch.tensor(std).view(3, 1, 1)
            data, targets = ds.data, ds.targets

            class TorchCIFAR(TDataset):
                def __len__(self):
                    return len(data)

                def __getitem__(self, i):
                    img = Image.fromarray(data[i])
                    arr = np.pad(np.asarray(img), ((4, 4), (4, 4), (0, 0)))          # RandomCrop(32, padding=4)
                    y0, x0 = np.random.randint(0, 9, 2)
                    img = Image.fromarray(arr[y0:y0 + 32, x0:x0 + 32])
                    if np.random.rand() < 0.5:                                     # RandomHorizontalFlip
                        img = img.transpose(Image.FLIP_LEFT_RIGHT)
                    x = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).float().div(255)   # ToTensor
                    return (x - m) / sd, int(targets[i])                           # Normalize
            t = rate(TDataLoader(TorchCIFAR(), batch_size=128, shuffle=True, num_workers=2))
    print(f"CIFAR-10-shaped pipeline, {count} PIL images, crop+flip+normalize, 2 workers: ember {e:,.0f} images/s"
          + (f", torch DataLoader (same steps) {t:,.0f} images/s, ratio ember/torch {e / t:.2f}" if t else ""))


if __name__ == "__main__":
    main()
