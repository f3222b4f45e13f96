"""``chainrule summary`` and ``chainrule graph``: look inside a model of the zoo.

    python -m chainrule summary --model lenet5 [--input-size 1,1,28,28]
    python -m chainrule graph --model lenet5 --out lenet5.svg [--format svg|png] [--show-saved]

``summary`` prints ``chainrule.tools.summary``'s table. ``graph`` runs one forward pass and the
loss (cross-entropy against class 0 for a classifier's (N, classes) output, else the sum of the
output) and draws the recorded autograd graph, parameters labelled with their names, with
Graphviz's ``dot``; without Graphviz it writes the DOT source and says how to install it.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from ._common import CLIError, RunFailure


def _input_size(text: str) -> tuple[int, ...]:
    parts = [part.strip() for part in text.replace("x", ",").split(",") if part.strip()]
    if not parts or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive ints such as 1,1,28,28, got {text!r}")
    return tuple(int(part) for part in parts)


def _model_and_size(name: str, input_size: tuple[int, ...] | None):
    """The zoo model ``name`` built for ``input_size`` (N, C, H, W), or for its builder's default
    input (``in_channels`` x ``input_size`` x ``input_size``, batch of 1) when none is given."""
    import inspect as pyinspect

    from .. import models

    try:
        builder = models.get_model_builder(name)
    except ValueError as err:
        raise CLIError(str(err)) from None
    if input_size is None:
        defaults = {k: p.default for k, p in pyinspect.signature(builder).parameters.items()}
        side = defaults.get("input_size") or 32  # a model that takes any size (allconv) gets 32x32
        input_size = (1, int(defaults.get("in_channels", 1)), side, side)
    if len(input_size) != 4 or input_size[2] != input_size[3]:
        raise CLIError(f"the zoo's models take square images, --input-size N,C,S,S; got "
                       f"{','.join(map(str, input_size))}")
    try:
        model = models.get_model(name, in_channels=input_size[1], input_size=input_size[2])
    except ValueError as err:
        raise CLIError(f"{name} cannot take {'x'.join(map(str, input_size))} inputs: {err}") from None
    return model, input_size


def _summary(args: argparse.Namespace) -> int:
    from ..tools import summary

    model, size = _model_and_size(args.model, args.input_size)
    try:
        table = summary(model, size)
    except (ValueError, RuntimeError) as err:
        raise CLIError(f"{args.model} cannot take {'x'.join(map(str, size))} inputs: {err}") from None
    print(table)
    return 0


def _graph(args: argparse.Namespace) -> int:
    from .. import zeros
    from ..autograd.graph import render, to_dot
    from ..backend import int64
    from ..nn import functional as F
    from ..tools._trace import make_input

    model, size = _model_and_size(args.model, args.input_size)
    x = make_input(size, "float32")
    try:
        out = model(x)
    except (ValueError, RuntimeError) as err:
        raise CLIError(f"{args.model} cannot take {'x'.join(map(str, size))} inputs: {err}") from None
    if out.ndim == 2:
        loss = F.cross_entropy(out, zeros(out.shape[0], dtype=int64))
    else:
        loss = out.sum()
    loss.name = "loss"
    params = dict(model.named_parameters())
    source = to_dot(loss, params=params, show_saved=args.show_saved)
    if not os.path.basename(args.out.strip()):
        raise CLIError(f"--out {args.out!r} does not name a file (e.g. graph.svg)")
    fmt = args.format or (os.path.splitext(args.out)[1].lstrip(".").lower() or "svg")
    if fmt not in ("svg", "png"):
        raise CLIError(f"--format must be svg or png (or give --out a .svg/.png name), got {fmt!r}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            path = render(source, args.out, format=fmt)
        except OSError as err:
            raise RunFailure(f"cannot write {args.out}: {err.strerror or err}") from None
        except RuntimeError as err:  # Graphviz's dot failed; its message says why
            raise RunFailure(str(err)) from None
    for w in caught:
        print(f"note: {w.message}", file=sys.stderr)
    nodes = source.count("shape=box")
    print(f"wrote {path} ({nodes} operator nodes, {len(params)} named parameters, loss {loss.item():.4f})")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``summary`` and ``graph`` sub-commands on ``main``'s sub-parsers."""
    p = sub.add_parser("summary", help="print a layer-by-layer table of a model (shapes, params, MACs, "
                                       "receptive fields)",
                       description="Build a model of the zoo (chainrule.models) for one input shape, run one "
                                   "forward pass and print a table with one row per layer: output shape, "
                                   "parameters, multiply-accumulates and receptive field, with the totals.")
    p.add_argument("--model", required=True, help="a name from chainrule.models.list_models()")
    p.add_argument("--input-size", type=_input_size, default=None,
                   help="input shape including the batch dimension, e.g. 1,1,28,28 (default: the "
                        "model's own input shape with a batch of 1)")
    p.set_defaults(func=_summary)

    g = sub.add_parser("graph", help="draw the autograd graph of one forward pass and loss of a model",
                       description="Run one forward pass of a model of the zoo and its loss (cross-entropy "
                                   "against class 0 for a classifier) and draw the recorded autograd graph, "
                                   "parameters labelled with their names, with Graphviz's dot (svg or png); "
                                   "without Graphviz, write the DOT source and say how to install it.")
    g.add_argument("--model", required=True, help="a name from chainrule.models.list_models()")
    g.add_argument("--out", required=True, help="file to write (e.g. graph.svg)")
    g.add_argument("--format", choices=("svg", "png"), default=None,
                   help="output format (default: from --out's extension, else svg)")
    g.add_argument("--show-saved", action="store_true", help="also show the tensors each node saves for backward")
    g.add_argument("--input-size", type=_input_size, default=None,
                   help="input shape including the batch dimension (default: the model's, batch of 1)")
    g.set_defaults(func=_graph)
