"""``torchvision.datasets``: MNIST, FashionMNIST, KMNIST, EMNIST (IDX files), CIFAR10 and CIFAR100 (their binary
versions: ember never unpickles), ImageFolder / DatasetFolder (PNG, JPEG, ... through Pillow) and FakeData.

Every dataset takes ``root`` (default: ember's data root, ``$EMBER_DATA`` or the user's cache folder),
``transform`` and ``target_transform``, and the downloadable ones ``download=True``: archives are checked against
their published MD5 and only the expected members are extracted (by name, never by the paths stored inside).
Items are ``(image, target)``: CIFAR, ImageFolder and FakeData give PIL images, as torchvision does; the IDX
datasets give ``uint8`` arrays ``(28, 28)`` to a transform (``ToTensor`` and the other transforms take both).
"""
from __future__ import annotations

import io
import os
import tarfile
import zipfile
from typing import Callable

import numpy as np

from ..data.dataset import Dataset
from ..data.datasets.mnist import MNIST, FashionMNIST
from ..data.root import DatasetNotFoundError, fetch, missing_message, resolve_root

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "CIFAR10", "CIFAR100", "ImageFolder", "DatasetFolder",
           "FakeData", "IMG_EXTENSIONS", "default_loader"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("ember.vision.datasets needs Pillow for images: pip install 'ember[vision]'") from None
    return Image


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28x28 images of 10 cursive Japanese characters, MNIST's format and sizes."""
    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
                 ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
                 ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
                 ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134")]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    _folder_names = ("kmnist",)


def _extract(archive: str, folder: str, wanted: dict) -> None:
    """Copy the members of a tar or zip ``archive`` whose base names are keys of ``wanted`` into ``folder``
    under the value's name; paths stored in the archive are never used (no traversal, no links)."""
    def store(name: str, data: bytes) -> None:
        tmp = os.path.join(folder, "." + name + ".part")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(folder, name))
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                base = os.path.basename(info.filename)
                if base in wanted and not info.is_dir():
                    store(wanted[base], z.read(info))
        return
    with tarfile.open(archive, "r:*") as t:
        for m in t.getmembers():
            base = os.path.basename(m.name)
            if base in wanted and m.isfile():
                store(wanted[base], t.extractfile(m).read())


class EMNIST(MNIST):
    """EMNIST (letters and digits in MNIST's format), ``split`` one of byclass, bymerge, balanced, letters,
    digits, mnist.  Images are stored transposed in the files; they come out upright, as in torchvision."""
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    url = "https://biometrics.nist.gov/cs_links/EMNIST/"
    archive = ("gzip.zip", "58c8d27c78d21e728a6bc7b3cc06412e")
    _digits = [str(d) for d in range(10)]
    _upper = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    _lower = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    classes_split_dict = {
        "byclass": _digits + _upper + _lower,
        "bymerge": _digits + _upper + list("abdefghnqrt"),
        "balanced": _digits + _upper + list("abdefghnqrt"),
        "letters": ["N/A"] + _lower,
        "digits": _digits,
        "mnist": _digits,
    }

    def __init__(self, root=None, split: str = "balanced", **kwargs) -> None:
        if split not in self.splits:
            raise ValueError(f"EMNIST: unknown split {split!r}; expected one of {', '.join(self.splits)}")
        self.split = split
        self.classes = self.classes_split_dict[split]
        self.resources = [(f"emnist-{split}-{p}-{k}-idx{d}-ubyte.gz", None) for p in ("train", "test")
                          for k, d in (("images", 3), ("labels", 1))]
        super().__init__(root, **kwargs)
        self._images = np.ascontiguousarray(self._images.transpose(0, 2, 1))

    def _find(self, name: str) -> str:
        name = name.replace("t10k-", f"emnist-{self.split}-test-").replace("train-", f"emnist-{self.split}-train-") \
            if not name.startswith("emnist-") else name
        for p in self._candidates(name):
            if os.path.isfile(p):
                return p
        raise DatasetNotFoundError(missing_message("EMNIST", self.raw_folder, [(name + ".gz", self.archive[1])],
                                                   [self.url + self.archive[0]]))

    def download(self) -> None:
        if self._check_exists():
            return
        fetch("EMNIST", self.raw_folder, [self.archive], [self.url])
        wanted = {f"emnist-{s}-{p}-{k}-idx{d}-ubyte.gz": f"emnist-{s}-{p}-{k}-idx{d}-ubyte.gz" for s in self.splits
                  for p in ("train", "test") for k, d in (("images", 3), ("labels", 1))}
        _extract(os.path.join(self.raw_folder, self.archive[0]), self.raw_folder, wanted)


