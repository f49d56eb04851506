"""``CSVDataset``: tabular data from a CSV file with named feature and target columns (the ``csv`` module).

>>> ds = CSVDataset("claims.csv", feature_columns=["age", "power"], target_columns="claims")
>>> x, y = ds[0]         # tensor of 2 features, 0-d target tensor
"""
from __future__ import annotations

import csv
import os
from typing import Sequence

import numpy as np

from ...backend import dtypes as _dt
from ...tensor import Tensor
from ..dataset import Dataset
from ..dataloader import _Stacked

__all__ = ["CSVDataset"]


class CSVDataset(Dataset):
    """Rows of a CSV file with a header line, as ``(features, target)`` tensors.

    Args:
        path: the CSV file.
        feature_columns: names of the input columns (default: every column not in ``target_columns``).
        target_columns: a column name (the target is then a 0-d tensor per row), a list of names (a 1-d
            tensor), or ``None`` (items are the feature tensors alone).
        delimiter: the field separator.
        dtype: dtype of the features (default float32).
        target_dtype: dtype of the targets (default: ``dtype``; use ``ember.int64`` for class labels).

    Every value must parse as a number; errors name the file, the line, the column and the bad value.
    ``.features`` and ``.targets`` hold the whole columns as tensors; ``.columns`` the header.
    """

    def __init__(self, path, feature_columns: Sequence[str] | None = None,
                 target_columns: str | Sequence[str] | None = None, delimiter: str = ",", dtype=None,
                 target_dtype=None, encoding: str = "utf-8") -> None:
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"CSVDataset: file {path!r} not found")
        self.path = path
        self._scalar_target = isinstance(target_columns, str)
        targets = [target_columns] if self._scalar_target else (list(target_columns) if target_columns else [])
        with open(path, newline="", encoding=encoding) as f:
            reader = csv.reader(f, delimiter=delimiter)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                raise ValueError(f"CSVDataset: file {path!r} is empty (expected a header line)") from None
            rows = [r for r in reader if r and any(c.strip() for c in r)]
        self.columns = header
        if feature_columns is None:
            feature_columns = [c for c in header if c not in targets]
        features = list(feature_columns)
        missing = [c for c in features + targets if c not in header]
        if missing:
            raise ValueError(f"CSVDataset: column(s) {missing} not found in {path!r}; the columns found are "
                             f"{header} (delimiter {delimiter!r})")
        pos = {c: i for i, c in enumerate(header)}
        values = np.empty((len(rows), len(header)), np.float64)
        for line, row in enumerate(rows, start=2):
            if len(row) != len(header):
                raise ValueError(f"CSVDataset: line {line} of {path!r} has {len(row)} fields, expected "
                                 f"{len(header)} (the header's)")
            for c in features + targets:
                cell = row[pos[c]].strip()
                try:
                    values[line - 2, pos[c]] = float(cell)
                except ValueError:
                    raise ValueError(f"CSVDataset: line {line} of {path!r}, column {c!r}: cannot parse {cell!r} "
                                     f"as a number") from None
        fdt = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
        tdt = fdt if target_dtype is None else _dt.to_dtype(target_dtype)
        self.feature_columns, self.target_columns = features, targets
        self._x = np.ascontiguousarray(values[:, [pos[c] for c in features]].astype(fdt))
        y = values[:, [pos[c] for c in targets]].astype(tdt) if targets else None
        self._y = None if y is None else np.ascontiguousarray(y[:, 0] if self._scalar_target else y)

    @property
    def features(self) -> Tensor:
        """All feature rows, ``(N, n_features)``."""
        return Tensor._make(self._x)

    @property
    def targets(self) -> Tensor | None:
        """All targets, ``(N,)`` for one named column or ``(N, n_targets)`` for a list; ``None`` if none."""
        return None if self._y is None else Tensor._make(self._y)

    def __len__(self) -> int:
        return len(self._x)

    def __getitem__(self, index: int):
        x = Tensor._make(self._x[index])
        if self._y is None:
            return x
        return x, Tensor._make(np.asarray(self._y[index]))

    def _get_batch(self, indices):
        """The collated batch by one fancy index per block: ``[features, targets]``, or the features alone."""
        idx = np.asarray(indices, dtype=np.intp)
        xs = Tensor._make(self._x[idx])
        return xs if self._y is None else [xs, Tensor._make(self._y[idx])]

    def __getitems__(self, indices: list) -> list:
        """The rows at ``indices``, gathered as one batch."""
        collated = self._get_batch(indices)
        if self._y is None:
            out = _Stacked(Tensor._make(r) for r in collated._data)
        else:
            out = _Stacked((Tensor._make(a), Tensor._make(np.asarray(b)))
                           for a, b in zip(collated[0]._data, collated[1]._data))
        out.collated = collated
        return out
