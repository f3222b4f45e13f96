"""Workload 7: peak resident-set growth of small-ResNet training steps, one framework per process.

Each framework runs in a fresh child process (``python -m bench.memory``) so that neither sees
the other's allocator caches or imports. The child builds the model, optimiser and batch, records
its resident set (``VmRSS``), resets the kernel's high-water mark (writing 5 to
``/proc/self/clear_refs``), runs training steps and reads the high-water mark (``VmHWM``) back.
Three figures come out:

* first steps: peak - RSS after setup over the first ``STEPS`` steps: activations, gradients,
  temporaries, plus what the first steps allocate once (momentum buffers, ``.grad`` tensors,
  lazily initialised kernels and caches);
* steady step: the same for one more step, measured from the RSS just before it: what a step
  costs once everything long-lived exists (activations and temporaries);
* whole process: the peak over import, setup and the first steps, less the RSS of the bare
  interpreter the child starts as: what a user's training process costs, the framework's code
  included.

The first two count neither the interpreter, nor the libraries imported before setup, nor the
weights; so a library loaded lazily during the first steps counts there and one loaded at
import does not (PyTorch loads all of its code at ``import torch``, 193 MiB on the bench
machine; chainrule loads numba, for its compiled kernels, at the first step that uses one). The
whole-process row counts both alike. The children run with glibc's
mmap threshold pinned at 64 KiB (``MALLOC_MMAP_THRESHOLD_``), so every array of that size or more
goes back to the system when freed, and the resident set follows what is alive rather than what
the allocator keeps cached; both frameworks allocate their arrays through glibc, so both are
measured alike. Linux only (it reads ``/proc``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from . import THREAD_VARS

NAME = "memory_resnet_b64_first_steps"
STEADY_NAME = "memory_resnet_b64_steady_step"
PROCESS_NAME = "memory_resnet_b64_process"
FULL_BATCH, QUICK_BATCH = 64, 2
STEPS = 3
_MIB = 1024.0


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(framework: str, batch: int, steps: int, threads: int) -> dict:
    """Run in the child: peak RSS growth (MiB) of ``steps`` training steps of the small ResNet."""
    if not os.path.exists("/proc/self/status"):
        return {"status": "n/a", "missing": ["/proc (Linux) to read the resident set"]}
    start = _status_kib("VmRSS")  # the interpreter, before any framework or NumPy loads
    from .workloads import RESNET_NEEDS, Missing, resnet, train_step

    if framework == "torch":
        import torch as fw

        fw.set_num_threads(threads)
    else:
        import chainrule as fw
    try:
        step = train_step(fw, resnet, RESNET_NEEDS, (batch, 3, 32, 32))
    except Missing as m:
        return {"status": "n/a", "missing": m.names}
    gc.collect()
    setup_peak = _status_kib("VmHWM")  # import and setup
    reset = _reset_peak()
    base = _status_kib("VmRSS")  # read after the reset, so the peak can only be above it
    for _ in range(steps):
        step()
    peak = _status_kib("VmHWM")
    gc.collect()
    reset = _reset_peak() and reset
    before = _status_kib("VmRSS")
    step()
    steady_peak = _status_kib("VmHWM")
    # without a reset the high-water mark may predate the steps: then only an upper bound
    return {"status": "ok", "baseline_mib": base / _MIB, "peak_mib": peak / _MIB,
            "growth_mib": (peak - base) / _MIB, "steady_growth_mib": (steady_peak - before) / _MIB,
            "start_mib": start / _MIB, "process_growth_mib": (max(setup_peak, peak) - start) / _MIB,
            "peak_reset": reset, "steps": steps}


def run_children(frameworks: tuple[str, ...], batch: int, threads: int, steps: int = STEPS,
                 timeout: float = 600) -> dict[str, dict]:
    """Run ``measure`` for each framework in its own fresh interpreter, all at once.

    Resident sets are per process, so running the children side by side does not change what
    they measure; the thread count is pinned in their environment before NumPy loads.
    """
    env = dict(os.environ, **dict.fromkeys(THREAD_VARS, str(threads)))
    # glibc serves blocks of 64 KiB and more with mmap and unmaps them on free; by default it
    # raises that threshold as large blocks are freed and then keeps freed arrays in its heap,
    # so after the first step the resident set stops following what is alive
    env["MALLOC_MMAP_THRESHOLD_"] = str(64 * 1024)
    root = Path(__file__).resolve().parent.parent
    procs = {}
    for fw in frameworks:
        cmd = [sys.executable, "-m", "bench.memory", "--framework", fw, "--batch", str(batch),
               "--steps", str(steps), "--threads", str(threads)]
        procs[fw] = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
    results = {}
    for fw, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            results[fw] = {"status": "error", "error": f"timed out after {timeout:.0f} s"}
            continue
        lines = out.strip().splitlines()
        if proc.returncode != 0 or not lines:
            tail = (err or out).strip().splitlines()[-3:]
            results[fw] = {"status": "error", "error": " | ".join(tail) or f"exit status {proc.returncode}"}
        else:
            results[fw] = json.loads(lines[-1])
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="peak RSS growth of small-ResNet training steps")
    parser.add_argument("--framework", choices=("ours", "torch"), required=True)
    parser.add_argument("--batch", type=int, default=FULL_BATCH)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        result = measure(args.framework, args.batch, args.steps, args.threads)
    except Exception as exc:  # reported as a row of the table, not a traceback
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
