"""Entry point of ``python -m chainrule`` / ``chainrule``: one sub-command per job.

Each command module has an ``add_parser(subparsers)`` that registers its sub-command and sets
``func``, the function ``main`` calls with the parsed arguments.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import autograd_demo, demo, evaluate, inspect, train
from ._common import CLIError

COMMANDS = (demo, train, evaluate, inspect, autograd_demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chainrule", description="chainrule: deep learning on NumPy")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except CLIError as e:
        print(f"chainrule {args.command}: error: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:  # a dataset's files are missing: the message says where to put them
        print(f"chainrule {args.command}: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and the like, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 1
