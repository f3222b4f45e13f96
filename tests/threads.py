"""Forcing chainrule's thread pool on for a test (see ``chainrule/_parallel.py``)."""

from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.kernels import _parallel


def force_two_threads(monkeypatch) -> None:
    """Two threads and no size threshold: every region on NumPy arrays runs on both (until the
    test's monkeypatch is undone)."""
    monkeypatch.setattr(backend, "_num_threads", 2)
    monkeypatch.setattr(_parallel, "MIN_PARALLEL_BYTES", 0)
    assert _parallel.threads_for(np, 1) == 2
