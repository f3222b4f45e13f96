"""``chainrule evaluate``: the loss, accuracy and confusion matrix of a saved checkpoint on a dataset."""

from __future__ import annotations

import argparse
import zlib

from ._common import CLIError, RunFailure, check_device, positive_int
from .checkpoint import load_checkpoint, restore
from .datasets import DATASETS, get_dataset_spec, load_splits, make_loader
from .metrics import confusion_matrix, format_confusion_matrix
from .trainer import build_model, evaluate


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "evaluate", help="evaluate a checkpoint on a dataset's test split",
        description="Load a checkpoint written by 'chainrule train' and report loss, accuracy and the confusion "
                    "matrix on a dataset.")
    p.add_argument("--checkpoint", required=True, metavar="CKPT",
                   help="checkpoint.safetensors or best.safetensors of a run (or the run's directory)")
    p.add_argument("--data", choices=list(DATASETS), default=None,
                   help="dataset to evaluate on (default: the one the model was trained on)")
    p.add_argument("--split", choices=("test", "val", "train"), default="test",
                   help="which split (default: test); val and train are those of the training run (same seed and "
                        "fractions)")
    p.add_argument("--data-root", default="data", metavar="DIR", help="where the dataset files are")
    p.add_argument("--test-limit", type=positive_int, default=None, metavar="N", help="only the first N test images")
    p.add_argument("--batch-size", type=positive_int, default=500, help="images per forward pass (default: 500)")
    p.add_argument("--device", default="cpu", help="only cpu (the default) is supported")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    check_device(args.device)
    state = load_checkpoint(args.checkpoint)
    config = state["config"]
    trained_on = get_dataset_spec(config["data"])
    spec = get_dataset_spec(args.data or config["data"])
    shape = (trained_on.in_channels, trained_on.input_size, trained_on.input_size, trained_on.num_classes)
    if (spec.in_channels, spec.input_size, spec.input_size, spec.num_classes) != shape:
        raise CLIError(f"the checkpoint's {config['model']} was trained on {trained_on.name} ({shape[0]}x{shape[1]}x"
                       f"{shape[2]} images, {shape[3]} classes); {spec.name} has {spec.in_channels}x{spec.input_size}"
                       f"x{spec.input_size} images and {spec.num_classes} classes")
    try:
        model = build_model(config["model"], spec)
    except ValueError as e:
        raise CLIError(f"cannot build the checkpoint's {config['model']} for {spec.name}: {e}") from None
    restore(state, model=model)
    same_run = spec.name == trained_on.name
    try:
        splits = load_splits(spec, args.data_root, seed=config["seed"], val_fraction=config["val_fraction"],
                             train_limit=config["train_limit"] if same_run else None,
                             test_limit=args.test_limit, need_train=args.split != "test")
    except (CLIError, FileNotFoundError):
        raise
    except (ValueError, OSError, EOFError, RuntimeError, zlib.error) as e:
        raise RunFailure(f"cannot read the {spec.name} dataset under '{args.data_root}': {e}") from None
    dataset = {"test": splits.test, "val": splits.val, "train": splits.train}[args.split]
    if dataset is None or len(dataset) == 0:
        raise CLIError(f"the {args.split} split of this run is empty" + (" (--val-fraction 0)" if args.split == "val"
                                                                          else ""))
    result = evaluate(model, make_loader(dataset, args.batch_size))
    cm = confusion_matrix(result.targets, result.predictions, spec.num_classes)
    print(f"{config['model']} after epoch {state['epoch']} on the {spec.name} {args.split} split ({len(dataset):,} "
          f"images): loss {result.loss:.4f}, accuracy {100 * result.accuracy:.2f}% ({int(cm.trace())}/{cm.sum()})")
    print(format_confusion_matrix(cm, spec.classes))
    return 0
