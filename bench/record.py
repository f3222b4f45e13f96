"""The benchmark record: one run of ``python -m bench --record`` kept as JSON under bench/results/.

A record is the harness's JSON (``{"meta": ..., "results": [...]}``) whose ``meta`` also says
where it came from: the commit and whether the tree had uncommitted changes, the date, the
machine (CPU model, cores), the load average before and after the run, and the BLAS library.
Its name is ``<YYYY-MM-DD>-<short commit>.json`` (UTC date); a ``--quick`` run is named
``...-quick.json``, which git ignores and ``bench.report`` refuses, since its tiny sizes are no
benchmark. ``bench.report`` renders the newest full record into bench/README.md.

This module imports neither NumPy nor PyTorch: the report and its test read records without them.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
QUICK_SUFFIX = "-quick.json"
FORMAT = 1  # bumped when a field the report reads changes meaning


def _git(*args: str) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def cpu_model() -> str:
    """The CPU's model name as the kernel reports it (``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def load_average() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages (None where the system has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def blas_info() -> list[dict]:
    """The BLAS/OpenMP libraries loaded in this process (threadpoolctl; empty without it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "architecture", "num_threads")
    return [{k: d.get(k) for k in keys} for d in threadpool_info()]


def package_version(name: str) -> str | None:
    """The installed version of a distribution, without importing it (None when absent)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def provenance() -> dict:
    """What a record needs besides the measurements: commit, tree state, date and machine.

    ``dirty`` is True when tracked files differ from the commit (untracked files do not count);
    it is None, like ``commit``, when git cannot be asked.
    """
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"date_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "commit": commit, "dirty": None if status is None else bool(status),
            "cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
            "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "platform": platform.platform(), "load_before": load_average()}


def record_path(meta: dict, directory: Path = RESULTS_DIR) -> Path:
    """``<directory>/<YYYY-MM-DD>-<short commit>.json`` (``-quick.json`` for a quick run)."""
    date = meta["date_utc"][:10]
    short = (meta.get("commit") or "nogit")[:7]
    return directory / (f"{date}-{short}" + (QUICK_SUFFIX if meta.get("quick") else ".json"))


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file in the same folder, then os.replace,
    so a reader (or a failed run) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777  # keep the permissions of the file replaced
    except FileNotFoundError:
        mode = 0o644  # mkstemp's 0o600 would hide a new record from the other users of the tree
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: dict) -> None:
    """Write a record atomically (see write_text)."""
    write_text(path, json.dumps(data, indent=1) + "\n")


def load(path: Path) -> dict:
    """A record read back; raises ValueError when it is not one (no meta or no results)."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or "meta" not in data or "results" not in data:
        raise ValueError(f"{path}: not a benchmark record (needs 'meta' and 'results')")
    return data


def newest(directory: Path = RESULTS_DIR) -> Path | None:
    """The full-run record with the latest ``meta.date_utc`` in ``directory`` (quick runs skipped)."""
    best: tuple[str, str] | None = None
    found = None
    for path in sorted(directory.glob("*.json")):
        if path.name.endswith(QUICK_SUFFIX):
            continue
        meta = load(path)["meta"]
        if meta.get("quick"):
            continue
        key = (meta.get("date_utc") or meta.get("date") or "", path.name)
        if best is None or key > best:
            best, found = key, path
    return found


def format_value(value: float | None, unit: str) -> str:
    """A median as the tables print it: seconds scaled to us/ms/s, MiB with one decimal."""
    if value is None:
        return "-"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    if value < 1e-3:
        return f"{value * 1e6:.1f} us"
    if value < 1.0:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.3f} s"
