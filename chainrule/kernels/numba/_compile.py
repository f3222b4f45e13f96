"""``jit``: numba's ``njit`` with chainrule's on-disk cache, so each kernel is compiled once per
machine (per dtype, CPU and numba version), not in every process.

numba's own ``cache=True`` writes next to the source (or where ``NUMBA_CACHE_DIR`` says, for every
numba user in the process). Here the cache of our functions alone goes to ``_jit.cache_dir()``,
without touching numba's global configuration, and it is made robust:

* an entry is fresh only while every source file of ``kernels/numba/`` is unchanged (numba checks
  only the file that defines the function; a loop calls helpers and the BLAS intrinsic of other
  files);
* an index or data file that cannot be read (truncated, corrupt, written by something else) is
  dropped and the kernel recompiled, never an error; a loaded entry whose signature is not the
  one asked for counts as corrupt;
* writers take a lock file, so processes compiling at once (test workers) cannot pair one
  process's index with another's data;
* a directory that cannot be written leaves the kernel compiled in memory, as before.

Kernels that call each other are module-level functions (referenced as globals): numba keys a
closure's cache entry by its pickled cell contents, and a pickled dispatcher carries a random id,
so a closure over another kernel would never hit the cache.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import os
import warnings
from types import ModuleType
from typing import TYPE_CHECKING

import numba
from numba.core import caching

from .._jit import cache_dir

fcntl: ModuleType | None
try:
    import fcntl as _fcntl

    fcntl = _fcntl
except ImportError:  # pragma: no cover - not POSIX: numba's atomic renames alone
    fcntl = None

_HERE = os.path.dirname(os.path.abspath(__file__))


@functools.cache
def _sources_stamp() -> str:
    """A hash of every source file of this package: the freshness of every entry."""
    h = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(_HERE, "*.py"))):
        with open(path, "rb") as f:
            h.update(os.path.basename(path).encode() + b"\0" + f.read())
    return h.hexdigest()


# numba's cache classes are internal: a numba that renamed them leaves the kernels compiled in
# every process (with a warning) instead of failing to import
_NUMBA_CACHE = tuple(getattr(caching, name, None) for name in (
    "_SourceFileBackedLocatorMixin", "_CacheLocator", "CompileResultCacheImpl", "FunctionCache"))
if None in _NUMBA_CACHE:  # pragma: no cover - depends on the numba release
    _NUMBA_CACHE = (type("_Missing0", (), {}), type("_Missing1", (), {}), object, object)

if TYPE_CHECKING:  # the classes the names above hold with the numba this was written for
    from numba.core.caching import CompileResultCacheImpl as _ImplBase
    from numba.core.caching import FunctionCache as _CacheBase
    from numba.core.caching import _CacheLocator as _LocatorBase
    from numba.core.caching import _SourceFileBackedLocatorMixin as _LocatorMixin
else:
    _LocatorMixin, _LocatorBase, _ImplBase, _CacheBase = _NUMBA_CACHE


class _Locator(_LocatorMixin, _LocatorBase):
    """Entries of ``py_file`` under ``cache_dir()``, in a folder named after the source folder
    (numba's scheme: two checkouts of chainrule never share entries)."""

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(cache_dir(), self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self):
        return self._cache_path

    def get_source_stamp(self):
        return _sources_stamp()


class _Impl(_ImplBase):
    _locator_classes = [_Locator]


class _Cache(_CacheBase):
    _impl_class = _Impl

    def load_overload(self, sig, target_context):
        try:
            cres = super().load_overload(sig, target_context)
        except Exception:  # noqa: BLE001 - anything unreadable means: compile again
            cres = None
            self._drop_index()
        if cres is not None and tuple(cres.signature.args) != tuple(sig):
            cres = None  # an entry of another signature under this key: corrupt
            self._drop_index()
        return cres

    def save_overload(self, sig, data):
        try:
            with self._locked():
                super().save_overload(sig, data)
        except Exception as e:  # noqa: BLE001 - a cache that cannot be written costs time, not results
            self._drop_index()
            warnings.warn(f"chainrule: could not cache a compiled kernel in {self.cache_path} ({e}); it "
                          "will be compiled again in the next process", RuntimeWarning, stacklevel=2)

    def _drop_index(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self._cache_file._index_path)

    @contextlib.contextmanager
    def _locked(self):
        if fcntl is None:
            yield
            return
        os.makedirs(self.cache_path, exist_ok=True)
        with open(os.path.join(self.cache_path, ".lock"), "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


@functools.cache
def _warn_once(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=4)


def jit(**options):
    """``numba.njit(**options)`` whose compiled code is kept in ``_jit.cache_dir()`` (see the
    module doc); ``fn.stats.cache_hits`` / ``cache_misses`` count loads and compilations."""

    def wrap(fn):
        dispatcher = numba.njit(**options)(fn)
        try:
            dispatcher._cache = _Cache(dispatcher.py_func)  # what numba's enable_caching() sets
        except Exception:  # noqa: BLE001 - no writable cache directory: compile in every process
            _warn_once(f"chainrule: compiled kernels will not be cached on disk: {cache_dir()} cannot be "
                       f"written (set CHAINRULE_CACHE_DIR to a writable directory), or numba {numba.__version__}"
                       " caches differently")
        return dispatcher

    return wrap
