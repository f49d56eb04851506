"""Ready-made datasets: MNIST/FashionMNIST (IDX files), Digits (scikit-learn's 8x8 digits, offline), a
character-level text corpus, tabular CSV files, and synthetic generators for teaching and tests."""
from __future__ import annotations

from .mnist import MNIST, FashionMNIST, read_idx
from .digits import Digits
from .text import CharVocab, CharCorpus, TextDataset, TinyShakespeare
from .csv import CSVDataset
from .synthetic import (make_xor, make_spirals, make_moons, make_circles, make_linear_regression,
                        make_polynomial_regression, make_poisson_counts, make_sequence_sum, make_multilabel,
                        make_separable, make_quadrant_images, make_shapes, make_binary_patterns, flip_bits,
                        PoissonData)

__all__ = ["MNIST", "FashionMNIST", "read_idx", "Digits", "CharVocab", "CharCorpus", "TextDataset",
           "TinyShakespeare", "CSVDataset", "make_xor", "make_spirals", "make_moons", "make_circles",
           "make_linear_regression", "make_polynomial_regression", "make_poisson_counts", "make_sequence_sum",
           "make_multilabel", "make_separable", "make_quadrant_images", "make_shapes", "make_binary_patterns",
           "flip_bits", "PoissonData"]
