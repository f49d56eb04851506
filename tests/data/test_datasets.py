"""Tests for ember/data/datasets: IDX reader and MNIST (real files and corrupted copies), Digits, text corpus,
CSV and the synthetic generators."""
from __future__ import annotations

import gzip
import hashlib
import shutil
import struct

import numpy as np
import pytest

import ember
from ember.data import DataLoader, Subset, default_collate
from ember.data.datasets import (CSVDataset, CharCorpus, CharVocab, Digits, FashionMNIST, MNIST, TextDataset,
                                 TinyShakespeare, make_circles, make_linear_regression, make_moons,
                                 make_multilabel, make_poisson_counts, make_polynomial_regression,
                                 make_sequence_sum, make_spirals, make_xor, read_idx)
from ember.data.transforms import Compose, Normalize, ToTensor

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# -- IDX files the tests write themselves ------------------------------------------------------------------
def _idx_bytes(arr: np.ndarray, magic: int | None = None) -> bytes:
    magic = magic if magic is not None else 0x0800 + arr.ndim
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in arr.shape) + arr.tobytes()


def _write_mnist(folder, n=6, gz=True, prefix="train"):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = _idx_bytes(arr)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_idx_reader_small_files(tmp_path, gz):
    images, labels = _write_mnist(tmp_path, gz=gz)
    ds = MNIST(tmp_path)
    assert len(ds) == 6 and ds.data.dtype == np.uint8 and ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    img, y = ds[2]
    assert img.shape == (1, 28, 28) and img.dtype == np.float32 and y == 2 and isinstance(y, int)
    np.testing.assert_allclose(img.numpy()[0], images[2] / 255, rtol=1e-6)
    # the three ways to a batch agree: collated by the dataset, via Subset.__getitems__, and sample by sample
    tf = Compose([ToTensor(), Normalize((0.5,), (0.25,))])
    ds.transform = tf
    fast = next(iter(DataLoader(ds, batch_size=6)))
    via_subset = next(iter(DataLoader(Subset(ds, list(range(6))), batch_size=6)))
    samples = next(iter(DataLoader(ds, batch_size=6, collate_fn=lambda b: b)))
    assert isinstance(samples, list) and isinstance(samples[0][1], int)
    ref = np.stack([tf(images[i]).numpy() for i in range(6)])
    for xb, yb in (fast, via_subset, default_collate(samples)):
        np.testing.assert_allclose(xb.numpy(), ref, rtol=1e-6)
        assert yb.dtype == np.int64 and yb.numpy().tolist() == labels.tolist()
    other = np.arange(24, dtype=">i4").reshape(2, 3, 4)
    (tmp_path / "ints.idx").write_bytes(_idx_bytes(other, 0x0C03))
    np.testing.assert_array_equal(read_idx(tmp_path / "ints.idx"), other)


def test_torchvision_layout(tmp_path):
    _write_mnist(tmp_path / "MNIST" / "raw", prefix="t10k", gz=False)
    assert len(MNIST(tmp_path, train=False)) == 6


def _corrupt(tmp_path, kind):
    _write_mnist(tmp_path)
    p = tmp_path / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(p.read_bytes())
    if kind == "truncated":
        p.write_bytes(gzip.compress(raw[:-100]))
        return p, "truncated"
    if kind == "truncated_header":
        p.write_bytes(gzip.compress(raw[:10]))
        return p, "truncated"
    if kind == "wrong_magic":
        p.write_bytes(gzip.compress(struct.pack(">I", 2049) + raw[4:]))
        return p, "magic number 2049, expected 2051"
    if kind == "not_idx":
        p.write_bytes(gzip.compress(b"<html>not found</html>" + raw))
        return p, "wrong magic"
    if kind == "bad_gzip":
        data = p.read_bytes()
        p.write_bytes(data[:len(data) // 2])
        return p, "gzip"
    if kind == "extra_bytes":
        p.write_bytes(gzip.compress(raw + b"\0" * 7))
        return p, "corrupt"
    if kind == "missing":
        p.unlink()
        return p.name, "missing"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["truncated", "truncated_header", "wrong_magic", "not_idx", "bad_gzip",
                                  "extra_bytes", "missing"])
def test_corrupt_files_raise_clear_errors(tmp_path, kind):
    path, what = _corrupt(tmp_path, kind)
    with pytest.raises(RuntimeError) as e:
        MNIST(tmp_path)
    msg = str(e.value)
    assert what in msg and (str(path) in msg or str(path) in msg.replace("'", "")), msg


def test_missing_files_message_names_files_checksums_and_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "mirrors", ["file:///nonexistent/"])       # offline: every mirror fails
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "empty_data_root"))   # and no copy in the data root
    with pytest.raises(RuntimeError) as e:
        MNIST(tmp_path / "root", download=True)
    msg = str(e.value)
    assert "\n" not in msg and str(tmp_path / "root" / "MNIST" / "raw") in msg
    for name, md5 in MNIST.resources:
        assert name in msg and md5 in msg


