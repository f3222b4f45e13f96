"""``python -m bench.ab REV``: this checkout's chainrule against the one of commit ``REV``, in one process.

Two runs of ``python -m bench`` a minute apart can differ by 10% on a shared VM with 2 vCPUs (the
other tenants, the host's frequency), more than the change one wants to see. Here both versions
run in the same process, side by side with PyTorch: the package as it was at ``REV`` is taken
out of git (``git archive``) into a temporary folder under another name (``chainrule_<commit>``),
each workload is built for the two versions and for PyTorch, and ``harness.time_sides`` times
the two versions as a pair (ABBA: the order reversed every other round, with the harness's pause
and settling calls at every switch), then this checkout against PyTorch as a second pair, as
``python -m bench`` does. A slow phase of the machine then falls on both versions alike, and no
third side sits between them. The printed figures are the median and minimum time of each
version, the ratio after/before of both, and each version's ratio to PyTorch (the older one's
through the pair's medians: before / after x after / PyTorch).

The older package must import by relative imports (chainrule's own do; a few modules the bench
does not use, such as ``distributions``, import ``chainrule`` by name and would load this
checkout's). Only the eager workloads run (an old commit has no ``chainrule.compile``), and the
memory workload does not (it runs in child processes). Thread counts and glibc's allocator are
pinned as in ``python -m bench``. Example::

    python -m bench.ab b3cc324 --repeats 30 --only lenet_train_b64 --only mlp
"""

from __future__ import annotations

import argparse
import os
import sys

from .__main__ import _early_threads, _pin_env, _pin_malloc


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n\n")[0])
    p.add_argument("rev", help="the commit (any git revision) whose chainrule/ is 'before'")
    p.add_argument("--only", action="append", help="run only workloads whose name starts with NAME (repeatable)")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (default 20, quick 2)")
    p.add_argument("--warmup", type=int, default=None, help="untimed calls per side first (default 2, quick 1)")
    p.add_argument("--pause", type=float, default=None, help="seconds slept at each switch (default 0.1, quick 0)")
    p.add_argument("--threads", type=int, default=None, help="threads for every side (default: all cores)")
    p.add_argument("--quick", action="store_true", help="tiny sizes and few rounds (the smoke test)")
    p.add_argument("--keep-malloc", action="store_true", help="do not pin glibc's malloc thresholds")
    args = p.parse_args(argv)
    for name in ("repeats", "warmup"):
        v = getattr(args, name)
        if v is not None and v < 1:
            p.error(f"--{name} must be at least 1, got {v}")
    if args.pause is not None and args.pause < 0:
        p.error(f"--pause must be non-negative, got {args.pause}")
    return args


def extract(rev: str, into: str) -> str:
    """``chainrule/`` as of ``rev`` unpacked under ``into`` as ``chainrule_<commit>``; its name.
    Raises ``SystemExit`` with git's reason when ``rev`` is not a commit of this repository."""
    import io
    import subprocess
    import tarfile

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = subprocess.run(["git", "-C", root, "rev-parse", "--verify", "--short", f"{rev}^{{commit}}"],
                           capture_output=True, text=True)
    if found.returncode != 0:
        raise SystemExit(f"bench.ab: {rev!r} is not a commit of this repository ({found.stderr.strip()})")
    commit = found.stdout.strip()
    tar = subprocess.run(["git", "-C", root, "archive", "--format=tar", commit, "chainrule"],
                         capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as f:
        f.extractall(into, filter="data")
    name = f"chainrule_{commit}"
    os.rename(os.path.join(into, "chainrule"), os.path.join(into, name))
    return name


def run(args: argparse.Namespace, threads: int) -> list[dict]:
    import importlib
    import statistics
    import tempfile

    from .harness import SWITCH_PAUSE, ThreadPin, select, time_sides

    quick = args.quick
    repeats = args.repeats or (2 if quick else 20)
    warmup = args.warmup or (1 if quick else 2)
    pause = args.pause if args.pause is not None else (0.0 if quick else SWITCH_PAUSE)
    specs = [s for s in select(args.only)[0] if not s.compiled]
    rows = []
    with tempfile.TemporaryDirectory(prefix="chainrule-ab-") as tmp:
        name = extract(args.rev, tmp)
        sys.path.insert(0, tmp)
        try:
            before = importlib.import_module(name)
        finally:
            sys.path.remove(tmp)
        pin = ThreadPin(threads)
        try:
            print(f"before: chainrule at {name.split('_', 1)[1]}; after: this checkout; {threads} threads, "
                  f"{repeats} rounds", flush=True)
            for spec in specs:
                case = spec.build(quick)
                if case.ours is None or case.build is None:
                    print(f"{spec.name}: skipped (this checkout lacks {', '.join(case.missing)})", flush=True)
                    continue
                old = case.build(before)
                t_before, t_after = time_sides([old, case.ours], repeats, warmup, 1, pause)
                t_ours, t_torch = time_sides([case.ours, case.torch], repeats, warmup, 1, pause)
                med = [statistics.median(t) for t in (t_before, t_after, t_ours, t_torch)]
                low = [min(t) for t in (t_before, t_after)]
                row = {"name": spec.name, "before": med[0], "after": med[1], "before_min": low[0],
                       "after_min": low[1], "change": med[1] / med[0], "change_min": low[1] / low[0],
                       "after_torch": med[2] / med[3], "before_torch": med[0] / med[1] * med[2] / med[3]}
                rows.append(row)
                print(format_row(row), flush=True)
        finally:
            pin.restore()
    return rows


def format_row(row: dict) -> str:
    ms = 1e3
    return (f"{row['name']:20} before {row['before'] * ms:9.3f} ms (min {row['before_min'] * ms:8.3f})  "
            f"after {row['after'] * ms:9.3f} ms (min {row['after_min'] * ms:8.3f})  "
            f"after/before {row['change']:.3f} (min {row['change_min']:.3f})  "
            f"/PyTorch {row['before_torch']:.2f}x -> {row['after_torch']:.2f}x")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    run(args, _early_threads(argv))
    return 0


if __name__ == "__main__":
    _pin_malloc(sys.argv[1:], "bench.ab")
    _pin_env(_early_threads(sys.argv[1:]))
    sys.exit(main(sys.argv[1:]))
