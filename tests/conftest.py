"""Shared test setup: float64 checks are exact enough to compare at tight tolerances."""

import os

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def backend(request):
    """The execution path a table case runs on (tests/backends.py): parametrised indirectly,
    ``@pytest.mark.parametrize("case,backend", backends.params(...), indirect=["backend"])``."""
    from .backends import running

    with running(request.param):
        yield request.param
