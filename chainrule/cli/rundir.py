"""The run folder (``--out``): checked before any training, never silently reused.

Policy: a new run never writes into a folder that holds another run's files. ``train`` refuses
and names the ways out (``--resume`` to continue that run, ``--out`` for a new folder,
``--overwrite`` to replace it); ``demo``, whose default folder is reused by every ``make demo``,
numbers its new folder instead (``runs/demo``, ``runs/demo-2``, ...). ``--resume`` writes into
the folder of the checkpoint it continues, and only when that is the folder's
``checkpoint.safetensors`` (resuming ``best.safetensors`` there would overwrite later epochs).

A folder that is a file, lies under a file, or cannot be written is reported before the data is
loaded. Temporary files left by a process killed during an atomic write are removed at start.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile

from ._common import CLIError
from .checkpoint import BEST, LAST

# every file a run writes (the temporary files of its atomic writes are named .NAME.*.tmp)
RUN_FILES = (LAST, BEST, "metrics.csv", "confusion_matrix.csv", "curves.png", "filters.png", "feature_maps.png",
             "confusion_matrix.png")


def run_files(out: str) -> list[str]:
    """The files of a run present in ``out``."""
    return [name for name in RUN_FILES if os.path.isfile(os.path.join(out, name))]


def numbered(out: str) -> str:
    """``out`` if it holds no run, else the first of ``out-2``, ``out-3`` ... that holds none."""
    candidate, n = out, 1
    while os.path.isdir(candidate) and run_files(candidate) or os.path.isfile(candidate):
        n += 1
        candidate = f"{out}-{n}"
    return candidate


def _same_folder(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_out(out: str, *, resume: str | None, overwrite: bool) -> None:
    """Refuse an ``--out`` that cannot hold this run (see the module's policy); create it if needed."""
    flag = f"--out {out}"
    if not out.strip():
        raise CLIError("--out is empty; give the folder the run should be written to")
    if os.path.exists(out) and not os.path.isdir(out):
        raise CLIError(f"{flag} is a file, not a folder; choose another --out")
    parent = os.path.dirname(os.path.abspath(out))
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if parent and not os.path.isdir(parent):
        raise CLIError(f"{flag} lies under '{parent}', which is a file; choose another --out")
    present = run_files(out) if os.path.isdir(out) else []
    if present and not overwrite:
        if resume is not None and _same_folder(os.path.dirname(os.path.abspath(resume)), out):
            if os.path.basename(resume) != LAST and os.path.exists(os.path.join(out, LAST)):
                raise CLIError(f"resuming from {resume} in {out} would overwrite the run's later {LAST}; "
                               f"continue it elsewhere with --out NEW_DIR (or pass --overwrite)")
        else:
            raise CLIError(f"{out} already holds a run ({', '.join(present)}); continue it with --resume {out}, "
                           f"write the new run to another folder with --out DIR, or pass --overwrite to replace it")
    try:
        os.makedirs(out, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-test.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise CLIError(f"{flag} cannot be written: {e.strerror or e}") from None
    remove_stale_temp_files(out)


def remove_stale_temp_files(out: str) -> list[str]:
    """Delete the temporary files a killed atomic write of a run file left in ``out``."""
    removed = []
    for name in RUN_FILES + (".write-test",):
        pattern = os.path.join(glob.escape(out), f".{glob.escape(name.lstrip('.'))}.*.tmp")
        for path in glob.glob(pattern):
            with contextlib.suppress(OSError):
                os.unlink(path)
                removed.append(path)
    return removed


def clear_run(out: str) -> None:
    """``--overwrite``: remove the files of the run in ``out`` (just before the new run writes its own)."""
    for name in run_files(out):
        os.unlink(os.path.join(out, name))
