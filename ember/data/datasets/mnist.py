"""MNIST and Fashion-MNIST from their IDX files (gzip-compressed or raw), like ``torchvision.datasets.MNIST``.

The IDX format: a big-endian header (two zero bytes, a type code, the number of dimensions, then one uint32
per dimension) followed by the raw values.  Labels use magic 2049 (uint8, 1-D), images 2051 (uint8, 3-D).
``read_idx`` checks the magic number, the dimensions and the data size, and names the file in every error.

``MNIST(root)`` looks for the four files in ``root`` itself, in ``root/MNIST/raw`` (torchvision's layout) and
in ``root/mnist``; ``root`` defaults to ember's data root (``$EMBER_DATA``, else the user's cache folder: see
``ember.data.root``).  With ``download=True`` missing files are fetched from the canonical mirrors into
``root/MNIST/raw`` and checked against their MD5 sums; offline, the error names each file, its MD5 and the folder
to copy it to.
"""
from __future__ import annotations

import gzip
import os
import zlib
from typing import Callable

import numpy as np

from ...tensor import Tensor
from ..dataset import Dataset
from ..dataloader import _Stacked
from ..root import DatasetNotFoundError, data_root, fetch, missing_message, resolve_root

__all__ = ["read_idx", "MNIST", "FashionMNIST"]

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_cache: dict = {}


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":            # gzip magic: decompress whatever the file's extension
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise RuntimeError(f"IDX file {path!r} is a corrupt or truncated gzip file ({e})") from None
    if path.endswith(".gz"):
        raise RuntimeError(f"IDX file {path!r} has a .gz name but is not gzip-compressed (first bytes "
                           f"{raw[:4].hex()}); the download may be corrupt")
    return raw


