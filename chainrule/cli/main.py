"""Entry point of ``python -m chainrule`` / ``chainrule``: one sub-command per job.

Each command module has an ``add_parser(subparsers)`` that registers its sub-command and sets
``func``, the function ``main`` calls with the parsed arguments.

Whatever goes wrong, the user sees one line on stderr, never a traceback:
``chainrule COMMAND: error: ...`` with exit status 2 for bad input (argparse's usage errors
included), 1 for a failure of the run, and ``chainrule COMMAND: interrupted`` with 130 on Ctrl-C.
An exception nobody expected is reported as an internal error (exit 1);
``CHAINRULE_DEBUG=1`` shows its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Iterator

from . import autograd_demo, demo, evaluate, export, inspect, train
from ._common import CLIError, RunFailure

COMMANDS = (demo, train, evaluate, inspect, autograd_demo, export)

# NumPy's floating-point RuntimeWarnings: a diverging run is reported as such, never as these
_NUMPY_WARNINGS = r".*(encountered in|overflow|divide by zero|Mean of empty slice|Degrees of freedom)"


def _version() -> str:
    from .. import __version__

    return f"chainrule {__version__}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chainrule", description="chainrule: deep learning on NumPy")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


@contextlib.contextmanager
def quiet_numpy() -> Iterator[None]:
    """No NumPy floating-point warnings on the console (errstate for this thread, a warnings
    filter for the worker threads of chainrule's pool, where errstate does not reach)."""
    import numpy as np

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.filterwarnings("ignore", message=_NUMPY_WARNINGS, category=RuntimeWarning)
        yield


def _error(command: str | None, message: str) -> None:
    message = " ".join(message.split())  # one line, whatever the exception's text holds
    print(f"chainrule{' ' + command if command else ''}: error: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    command = None
    try:
        parser = build_parser()
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
        command = args.command
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        with quiet_numpy():
            return args.func(args)
    except CLIError as e:
        _error(command, str(e))
        return 2
    except RunFailure as e:
        _error(command, str(e))
        return 1
    except KeyboardInterrupt as e:  # train says in which epoch and how to resume
        detail = f" {e}" if str(e) else ""
        print(f"chainrule{' ' + command if command else ''}: interrupted{detail}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 1
    except OSError as e:  # a file that cannot be read or written: the message names it
        _error(command, str(e))
        return 1
    except MemoryError:
        _error(command, "out of memory (try a smaller --batch-size or --train-limit)")
        return 1
    except Exception as e:
        if os.environ.get("CHAINRULE_DEBUG"):
            raise
        _error(command, f"internal error: {type(e).__name__}: {e} (please report it; CHAINRULE_DEBUG=1 shows "
                        "the traceback)")
        return 1
