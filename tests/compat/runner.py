"""Run textbook-style PyTorch programs with ``torch`` bound to PyTorch or to chainrule.

``python -m tests.compat.runner FRAMEWORK OUT.json PROGRAM.py ...`` runs each program in this one
process (``runpy``), its standard output captured, and writes ``{program: output}`` as JSON. With
``FRAMEWORK`` ``chainrule`` every module of chainrule is entered in ``sys.modules`` under the
matching ``torch`` name first (``torch.nn.functional`` is ``chainrule.nn.functional``), so the
programs' ``import torch`` lines are the ones a user would write. An exception ends that program
only: its output gets one last line ``EXCEPTION: Type: message``. Global settings a program may
change (default dtype, print options, default device, determinism flag) are reset between programs.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import pkgutil
import runpy
import sys
import warnings


def bind_torch_to_chainrule() -> None:
    """``sys.modules['torch...']`` = the chainrule module of the same dotted path."""
    import chainrule

    sys.modules["torch"] = chainrule
    for info in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if ".cli" in info.name or info.name.endswith("__main__"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra that is not installed
            continue
        sys.modules["torch" + info.name[len("chainrule"):]] = module


def reset(torch) -> None:
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float32)
    torch.set_printoptions(profile="default")
    torch.set_default_device("cpu")
    torch.use_deterministic_algorithms(False)


def run(framework: str, programs: list[str]) -> dict:
    if framework == "chainrule":
        bind_torch_to_chainrule()
    import torch

    torch.set_num_threads(1)
    outputs = {}
    for path in programs:
        reset(torch)
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                runpy.run_path(path, run_name="__main__")
            except BaseException as e:  # noqa: BLE001 - reported in the output, compared by the test
                print(f"EXCEPTION: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        outputs[os.path.basename(path)] = buffer.getvalue()
    return outputs


def main(argv: list[str]) -> int:
    framework, out, *programs = argv
    result = run(framework, programs)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
