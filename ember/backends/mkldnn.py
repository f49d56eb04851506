"""``ember.backends.mkldnn``: oneDNN is not used by ember (``enabled`` is kept as a flag)."""
enabled = True
deterministic = False


def is_available() -> bool:
    return False
