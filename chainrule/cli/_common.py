"""What the command modules share: the error types ``main`` reports, and option checks.

Exit statuses of the ``chainrule`` command: 0 success, 2 bad input (``CLIError``, argparse's
usage errors), 1 a failure of the run (``RunFailure``: a dataset that cannot be read, a full
disk, a diverged training), 130 Ctrl-C. Every error is one line on stderr,
``chainrule COMMAND: error: ...`` (argparse's own form for a sub-command).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import math
from collections.abc import Iterator


class CLIError(Exception):
    """A problem with the command line or its inputs: ``main`` prints the message and exits with 2."""


class RunFailure(Exception):
    """The run failed for a reason outside the command line (disk, dataset files, divergence): exit 1."""


def write_error(err: OSError, path: str, keeps: str = "") -> RunFailure:
    """A ``RunFailure`` for an ``OSError`` raised while writing ``path``: says a full disk is full."""
    import os

    folder = os.path.dirname(os.path.abspath(path))
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        what = f"the disk is full: cannot write {os.path.basename(path)} in {folder}/"
    else:
        what = f"cannot write {path}: {err.strerror or err}"
    return RunFailure(what + (f"; {keeps}" if keeps else ""))


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def seed_int(text: str) -> int:
    """argparse type: a seed, an integer in [0, 2**32 - 1]."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to {2**32 - 1}, got {text}")
    return value


def finite_float(low: float, high: float = math.inf, *, low_open: bool = False, high_open: bool = False):
    """argparse type: a finite float in the interval from ``low`` to ``high`` (closed unless ``*_open``)."""
    lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
    interval = f"{lo}{low:g}, " + ("inf)" if math.isinf(high) else f"{high:g}{hi}")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        ok = (math.isfinite(value) and (value > low if low_open else value >= low)
              and (value < high if high_open else value <= high))
        if not ok:
            raise argparse.ArgumentTypeError(f"expected a finite number in {interval}, got {text}")
        return value

    parse.__name__ = "number"  # argparse names the type in its messages
    return parse


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


@contextlib.contextmanager
def num_threads(n: int | None) -> Iterator[None]:
    """``--threads n``: ``chainrule.set_num_threads(n)`` (chainrule's own thread pool, and BLAS) inside
    the block, both put back afterwards; None: leave them."""
    if n is None:
        yield
        return
    from .. import backend

    previous = backend.get_num_threads()
    with blas_threads(n):
        backend.set_num_threads(n)
        try:
            yield
        finally:
            backend.set_num_threads(previous)