def read_idx(path, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip or raw) into a NumPy array, checking its header and size.

    ``expected_magic`` (2049 for label files, 2051 for image files) is checked when given.  A missing,
    truncated or corrupt file, a wrong magic number or a size that disagrees with the header raises
    ``RuntimeError`` naming the file.

    >>> labels = read_idx("train-labels-idx1-ubyte.gz", 2049)     # uint8 array of shape (60000,)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise RuntimeError(f"IDX file {path!r} not found")
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, expected_magic)
    if key in _cache:
        return _cache[key]
    data = _read_bytes(path)
    if len(data) < 4:
        raise RuntimeError(f"IDX file {path!r} is truncated: {len(data)} bytes, too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    zero, code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or code not in _IDX_DTYPES or ndim == 0:
        raise RuntimeError(f"IDX file {path!r} has a wrong magic number {magic} (0x{magic:08x}); expected "
                           f"{expected_magic or '2049 (labels) or 2051 (images)'}: not an IDX file, or corrupt")
    if expected_magic is not None and magic != expected_magic:
        raise RuntimeError(f"IDX file {path!r} has magic number {magic}, expected {expected_magic} "
                           f"({'labels' if expected_magic == 2049 else 'images'})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise RuntimeError(f"IDX file {path!r} is truncated: the header needs {header} bytes, the file has "
                           f"{len(data)}")
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(dims)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise RuntimeError(f"IDX file {path!r} is truncated: header says shape {dims} ({expected} bytes of data), "
                           f"found only {found} bytes")
    if found > expected:
        raise RuntimeError(f"IDX file {path!r} is corrupt: header says shape {dims} ({expected} bytes of data), "
                           f"found {found} bytes")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    arr = arr.astype(dtype.newbyteorder("="), copy=False)
    if len(_cache) >= 8:          # a small cache: tests and notebooks open the same files repeatedly
        _cache.pop(next(iter(_cache)))
    _cache[key] = arr
    return arr


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28, labels 0..9.

    Args:
        root: a folder holding the IDX files (gzip or raw), directly or in ``MNIST/raw`` or ``mnist``; default
            (None): ember's data root.
        train: the training set (``True``) or the test set.
        transform: applied to each image, a ``uint8`` array of shape ``(28, 28)``; without one an image comes
            as a float tensor ``(1, 28, 28)`` with values in [0, 1].
        target_transform: applied to each label (an ``int``).
        download: fetch missing files into ``root/MNIST/raw``, verifying their MD5 sums: copied from ember's data
            root when it holds them (``$EMBER_DATA``), else downloaded from the mirrors.

    ``.data`` (a ``uint8`` tensor ``(N, 28, 28)``), ``.targets`` (``int64`` tensor ``(N,)``) and ``.classes``
    are as in torchvision.

    >>> train = MNIST(train=True)          # from the data root; download=True fetches the files
    >>> img, label = train[0]            # tensor (1, 28, 28), 5
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    _folder_names = ("mnist",)

    def __init__(self, root=None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        self.root = resolve_root(root)
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        prefix = "train" if train else "t10k"
        images = read_idx(self._find(f"{prefix}-images-idx3-ubyte"), 2051)
        labels = read_idx(self._find(f"{prefix}-labels-idx1-ubyte"), 2049)
        if images.shape[0] != labels.shape[0]:
            raise RuntimeError(f"{type(self).__name__}: {images.shape[0]} images but {labels.shape[0]} labels in "
                               f"{self.root!r}; the files do not belong together")
        if labels.size and labels.max() >= len(self.classes):
            raise RuntimeError(f"{type(self).__name__}: label file in {self.root!r} holds label {labels.max()}, "
                               f"expected 0..{len(self.classes) - 1}")
        # copies: the cached arrays are read-only and shared, while users may edit .data
        self._images = np.array(images, dtype=np.uint8)
        self._labels = labels.astype(np.int64)

    # -- files ---------------------------------------------------------------------------------------------
    @property
    def raw_folder(self) -> str:
        """Where torchvision keeps (and ``download`` writes) the files: ``root/<ClassName>/raw``."""
        return os.path.join(self.root, type(self).__name__, "raw")

    def _candidates(self, name: str) -> list:
        folders = [self.root, self.raw_folder] + [os.path.join(self.root, f) for f in self._folder_names]
        return [os.path.join(d, name + ext) for d in folders for ext in ("", ".gz")]

    def _find(self, name: str) -> str:
        for p in self._candidates(name):
            if os.path.isfile(p):
                return p
        missing = [(f, c) for f, c in self.resources
                   if not any(os.path.isfile(p) for p in self._candidates(f[:-3]))] or self.resources
        raise DatasetNotFoundError(
            missing_message(type(self).__name__, self.raw_folder, missing, self.mirrors)
            + f" (looked in {', '.join(sorted(set(os.path.dirname(p) for p in self._candidates(name))))})")

    def _check_exists(self) -> bool:
        try:
            for fname, _ in self.resources:
                self._find(fname[:-3])
        except RuntimeError:
            return False
        return True

    def download(self) -> None:
        """Download the missing files from ``mirrors`` into ``raw_folder`` and verify their MD5 sums."""
        if self._check_exists():
            return
        base = data_root()       # a copy already in the data root is taken before the network
        local = [base, os.path.join(base, type(self).__name__, "raw")] + [os.path.join(base, f)
                                                                          for f in self._folder_names]
        fetch(type(self).__name__, self.raw_folder, self.resources, self.mirrors, local=local)

    # -- data ----------------------------------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The images as a ``uint8`` tensor of shape ``(N, 28, 28)`` (sharing memory with the dataset)."""
        return Tensor._make(self._images)

    @data.setter
    def data(self, value) -> None:
        self._images = np.asarray(value._data if isinstance(value, Tensor) else value, dtype=np.uint8)

    @property
    def targets(self) -> Tensor:
        """The labels as an ``int64`` tensor of shape ``(N,)``."""
        return Tensor._make(self._labels)

    @targets.setter
    def targets(self, value) -> None:
        self._labels = np.asarray(value._data if isinstance(value, Tensor) else value, dtype=np.int64)

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self._images)

    def __getitem__(self, index: int):
        img, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        else:
            img = Tensor._make(img[None].astype(np.float32) * np.float32(1 / 255))
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _get_batch(self, indices):
        """The collated batch ``[images, labels]`` in one go, or ``None`` when a transform must run per sample.

        Deterministic transforms (``ToTensor``, ``Normalize``, ... and ``Compose`` of them) run once on the whole
        batch; the DataLoader calls this directly when it uses the default collate (the fast path)."""
        t = self.transform
        if (t is not None and not getattr(t, "_batchable", False)) or self.target_transform is not None:
            return None
        idx = np.asarray(indices, dtype=np.intp)
        imgs = self._images[idx]
        batch = t._apply_batch(imgs) if t is not None else imgs[:, None].astype(np.float32) * np.float32(1 / 255)
        return [Tensor._make(batch), Tensor._make(self._labels[idx])]

    def __getitems__(self, indices: list) -> list:
        """The samples at ``indices`` (fetched and transformed as one batch when possible)."""
        collated = self._get_batch(indices)
        if collated is None:
            return [self[i] for i in indices]
        out = _Stacked((Tensor._make(b), y) for b, y in zip(collated[0]._data, collated[1]._data.tolist()))
        out.collated = collated
        return out

    def __repr__(self) -> str:
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n    Root location: "
                f"{self.root}\n    Split: {'Train' if self.train else 'Test'}")


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 28x28 grey images of 10 kinds of clothing, MNIST's format and sizes.

    Files are looked for in ``root``, ``root/FashionMNIST/raw`` and ``root/fashion-mnist``.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    _folder_names = ("fashion-mnist", "fashion_mnist", "FashionMNIST")
