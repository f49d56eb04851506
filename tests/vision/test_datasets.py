"""ember.vision.datasets on small files made here: CIFAR binary batches (and their archive, downloaded from a
file:// mirror with its MD5 checked), ImageFolder trees of PNGs, EMNIST/KMNIST IDX files, FakeData."""
import gzip
import hashlib
import io
import struct
import tarfile

import numpy as np
import pytest
from PIL import Image

import ember
from ember.data import DataLoader
from ember.vision import datasets, transforms as T


def _cifar_records(n, label_bytes, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, (n, label_bytes), dtype=np.uint8)
    pixels = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    return np.concatenate([labels, pixels.reshape(n, -1)], 1).tobytes(), labels[:, -1], pixels


def _write_cifar10(folder, n=4):
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, name in enumerate([f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]):
        raw, labels, pixels = _cifar_records(n, 1, seed=i)
        (folder / name).write_bytes(raw)
        out[name] = (labels, pixels)
    return out


def test_cifar10_reads_binary_batches_as_torchvision_lays_them_out(tmp_path):
    made = _write_cifar10(tmp_path / "cifar-10-batches-bin")
    ds = datasets.CIFAR10(tmp_path, train=True)
    assert ds.data.shape == (20, 32, 32, 3) and ds.data.dtype == np.uint8 and len(ds.targets) == 20
    labels, pixels = made["data_batch_2.bin"]
    np.testing.assert_array_equal(ds.data[4], pixels[0].transpose(1, 2, 0))
    assert ds.targets[4] == labels[0]
    img, target = ds[4]
    assert isinstance(img, Image.Image) and img.size == (32, 32) and target == labels[0]
    test = datasets.CIFAR10(tmp_path, train=False, transform=T.Compose([T.RandomCrop(32, padding=4),
                                                                         T.RandomHorizontalFlip(), T.ToTensor()]))
    x, y = next(iter(DataLoader(test, batch_size=4)))
    assert tuple(x.shape) == (4, 3, 32, 32) and x.dtype == ember.float32


def test_cifar100_uses_the_fine_label(tmp_path):
    folder = tmp_path / "cifar-100-binary"
    folder.mkdir()
    raw, fine, _ = _cifar_records(3, 2)
    (folder / "train.bin").write_bytes(raw)
    (folder / "test.bin").write_bytes(raw)
    assert datasets.CIFAR100(tmp_path).targets == fine.tolist()


def test_cifar_download_checks_md5_and_extracts_by_name_only(tmp_path, monkeypatch):
    src = tmp_path / "src"
    made = _write_cifar10(src / "cifar-10-batches-bin")
    archive = tmp_path / "mirror" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as t:
        for name in made:
            t.add(src / "cifar-10-batches-bin" / name, arcname=f"cifar-10-batches-bin/{name}")
        evil = tarfile.TarInfo("../../evil.txt")             # a traversal attempt: must not be written
        t.addfile(evil, io.BytesIO(b""))
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setattr(datasets.CIFAR10, "url", archive.parent.as_uri() + "/")
    monkeypatch.setattr(datasets.CIFAR10, "archive", ("cifar-10-binary.tar.gz", md5))
    root = tmp_path / "root" / "data"
    assert len(datasets.CIFAR10(root, download=True)) == 20
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "root" / "evil.txt").exists()
    monkeypatch.setattr(datasets.CIFAR10, "archive", ("cifar-10-binary.tar.gz", "0" * 32))
    with pytest.raises(RuntimeError, match="could not download cifar-10-binary.tar.gz"):
        datasets.CIFAR10(tmp_path / "other", download=True)


def test_cifar_missing_and_corrupt_files_say_what_is_wrong(tmp_path):
    with pytest.raises(RuntimeError, match=r"CIFAR10: dataset files missing .*cifar-10-binary.tar.gz \(md5 c32a1d"):
        datasets.CIFAR10(tmp_path)
    made = _write_cifar10(tmp_path / "cifar-10-batches-bin")
    (tmp_path / "cifar-10-batches-bin" / "test_batch.bin").write_bytes(b"\0" * 100)
    assert made
    with pytest.raises(RuntimeError, match="not a whole number of 3073-byte records"):
        datasets.CIFAR10(tmp_path, train=False)


def test_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for cls, n in (("cat", 2), ("dog", 3)):
        (tmp_path / cls / "sub").mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)).save(tmp_path / cls / f"{i}.png")
        (tmp_path / cls / "notes.txt").write_text("not an image")
    Image.fromarray(np.zeros((6, 5), np.uint8)).save(tmp_path / "dog" / "sub" / "gray.jpg")
    ds = datasets.ImageFolder(tmp_path, transform=T.ToTensor())
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert ds.targets == [0, 0, 1, 1, 1, 1] and len(ds) == 6
    x, y = ds[5]
    assert tuple(x.shape) == (3, 6, 5) and y == 1          # grey JPEG converted to RGB
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        datasets.ImageFolder(tmp_path)
    assert len(datasets.ImageFolder(tmp_path, allow_empty=True)) == 6


def _idx(arr, magic):
    return gzip.compress(struct.pack(">I", magic) + struct.pack(">" + "I" * arr.ndim, *arr.shape) + arr.tobytes())


def test_emnist_is_transposed_and_kmnist_reads_its_folder(tmp_path):
    raw = tmp_path / "EMNIST" / "raw"
    raw.mkdir(parents=True)
    img = np.arange(28 * 28, dtype=np.uint8).reshape(1, 28, 28)
    for p in ("train", "test"):
        (raw / f"emnist-letters-{p}-images-idx3-ubyte.gz").write_bytes(_idx(img, 2051))
        (raw / f"emnist-letters-{p}-labels-idx1-ubyte.gz").write_bytes(_idx(np.array([3], np.uint8), 2049))
    ds = datasets.EMNIST(tmp_path, split="letters")
    np.testing.assert_array_equal(ds.data.numpy()[0], img[0].T)
    assert ds.classes[3] == "c"
    with pytest.raises(ValueError, match="unknown split 'bogus'"):
        datasets.EMNIST(tmp_path, split="bogus")
    k = tmp_path / "k" / "kmnist"
    k.mkdir(parents=True)
    for p in ("train", "t10k"):
        (k / f"{p}-images-idx3-ubyte.gz").write_bytes(_idx(img, 2051))
        (k / f"{p}-labels-idx1-ubyte.gz").write_bytes(_idx(np.array([9], np.uint8), 2049))
    assert datasets.KMNIST(tmp_path / "k").classes[9] == "wo"


def test_fake_data_is_reproducible_per_index():
    ds = datasets.FakeData(size=5, image_size=(3, 8, 6), num_classes=4, transform=T.ToTensor())
    x1, y1 = ds[2]
    x2, y2 = ds[2]
    assert tuple(x1.shape) == (3, 8, 6) and np.array_equal(x1.numpy(), x2.numpy()) and y1 == y2 and 0 <= y1 < 4
    with pytest.raises(IndexError):
        ds[5]
    assert len(list(DataLoader(ds, batch_size=2))) == 3
