"""Generated ``fused`` kernels as files of the kernel cache, so that numba's on-disk cache
(``_compile.py``) keeps their compiled code between processes.

``load(name, source)`` writes ``source`` to ``<cache_dir()>/fused-<stamp>/<name>.py`` unless the
file holds exactly that text already (a missing, truncated or edited file is written again:
atomically, through a temporary file and a rename, so a process never reads a half-written
one), then runs the text as a module named after the file and returns its ``kernel``. Its
``@jit`` finds its compiled entries next to the file in numba's cache, stamped with every
source of ``kernels/numba/`` (``fused_codegen`` among them), or compiles and stores them.
``<stamp>`` is a hash of the same sources: another chainrule's generator writes into another
folder instead of over these files.

The module is run from the text in memory, not imported from the file: Python's own bytecode
cache would trust a file's modification time, and the text is at hand anyway. Where the file
cannot be written the kernel is compiled in memory, in every process, with one warning
(``_compile.jit``'s). Importing this module imports numba.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import types
import warnings

from .._jit import cache_dir
from . import _compile


def folder() -> str:
    """Where the generated files go."""
    return os.path.join(cache_dir(), "fused-" + _compile._sources_stamp()[:16])


def load(name: str, source: str):
    """The ``kernel`` defined by ``source``, run as module ``<name>`` from the file ``<name>.py``
    of ``folder()`` (written first where it is missing or differs)."""
    path = os.path.join(folder(), name + ".py")
    if not _holds(path, source):
        try:
            _write(path, source)
        except OSError as e:
            warnings.warn(f"chainrule: could not write a generated kernel to {path} ({e}); it is compiled in "
                          "memory and again in the next process", RuntimeWarning, stacklevel=3)
            path = f"<chainrule fused kernel {name}>"
    module = types.ModuleType(f"_chainrule_fused_{name}")
    module.__file__ = path
    # numba rebuilds a cached kernel's environment by importing its module by name
    sys.modules[module.__name__] = module
    exec(compile(source, path, "exec"), module.__dict__)  # noqa: S102 - our own generated code
    return module.kernel


def _holds(path: str, source: str) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read() == source
    except (OSError, UnicodeDecodeError):
        return False


def _write(path: str, source: str) -> None:
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(source)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
