"""Writing files atomically: a reader sees the old file or the new one, never a torn write."""

from __future__ import annotations

import os
import tempfile


def atomic_write(path: str | os.PathLike, data: bytes | str) -> str:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename.

    The data and the rename are flushed to disk (fsync), so a crash leaves either the previous
    file or the complete new one. Returns the path written.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write '{path}': the directory '{directory}' does not exist")
    if isinstance(data, str):
        data = data.encode()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)
    return path


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
