"""nn utilities: gradient clipping, parameter vectors, regularization helpers."""
