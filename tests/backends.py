"""Execution paths for the tables: run a test on one backend of ``chainrule.kernels``.

The operator table (tests/ops/test_ops.py) and the module table (tests/nn/test_module_table.py) take a
``backend`` parameter, as Chainer's backend-injected tests do: ``numpy`` runs every kernel on the
reference backend (``kernels.only("numpy")``, what ``CHAINRULE_JIT=0`` gives) and ``numba`` lets
the compiled loops take what they take, the reference backend running what they decline (CuPy
joins here later). A ``numba`` case is skipped, with the reason, where numba is not installed or
``CHAINRULE_JIT`` is off, and carries the ``numba`` marker (``make test-fast`` deselects it).

Cost: the tables hold thousands of cases and most operators never reach a compiled kernel, where
the ``numba`` run would repeat the ``numpy`` one exactly. So the ``numba`` cases are generated only
for the rows whose forward calls a kernel that the ``numba`` backend has: found by running each row
once on the reference backend while recording ``kernels.call`` (``compiled_kernels_used``), and
looking the kernels up in ``kernels.BACKENDS["numba"]``: the registry, not a hand list, so a new
compiled kernel brings its rows in by itself.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator

import pytest

from chainrule import kernels
from chainrule.kernels import _jit

NAMES = ("numpy", "numba")
numba_mark = pytest.mark.numba


def skip_reason(backend: str) -> str | None:
    """Why ``backend`` cannot run in this process, or None."""
    if backend == "numba":
        if _jit.numba_module() is None:
            return "numba is not installed"
        if not _jit.ENABLED:
            return "the compiled kernels are off (CHAINRULE_JIT)"
    return None


@contextlib.contextmanager
def running(backend: str) -> Iterator[None]:
    """Runs the block on ``backend`` (skips the test where that backend cannot run)."""
    reason = skip_reason(backend)
    if reason:
        pytest.skip(reason)
    with kernels.only(*((backend, "numpy") if backend != "numpy" else ("numpy",))):
        yield


def compiled_kernels_used(fn: Callable[[], object], backend: str = "numba") -> set[tuple[str, str]]:
    """The ``(family, name)`` kernels that ``fn()`` calls (on the reference backend) and that
    ``backend`` has. Rows that fail here are not ours to judge: they count as using none."""
    seen: list[tuple[str, str]] = []
    original = kernels.call

    def recording(family, name, *args, **options):
        seen.append((family, name))
        return original(family, name, *args, **options)

    kernels.call = recording
    try:
        with kernels.only("numpy"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception:  # noqa: BLE001 (the table's own test reports the error)
        pass
    finally:
        kernels.call = original
    have = kernels.BACKENDS[backend]
    return {(f, n) for f, n in seen if getattr(getattr(have, f, None), n, None) is not None}


def params(rows: list, ids: list[str], compiled: Callable[[object], bool]) -> list:
    """pytest params ``(*row, backend)`` (a row that is not a tuple counts as a 1-tuple): every
    row on ``numpy``; on ``numba`` the rows for which ``compiled(row)`` holds (see
    ``compiled_kernels_used``). Ids end in ``-numpy``/``-numba``; ``-k numba`` selects the latter."""
    def values(r) -> tuple:
        return r if isinstance(r, tuple) else (r,)

    out = [pytest.param(*values(r), "numpy", id=f"{i}-numpy") for r, i in zip(rows, ids)]
    out += [pytest.param(*values(r), "numba", id=f"{i}-numba", marks=numba_mark)
            for r, i in zip(rows, ids) if compiled(r)]
    return out
