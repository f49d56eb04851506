"""``ember.backends.mkl``: ember calls whatever BLAS NumPy was built with; it does not use MKL itself."""


def is_available() -> bool:
    return False
