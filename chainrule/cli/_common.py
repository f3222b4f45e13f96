"""What the command modules share: the error type ``main`` reports, and option checks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class CLIError(Exception):
    """A problem with the command line or its inputs: ``main`` prints the message and exits with 2."""


def check_device(device: str) -> None:
    """chainrule computes on the CPU (NumPy) for now; anything else is refused up front."""
    if device.split(":")[0].strip().lower() != "cpu":
        raise CLIError(f"--device {device!r} is not available: chainrule runs on the CPU only for now "
                       "(use --device cpu, the default)")


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Limit the threads of NumPy's BLAS (the matrix products) to ``n`` inside the block; None: leave them.

    Uses threadpoolctl (installed with scikit-learn), because BLAS reads its environment variables
    only once, when NumPy is first imported.
    """
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of scikit-learn, which chainrule requires
        raise CLIError("--threads needs the threadpoolctl package: pip install threadpoolctl") from None
    with threadpool_limits(limits=n, user_api="blas"):
        yield
