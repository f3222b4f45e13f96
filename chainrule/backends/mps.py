"""``chainrule.backends.mps``: Apple's Metal backend is not part of chainrule."""


def is_available() -> bool:
    """False: chainrule has no Metal (MPS) backend."""
    return False


def is_built() -> bool:
    return False