class _ImageDataset(Dataset):
    """What CIFAR and FakeData share: ``(PIL image, target)`` items from a ``uint8`` array ``(N, H, W, C)``."""

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        img = _pil().fromarray(self.data[index])
        target = self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        return f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n    Root location: {self.root}"


class CIFAR10(_ImageDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images of 32x32 in 10 classes, read from the binary
    version (``cifar-10-batches-bin/*.bin``: one label byte and 3,072 pixel bytes per image).

    ``.data`` is ``uint8`` ``(N, 32, 32, 3)`` and ``.targets`` a list of ints, as in torchvision."""
    base_folder = "cifar-10-batches-bin"
    url = "https://www.cs.toronto.edu/~kriz/"
    archive = ("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530")
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    label_bytes = 1
    meta_file = "batches.meta.txt"
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root=None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        self.root = resolve_root(root)
        self.train, self.transform, self.target_transform = train, transform, target_transform
        folder = os.path.join(self.root, self.base_folder)
        files = self.train_list if train else self.test_list
        if download and not all(os.path.isfile(os.path.join(folder, f)) for f in self.train_list + self.test_list):
            fetch(type(self).__name__, self.root, [self.archive], [self.url])
            os.makedirs(folder, exist_ok=True)
            names = self.train_list + self.test_list + [self.meta_file]
            _extract(os.path.join(self.root, self.archive[0]), folder, {n: n for n in names})
        missing = [f for f in files if not os.path.isfile(os.path.join(folder, f))]
        if missing:
            raise DatasetNotFoundError(
                missing_message(type(self).__name__, self.root, [self.archive], [self.url])
                + f" (the archive unpacks to {folder}, which lacks {', '.join(missing)})")
        record = self.label_bytes + 3072
        data, targets = [], []
        for f in files:
            path = os.path.join(folder, f)
            raw = np.fromfile(path, dtype=np.uint8)
            if raw.size == 0 or raw.size % record:
                raise RuntimeError(f"{type(self).__name__}: {path} has {raw.size} bytes, not a whole number of "
                                   f"{record}-byte records: truncated or not a CIFAR binary file")
            rows = raw.reshape(-1, record)
            targets.append(rows[:, self.label_bytes - 1].astype(np.int64))
            data.append(rows[:, self.label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        self.data = np.ascontiguousarray(np.concatenate(data))
        self.targets = np.concatenate(targets).tolist()
        if max(self.targets) >= len(self.classes):
            raise RuntimeError(f"{type(self).__name__}: labels up to {max(self.targets)} in {folder}, expected "
                               f"0..{len(self.classes) - 1}")
        meta = os.path.join(folder, self.meta_file)
        if os.path.isfile(meta):
            names = [n.strip() for n in open(meta, encoding="utf-8", errors="replace") if n.strip()]
            if len(names) == len(self.classes):
                self.classes = names

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}


class CIFAR100(CIFAR10):
    """CIFAR-100: 100 fine classes (``targets``) grouped into 20 coarse ones, from the binary version
    (``cifar-100-binary/train.bin`` and ``test.bin``: coarse and fine label bytes, then the pixels)."""
    base_folder = "cifar-100-binary"
    archive = ("cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8")
    train_list = ["train.bin"]
    test_list = ["test.bin"]
    label_bytes = 2
    meta_file = "fine_label_names.txt"
    classes = [f"class_{i}" for i in range(100)]


class FakeData(_ImageDataset):
    """``size`` random images of ``image_size`` (C, H, W) with random targets in ``range(num_classes)``, as
    PIL images; item ``i`` is drawn from a generator seeded with ``i + random_offset``, so it is the same every
    time (its pixels differ from torchvision's, whose generator is torch's)."""

    def __init__(self, size: int = 1000, image_size=(3, 224, 224), num_classes: int = 10,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 random_offset: int = 0) -> None:
        if len(image_size) != 3 or image_size[0] not in (1, 3, 4):
            raise ValueError(f"FakeData: image_size should be (C, H, W) with C in 1, 3, 4, got {image_size}")
        self.size, self.image_size, self.num_classes = int(size), tuple(image_size), int(num_classes)
        self.transform, self.target_transform, self.random_offset = transform, target_transform, random_offset
        self.root = None

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int):
        if not -self.size <= index < self.size:
            raise IndexError(f"FakeData: index {index} out of range for a dataset of {self.size} items")
        index %= self.size
        rng = np.random.default_rng(index + self.random_offset)
        c, h, w = self.image_size
        pixels = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
        img = _pil().fromarray(pixels[:, :, 0] if c == 1 else pixels)
        target = int(rng.integers(0, self.num_classes))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


def default_loader(path: str):
    """Open an image file with Pillow and convert it to RGB (torchvision's ``pil_loader``)."""
    Image = _pil()
    with open(path, "rb") as f:
        img = Image.open(io.BytesIO(f.read()))
        return img.convert("RGB")


class DatasetFolder(Dataset):
    """Samples in ``root/<class>/**/<file>``: classes are the sorted sub-folder names, targets their indices.

    ``extensions`` (a tuple of lower-case endings) or ``is_valid_file(path)`` picks the files; ``loader(path)``
    reads one.  ``.classes``, ``.class_to_idx``, ``.samples`` (``(path, target)`` pairs) and ``.targets`` are as
    in torchvision; an empty class folder is an error unless ``allow_empty=True``."""

    def __init__(self, root, loader: Callable, extensions=None, transform: Callable | None = None,
                 target_transform: Callable | None = None, is_valid_file: Callable | None = None,
                 allow_empty: bool = False) -> None:
        self.root = os.path.expanduser(os.fspath(root))
        self.loader, self.extensions = loader, extensions
        self.transform, self.target_transform = transform, target_transform
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(self.root, self.class_to_idx, extensions, is_valid_file, allow_empty)
        self.imgs = self.samples
        self.targets = [t for _, t in self.samples]

    @staticmethod
    def find_classes(directory: str):
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"Couldn't find any class folder in {directory}: not a folder")
        classes = sorted(e.name for e in os.scandir(directory) if e.is_dir())
        if not classes:
            raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
        return classes, {c: i for i, c in enumerate(classes)}

    @staticmethod
    def make_dataset(directory: str, class_to_idx: dict, extensions=None, is_valid_file=None,
                     allow_empty: bool = False) -> list:
        if (extensions is None) == (is_valid_file is None):
            raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
        if is_valid_file is None:
            exts = tuple(e.lower() for e in ((extensions,) if isinstance(extensions, str) else extensions))
            is_valid_file = lambda p: p.lower().endswith(exts)  # noqa: E731
        samples, found = [], set()
        for cls in sorted(class_to_idx):
            folder = os.path.join(directory, cls)
            for dirpath, _, fnames in sorted(os.walk(folder, followlinks=True)):
                for fname in sorted(fnames):
                    path = os.path.join(dirpath, fname)
                    if is_valid_file(path):
                        samples.append((path, class_to_idx[cls]))
                        found.add(cls)
        empty = sorted(set(class_to_idx) - found)
        if empty and not allow_empty:
            msg = f"Found no valid file for the classes {', '.join(empty)}. "
            if extensions is not None:
                msg += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
            raise FileNotFoundError(msg)
        return samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target


class ImageFolder(DatasetFolder):
    """Images in ``root/<class>/<file>.png|jpg|...``, opened with Pillow as RGB (torchvision's ImageFolder)."""

    def __init__(self, root, transform: Callable | None = None, target_transform: Callable | None = None,
                 loader: Callable = default_loader, is_valid_file: Callable | None = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform=transform,
                         target_transform=target_transform, is_valid_file=is_valid_file, allow_empty=allow_empty)
from .scenes import CaptionedScenes, make_scenes  # noqa: E402,F401  (generated captioned scenes)
