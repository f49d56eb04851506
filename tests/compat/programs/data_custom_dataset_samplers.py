"""'Learn the Basics' datasets & dataloaders and transforms: a custom Dataset with __len__/__getitem__ and
transform/target_transform (a Lambda one-hot via scatter_), DataLoader batching (drop_last, a custom
collate_fn, iterating a dict-returning dataset), and torch.utils.data's samplers and dataset combinators
(Subset, ConcatDataset, random_split, SequentialSampler, BatchSampler, WeightedRandomSampler,
SubsetRandomSampler).  Random draws differ between libraries, so only their shapes, counts and sorted
contents are printed."""
import numpy as np
import torch
from torch.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler,
                              SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                              WeightedRandomSampler, random_split)


class Lambda:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)


class ToTensor:
    def __call__(self, arr):
        return torch.from_numpy(arr.astype(np.float32) / 255.0).unsqueeze(0)


class SyntheticImages(Dataset):
    def __init__(self, n, transform=None, target_transform=None):
        rng = np.random.RandomState(42)
        self.images = rng.randint(0, 256, size=(n, 4, 4)).astype(np.uint8)
        self.labels = np.arange(n) % 3
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image, label = self.images[idx], int(self.labels[idx])
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


ds = SyntheticImages(10, transform=ToTensor(),
                     target_transform=Lambda(lambda y: torch.zeros(3, dtype=torch.float).scatter_(
                         0, torch.tensor(y), value=1)))
img, lab = ds[4]
print("sample", tuple(img.shape), img.dtype == torch.float32, round(img.sum().item(), 4), lab.tolist())

loader = DataLoader(ds, batch_size=4, shuffle=False)
for bi, (X, y) in enumerate(loader):
    print("batch", bi, tuple(X.shape), tuple(y.shape), y.argmax(1).tolist(), round(X.mean().item(), 4))
print("len loader", len(loader), len(DataLoader(ds, batch_size=4, drop_last=True)))

plain = SyntheticImages(10)
default = next(iter(DataLoader(plain, batch_size=3)))
print("default collate", type(default).__name__, default[0].dtype == torch.uint8, tuple(default[0].shape), default[1].tolist())


class DictSet(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": torch.full((2,), float(i)), "n": i, "name": f"item{i}"}


for b in DataLoader(DictSet(), batch_size=2):
    print("dict batch", sorted(b), b["x"].tolist(), b["n"].tolist(), b["name"])


def pad_collate(batch):
    seqs = [torch.arange(1, n + 1) for n in batch]
    lengths = torch.tensor([len(s) for s in seqs])
    padded = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=0)
    return padded, lengths


for padded, lengths in DataLoader([3, 1, 4, 2], batch_size=2, collate_fn=pad_collate):
    print("padded", padded.tolist(), lengths.tolist())

base = TensorDataset(torch.arange(20.0).view(10, 2), torch.arange(10))
sub = Subset(base, [9, 0, 5])
print("subset", len(sub), [sub[i][1].item() for i in range(len(sub))], sub[0][0].tolist())
cat = ConcatDataset([sub, base])
print("concat", len(cat), cat.cumulative_sizes, cat[2][1].item(), cat[3][1].item(), cat[-1][1].item())
g = torch.Generator().manual_seed(0)
train, val = random_split(base, [7, 3], generator=g)
print("split", len(train), len(val), sorted(train.indices + val.indices) == list(range(10)))
a, b, c = random_split(range(10), [0.5, 0.3, 0.2], generator=torch.Generator().manual_seed(1))
print("fraction split", len(a), len(b), len(c), sorted(list(a) + list(b) + list(c)))
print("sequential", list(SequentialSampler(range(5))))
print("batch sampler", list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False)),
      list(BatchSampler(range(7), batch_size=3, drop_last=True)))
wts = torch.tensor([0.0, 0.0, 1.0, 0.0, 3.0])
drawn = list(WeightedRandomSampler(wts, num_samples=50, replacement=True))
print("weighted", len(drawn), sorted(set(drawn)), all(isinstance(i, int) for i in drawn))
drawn = list(WeightedRandomSampler([0.1, 0.0, 0.5, 0.4], num_samples=3, replacement=False))
print("weighted no replacement", sorted(drawn))
print("subset random", sorted(SubsetRandomSampler([3, 1, 7])))
rs = RandomSampler(range(6))
print("random sampler", len(rs), sorted(rs))
print("random sampler replacement", len(list(RandomSampler(range(6), replacement=True, num_samples=11))))
shuffled = [yb.tolist() for _, yb in DataLoader(base, batch_size=4, shuffle=True)]
print("shuffled sizes", [len(s) for s in shuffled], sorted(sum(shuffled, [])))
