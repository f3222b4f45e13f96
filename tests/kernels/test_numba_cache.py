"""The compiled kernels are compiled once per machine: a second process loads them from the
on-disk cache (``chainrule/kernels/numba/_compile.py``), in ``CHAINRULE_CACHE_DIR`` when set; a
corrupt cache is recompiled, never an error; results are the same bit for bit; and commands
that run no kernel never import numba."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from chainrule.kernels import _jit
from chainrule.kernels.numba import conv as conv_jit
from chainrule.kernels.numba import pointwise

pytestmark = pytest.mark.skipif(conv_jit._kernels(np.float64) is None or not _jit.ENABLED,
                                reason="numba, NumPy's OpenBLAS or CHAINRULE_JIT missing")

PROBE = os.path.join(os.path.dirname(__file__), "_cache_probe.py")


def _probe(cache: str, code: str | None = None) -> dict:
    env = dict(os.environ, CHAINRULE_CACHE_DIR=cache, CHAINRULE_JIT="1")
    env.pop("NUMBA_CACHE_DIR", None)
    args = [sys.executable, "-c", code] if code else [sys.executable, PROBE]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _entries(cache: str) -> list:
    return glob.glob(os.path.join(cache, "numba", "*", "*.nb[ic]"))


def test_a_second_process_loads_every_kernel_from_the_cache_and_a_corrupt_cache_is_recompiled(tmp_path):
    cache = str(tmp_path / "cache")
    cold = _probe(cache)
    assert cold["hits"] == [0, 0, 0] and all(m >= 1 for m in cold["misses"])
    entries = _entries(cache)
    # conv forward, its helpers, relu, and max pooling (one geometry) are all in the given directory
    names = {os.path.basename(p).split("-")[0] for p in entries}
    assert {"conv_loops.forward", "conv_loops.gather", "pointwise_loops.relu", "pool_loops.kernels.locals.maxima"} <= names, names

    warm = _probe(cache)
    assert warm["misses"] == [0, 0, 0] and all(h >= 1 for h in warm["hits"])
    assert warm["digests"] == cold["digests"]

    # truncated and garbage files, as a crash or a full disk could leave them
    for i, path in enumerate(sorted(entries)):
        with open(path, "r+b") as f:
            if i % 2:
                f.truncate(7)
            else:
                f.write(b"\x80\x04not a pickle at all")
    broken = _probe(cache)
    assert broken["hits"] == [0, 0, 0] and all(m >= 1 for m in broken["misses"])
    assert broken["digests"] == cold["digests"]
    assert _probe(cache)["misses"] == [0, 0, 0]  # and the recompiled entries were written back


def test_a_change_to_any_kernel_source_makes_every_entry_stale(tmp_path, monkeypatch):
    """Entries are fresh only while every source file of kernels/numba is unchanged (numba alone
    checks only the file that defines a function, not the helpers and intrinsics it calls)."""
    import shutil

    from chainrule.kernels.numba import _compile

    for path in glob.glob(os.path.join(_compile._HERE, "*.py")):
        shutil.copy(path, tmp_path)
    monkeypatch.setattr(_compile, "_HERE", str(tmp_path))
    _compile._sources_stamp.cache_clear()
    try:
        before = _compile._sources_stamp()
        with open(tmp_path / "blas.py", "a") as f:
            f.write("# changed\n")
        _compile._sources_stamp.cache_clear()
        assert _compile._sources_stamp() != before
    finally:
        _compile._sources_stamp.cache_clear()


def test_the_default_cache_directory_is_per_user_and_can_be_moved(monkeypatch, tmp_path):
    monkeypatch.delenv("CHAINRULE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _jit.cache_dir() == os.path.join(str(tmp_path / "xdg"), "chainrule", "numba")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _jit.cache_dir() == os.path.join(str(tmp_path / "home"), ".cache", "chainrule", "numba")
    monkeypatch.setenv("CHAINRULE_CACHE_DIR", str(tmp_path / "mine"))
    assert _jit.cache_dir() == os.path.join(str(tmp_path / "mine"), "numba")


def test_an_unwritable_cache_directory_costs_time_not_results(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    out = _probe(str(blocker), "import json, numpy as np\n"
                 "from chainrule.kernels.numba import pointwise\n"
                 "y = pointwise.relu(np, np.array([-1.0, 2.0]))\n"
                 "print(json.dumps({'y': y.tolist()}))")
    assert out["y"] == [0.0, 2.0]


def test_commands_that_run_no_kernel_do_not_import_numba(tmp_path):
    code = ("import json, sys\n"
            "import chainrule\n"
            "from chainrule.models import resnet\n"
            "from chainrule.tools import summary\n"
            "str(summary(resnet(), (1, 3, 32, 32)))\n"
            "print(json.dumps({'numba_imported': 'numba' in sys.modules}))")
    assert _probe(str(tmp_path / "cache"), code) == {"numba_imported": False}


def test_kernels_run_again_disabled_inside_the_block():
    x = np.array([-1.0, 2.0])
    assert pointwise.available(np, x)
    with _jit.disabled():
        assert not pointwise.available(np, x)
    assert pointwise.available(np, x)


def test_onnx_export_traces_without_importing_numba(tmp_path):
    pytest.importorskip("onnx")
    code = ("import json, sys\n"
            "import chainrule\n"
            "from chainrule.models import resnet\n"
            f"chainrule.onnx.export(resnet(), (chainrule.randn(1, 3, 32, 32),), {str(tmp_path / 'm.onnx')!r})\n"
            "print(json.dumps({'numba_imported': 'numba' in sys.modules}))")
    assert _probe(str(tmp_path / "cache"), code) == {"numba_imported": False}


def test_a_numba_without_the_cache_classes_we_build_on_still_runs_the_kernels(tmp_path):
    out = _probe(str(tmp_path / "cache"), "import json, numpy as np\n"
                 "import numba.core.caching as caching\n"
                 "del caching._CacheLocator  # as a numba release that renamed it\n"
                 "from chainrule.kernels.numba import pointwise\n"
                 "y = pointwise.relu(np, np.array([-1.0, 2.0]))\n"
                 "print(json.dumps({'y': y.tolist(), 'compiled': sum(pointwise._loops().relu.stats.cache_misses.values())"
                 "}))")
    assert out == {"y": [0.0, 2.0], "compiled": 1}