def test_default_root_is_the_data_root(tmp_path, monkeypatch):
    from ember.data.root import data_root
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "d"))
    assert data_root() == str(tmp_path / "d")
    _write_mnist(tmp_path / "d" / "mnist")
    assert len(MNIST()) == 6
    monkeypatch.delenv("EMBER_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_root() == str(tmp_path / "cache" / "ember")


def test_mismatched_counts(tmp_path):
    _write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(np.zeros(5, np.uint8))))
    with pytest.raises(RuntimeError, match="6 images but 5 labels"):
        MNIST(tmp_path)


def test_download_from_mirror_verifies_md5(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    _write_mnist(mirror, prefix="train")
    _write_mnist(mirror, prefix="t10k")
    md5 = {f.name: hashlib.md5(f.read_bytes()).hexdigest() for f in mirror.iterdir()}
    monkeypatch.setattr(MNIST, "mirrors", ["file:///nonexistent/", mirror.as_uri() + "/"])
    monkeypatch.setattr(MNIST, "resources", [(n, md5[n]) for n, _ in MNIST.resources])
    root = tmp_path / "root"
    ds = MNIST(root, download=True)
    assert len(ds) == 6 and (root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file()
    shutil.rmtree(root)
    monkeypatch.setattr(MNIST, "resources", [(n, "0" * 32) for n, _ in MNIST.resources])
    with pytest.raises(RuntimeError, match="md5"):
        MNIST(root, download=True)
    assert not any((root / "MNIST" / "raw").iterdir())   # nothing half-written is left behind


def test_download_copies_verified_files_from_the_data_root(tmp_path, monkeypatch):
    # PyTorch's examples ask for MNIST('../data', download=True): offline, the copy in $EMBER_DATA is used
    data = tmp_path / "data_root"
    _write_mnist(data / "mnist", prefix="train")
    _write_mnist(data / "mnist", prefix="t10k")
    md5 = {f.name: hashlib.md5(f.read_bytes()).hexdigest() for f in (data / "mnist").iterdir()}
    monkeypatch.setenv("EMBER_DATA", str(data))
    monkeypatch.setattr(MNIST, "mirrors", ["file:///nonexistent/"])
    monkeypatch.setattr(MNIST, "resources", [(n, md5[n]) for n, _ in MNIST.resources])
    root = tmp_path / "script_data"
    ds = MNIST(root, train=False, download=True)
    assert len(ds) == 6
    import os
    mask = os.umask(0o022)
    os.umask(mask)
    for n, _ in MNIST.resources:
        assert (root / "MNIST" / "raw" / n).read_bytes() == (data / "mnist" / n).read_bytes()
        assert (root / "MNIST" / "raw" / n).stat().st_mode & 0o777 == 0o666 & ~mask     # not mkstemp's 0600
    # a local file whose checksum differs is not taken: the error names the file and the folder
    shutil.rmtree(root)
    (data / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"not mnist")
    with pytest.raises(RuntimeError, match="train-labels-idx1-ubyte.gz") as e:
        MNIST(root, download=True)
    assert str(root / "MNIST" / "raw") in str(e.value)
    assert not (root / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz").exists()


def test_real_mnist(real_data):
    train = MNIST(real_data, train=True)
    test = MNIST(real_data, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.data.shape == (60000, 28, 28)
    assert np.bincount(train.targets.numpy()).tolist() == TRAIN_COUNTS
    assert np.bincount(test.targets.numpy()).tolist() == TEST_COUNTS
    img, y = train[0]
    assert y == 5 and img.shape == (1, 28, 28) and 0 <= img.numpy().min() and img.numpy().max() <= 1
    # the batched path (ToTensor + Normalize on a whole batch) equals the per-sample one
    tf = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    train.transform = tf
    xb, yb = next(iter(DataLoader(train, batch_size=16)))
    ref = np.stack([tf(train.data.numpy()[i]).numpy() for i in range(16)])
    np.testing.assert_allclose(xb.numpy(), ref, rtol=1e-6)
    assert yb.numpy().tolist() == train.targets.numpy()[:16].tolist()


def test_real_fashion_mnist(real_data):
    train = FashionMNIST(real_data)
    test = FashionMNIST(real_data, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert train.classes[9] == "Ankle boot"


def test_mnist_missing_folder_mentions_download(tmp_path):
    with pytest.raises(RuntimeError, match="download=True"):
        MNIST(tmp_path / "nothing")


# -- Digits -----------------------------------------------------------------------------------------------
def test_digits():
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) + len(test) == 1797
    assert set(train.targets.numpy().tolist()) == set(range(10))
    img, y = train[0]
    assert img.shape == (1, 8, 8) and img.dtype == np.float32 and 0 <= y <= 9
    assert 0 <= train.data.numpy().min() and train.data.numpy().max() <= 1
    np.testing.assert_array_equal(Digits(train=True).targets.numpy(), train.targets.numpy())   # fixed split
    big = Digits(size=28)
    assert big[0][0].shape == (1, 28, 28)
    pad = Digits(size=32, resize="pad")
    np.testing.assert_array_equal(pad.data.numpy()[:, 12:20, 12:20], train.data.numpy())
    xb, yb = next(iter(DataLoader(train, batch_size=5)))
    assert xb.shape == (5, 1, 8, 8) and yb.numpy().tolist() == train.targets.numpy()[:5].tolist()


def test_digits_same_as_sklearn_and_clear_error_without_it(monkeypatch):
    from sklearn.datasets import load_digits
    from ember.data.datasets import digits
    images, labels = digits._load_sklearn_digits()
    ref = load_digits()
    np.testing.assert_array_equal(images, ref.images)
    np.testing.assert_array_equal(labels, ref.target)
    monkeypatch.setattr(digits, "_cache", [])
    monkeypatch.setattr(digits, "_sklearn_origin", lambda: None)
    with pytest.raises(ImportError, match=r"pip install ember\[datasets\]"):
        Digits()


# -- text -------------------------------------------------------------------------------------------------
def test_char_corpus_roundtrip_and_windows(tmp_path):
    text = "hello world, hello ember!\n" * 5
    p = tmp_path / "t.txt"
    p.write_text(text)
    c = CharCorpus(p, val_fraction=0.2)
    assert c.vocab_size == len(set(text)) and c.itos == sorted(set(text))
    assert c.decode(c.encode(text)) == text
    assert len(c.train_ids) + len(c.val_ids) == len(text)
    ds = c.dataset("train", seq_len=8)
    x, y = ds[3]
    assert x.shape == (8,) and x.dtype == np.int64
    assert c.decode(x) == text[3:11] and c.decode(y) == text[4:12]
    assert len(ds) == len(c.train_ids) - 8
    xb, yb = next(iter(DataLoader(ds, batch_size=4, shuffle=True)))
    np.testing.assert_array_equal(xb.numpy()[:, 1:], yb.numpy()[:, :-1])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        c.encode("Z")
    assert len(TextDataset(c.ids, seq_len=10, stride=10)) == (len(text) - 11) // 10 + 1
    v = CharVocab("abé")
    assert v.decode(v.encode("éab")) == "éab"


def test_tiny_shakespeare(real_data):
    ds = TinyShakespeare(real_data, seq_len=32)
    assert ds.corpus.vocab_size == 65 and ds.corpus.text.startswith("First Citizen:")
    assert ds.corpus.decode(ds[0][0]) == ds.corpus.text[:32]


# -- CSV --------------------------------------------------------------------------------------------------
def test_csv_dataset(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("age;power;claims\n30;5;0\n45;7;2\n\n22;4;1\n")
    ds = CSVDataset(p, ["age", "power"], "claims", delimiter=";")
    assert len(ds) == 3
    x, y = ds[1]
    assert x.numpy().tolist() == [45, 7] and y.shape == () and y.item() == 2
    ds2 = CSVDataset(p, target_columns=["claims"], delimiter=";", target_dtype=ember.int64)
    assert ds2.feature_columns == ["age", "power"] and ds2.targets.dtype == np.int64
    xb, yb = next(iter(DataLoader(ds, batch_size=2)))
    assert xb.shape == (2, 2) and yb.numpy().tolist() == [0, 2]
    with pytest.raises(ValueError, match=r"\['speed'\].*columns found are \['age', 'power', 'claims'\]"):
        CSVDataset(p, ["speed"], "claims", delimiter=";")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n")
    with pytest.raises(ValueError, match="line 2.*'b'.*'x'"):
        CSVDataset(bad, ["a"], "b")


# -- synthetic --------------------------------------------------------------------------------------------
def test_spirals_are_separable_and_seeded():
    X, y = make_spirals(400, seed=0)
    assert X.shape == (400, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [200, 200]
    # the two classes interleave (not linearly separable) but are far apart locally: 1-NN is perfect
    d = ((X[:, None] - X[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (y[d.argmin(1)] == y).mean() > 0.97
    from sklearn.linear_model import LogisticRegression
    assert LogisticRegression().fit(X, y).score(X, y) < 0.8
    X2, _ = make_spirals(400, seed=0)
    np.testing.assert_array_equal(X, X2)


def test_xor_moons_circles_multilabel():
    X, y = make_xor(100, seed=1)
    assert np.all(y == ((X[:, 0] > 0) ^ (X[:, 1] > 0)))
    X, y = make_moons(101, noise=0.05, seed=1)
    assert X.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]   # as scikit-learn
    X, y = make_circles(100, factor=0.5, seed=1)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y == 0], 1, rtol=1e-5)
    np.testing.assert_allclose(r[y == 1], 0.5, rtol=1e-5)
    X, Y = make_multilabel(300, n_features=6, n_labels=4, seed=0)
    assert Y.shape == (300, 4) and set(np.unique(Y)) == {0.0, 1.0} and (Y.sum(1) > 1).any()
    ds = make_xor(10, seed=0, as_dataset=True)
    assert len(ds) == 10 and isinstance(ds[0][0], ember.Tensor)


def test_regressions():
    (X, y), (w, b) = make_linear_regression(2000, 3, noise=0.1, bias=0.5, seed=0, return_coef=True)
    coef, *_ = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y[:, 0], rcond=None)
    np.testing.assert_allclose(coef, np.r_[w, 0.5], atol=0.02)
    x, y = make_polynomial_regression(3000, coeffs=(1.0, 0.0, -2.0), noise=0.05, seed=0)
    fit = np.polynomial.polynomial.polyfit(x[:, 0], y[:, 0], 2)
    np.testing.assert_allclose(fit, [1.0, 0.0, -2.0], atol=0.02)


def test_poisson_counts_mean_matches_exposure_times_rate():
    d = make_poisson_counts(50000, n_features=2, beta=[0.3, -0.2], intercept=-1.0, seed=0)
    assert d.X.shape == (50000, 2) and d.exposure.shape == d.counts.shape == (50000,)
    mu = d.exposure * np.exp(d.intercept + d.X @ d.beta)
    assert abs(d.counts.sum() / mu.sum() - 1) < 0.02
    assert np.all(d.counts == np.round(d.counts)) and d.counts.min() >= 0
    hi = d.exposure > 0.8
    lo = d.exposure < 0.3
    # doubling the exposure doubles the expected count, all else equal
    assert d.counts[hi].mean() / d.counts[lo].mean() == pytest.approx(
        d.exposure[hi].mean() / d.exposure[lo].mean(), rel=0.1)


def test_sequence_sum():
    seqs, sums = make_sequence_sum(200, min_len=2, max_len=6, seed=0)
    assert all(2 <= len(s) <= 6 for s in seqs)
    assert [int(s.sum()) for s in seqs] == sums.tolist()
    X, lengths, sums2 = make_sequence_sum(200, min_len=2, max_len=6, seed=0, padded=True)
    assert X.shape == (200, 6) and (X.sum(1) == sums2).all() and (sums2 == sums).all()
    assert all((X[i, lengths[i]:] == 0).all() for i in range(200))
