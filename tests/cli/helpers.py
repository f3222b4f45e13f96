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


# --- the command in a subprocess, as a user runs it -------------------------------------------

import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# the mlp on 120 of the digits: a subprocess run takes about a second
TINY = ["--model", "mlp", "--data", "digits", "--train-limit", "120", "--test-limit", "30", "--batch-size", "16",
        "--no-progress", "--no-plots"]
ERROR_LINE = re.compile(r"^chainrule( [a-z-]+)?: (error|interrupted)")


def env() -> dict:
    e = dict(os.environ, CHAINRULE_JIT="0", PYTHONPATH=str(ROOT))
    e.pop("CHAINRULE_DEBUG", None)
    return e


def run_sub(*argv: str, cwd=None, code: str | None = None, timeout: float = 120, **kwargs):
    """``python -m chainrule *argv`` (or ``python -c code *argv``) in a subprocess: the CompletedProcess."""
    cmd = [sys.executable, "-c", code, *argv] if code else [sys.executable, "-m", "chainrule", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd or ROOT, env=env(), timeout=timeout,
                          check=False, **kwargs)


def assert_clean_error(status: int, err: str, expected_status: int | None = None) -> str:
    """One line on stderr naming chainrule and saying error (usage lines of argparse before it), no traceback."""
    assert "Traceback" not in err, err
    assert status in (1, 2, 130), (status, err)
    if expected_status is not None:
        assert status == expected_status, (status, err)
    lines = [line for line in err.splitlines() if line.strip()]
    flagged = [line for line in lines if ERROR_LINE.match(line)]
    assert len(flagged) == 1 and flagged[0] == lines[-1], err
    assert "internal error" not in err, err
    return lines[-1]


def snapshot(folder) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
