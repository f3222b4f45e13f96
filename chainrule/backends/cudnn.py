"""``chainrule.backends.cudnn``: PyTorch's cuDNN flags, settable as module attributes.

``deterministic``, ``benchmark``, ``enabled`` and ``allow_tf32`` keep what a script assigns (with
PyTorch's defaults); there is no cuDNN in chainrule, so ``is_available()`` is False and
``version()`` is None.
"""

from __future__ import annotations

enabled = True
deterministic = False
benchmark = False
benchmark_limit = 10
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> int | None:
    return None
