"""``chainrule export``: a checkpoint's model as an ONNX file (``pip install 'chainrule[onnx]'``)."""

from __future__ import annotations

import argparse

from ._common import CLIError, write_error
from .checkpoint import load_checkpoint, restore
from .datasets import get_dataset_spec
from .trainer import build_model


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export", help="export a checkpoint's model to ONNX",
        description="Write the model of a checkpoint written by 'chainrule train' as an ONNX file with a dynamic "
                    "batch axis (input 'input' of shape (batch, C, H, W), output 'output' of shape (batch, classes)).")
    p.add_argument("--checkpoint", required=True, metavar="CKPT",
                   help="checkpoint.safetensors or best.safetensors of a run (or the run's directory)")
    p.add_argument("--onnx", required=True, metavar="FILE", help="the ONNX file to write, e.g. model.onnx")
    p.add_argument("--opset", type=int, default=None, metavar="N", help="ONNX opset version (default: 18)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    try:
        from ..onnx import UnsupportedOperatorError, export
    except ImportError as e:
        raise CLIError(f"{e}") from None
    from .. import randn

    state = load_checkpoint(args.checkpoint)
    config = state["config"]
    spec = get_dataset_spec(config["data"])
    try:
        model = build_model(config["model"], spec)
    except ValueError as e:
        raise CLIError(f"cannot build the checkpoint's {config['model']} for {spec.name}: {e}") from None
    restore(state, model=model)
    model.eval()
    x = randn(1, spec.in_channels, spec.input_size, spec.input_size)
    try:
        proto = export(model, (x,), None, input_names=["input"], output_names=["output"],
                       dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=args.opset)
    except (ValueError, UnsupportedOperatorError) as e:
        raise CLIError(str(e)) from None
    from .._io import atomic_write

    try:
        atomic_write(args.onnx, proto.SerializeToString())
    except OSError as e:
        raise write_error(e, args.onnx) from None
    print(f"wrote {args.onnx}: {config['model']} after epoch {state['epoch']}, opset {proto.opset_import[0].version}, "
          f"{len(proto.graph.node)} nodes, input (batch, {spec.in_channels}, {spec.input_size}, {spec.input_size})")
    return 0


__all__ = ["add_parser", "run"]
