"""Running the ``chainrule`` command in-process on a small slice of the 8x8 digits."""

from __future__ import annotations

import contextlib
import io

import numpy as np

import chainrule as cr
from chainrule.cli.main import main

# 150 training images (135 train / 15 validation), 40 test images: a run takes a fraction of a second
SMALL = ["--model", "digits_cnn", "--data", "digits", "--train-limit", "150", "--test-limit", "40",
         "--batch-size", "16", "--no-progress"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """``chainrule *argv``: the exit status, stdout and stderr."""
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def run_captured(*argv: str) -> tuple[int, str, str]:
    """``run_cli`` for module-scoped fixtures, which cannot use ``capsys``."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(list(argv))
    return status, stdout.getvalue(), stderr.getvalue()


def model_arrays(path) -> dict[str, np.ndarray]:
    """The model weights and buffers of a training checkpoint, as NumPy arrays."""
    state = cr.load(str(path))
    return {k: v.numpy() for k, v in state["model"].items()}
