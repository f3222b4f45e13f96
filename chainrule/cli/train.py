"""``chainrule train``: train a model on a dataset, with checkpoints, metrics, plots and a test report.

Everything a run writes goes to ``--out``: ``checkpoint.safetensors`` (after every epoch),
``best.safetensors`` (the epoch with the best validation accuracy), ``metrics.csv``,
``confusion_matrix.csv`` and the PNG plots. ``--resume`` continues a run from its checkpoint
exactly as if it had never stopped.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from .. import backend
from ..backend import Generator
from ..models import list_models
from ._common import CLIError, blas_threads, check_device
from .checkpoint import BEST, LAST, load_checkpoint, restore, save_checkpoint, training_state
from .datasets import DATASETS, get_dataset_spec, load_splits, make_loader
from .metrics import confusion_matrix, format_confusion_matrix, write_confusion_csv, write_metrics_csv
from .trainer import (
    DEFAULT_LR,
    OPTIMIZERS,
    SCHEDULERS,
    NonFiniteLossError,
    build_model,
    build_optimizer,
    build_scheduler,
    evaluate,
    train_epoch,
)

# The settings that define a run: stored in the checkpoint, taken from it on --resume.
# None means "not given on the command line"; DEFAULTS fills those in for a new run.
RUN_KEYS = ("model", "data", "epochs", "batch_size", "optimizer", "lr", "weight_decay", "momentum", "scheduler",
            "step_size", "gamma", "seed", "val_fraction", "train_limit", "test_limit", "augment")
DEFAULTS: dict[str, Any] = {
    "epochs": 20, "batch_size": 32, "optimizer": "adam", "lr": None, "weight_decay": None, "momentum": 0.9,
    "scheduler": "cosine", "step_size": 10, "gamma": 0.1, "seed": 0, "val_fraction": 0.1, "train_limit": None,
    "test_limit": None, "augment": True,
}
EVAL_BATCH = 500


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return value


def add_train_arguments(p: argparse.ArgumentParser, *, model: str | None = None, data: str | None = None,
                        out: str | None = None, threads: int | None = None) -> None:
    """The options of ``train`` (``demo`` shares them with other defaults for model, data and out)."""
    g = p.add_argument_group("what to train")
    g.add_argument("--model", choices=list_models(), default=model,
                   help="the network (chainrule.models)" + (f"; default: {model}" if model else ""))
    g.add_argument("--data", choices=list(DATASETS), default=data,
                   help="the dataset: " + "; ".join(f"{s.name}: {s.description}" for s in DATASETS.values())
                   + (f" (default: {data})" if data else ""))
    g.add_argument("--data-root", default="data", metavar="DIR",
                   help="where the dataset files are (mnist, fashion-mnist, cifar10); default: ./data")
    g = p.add_argument_group("how to train (defaults in brackets; on --resume taken from the checkpoint)")
    g.add_argument("--epochs", type=_positive_int, help=f"total number of epochs [{DEFAULTS['epochs']}]")
    g.add_argument("--batch-size", type=_positive_int, help=f"images per step [{DEFAULTS['batch_size']}]")
    g.add_argument("--optimizer", choices=OPTIMIZERS, help=f"[{DEFAULTS['optimizer']}]")
    g.add_argument("--lr", type=float, help="learning rate [" + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items())
                   + "]")
    g.add_argument("--weight-decay", type=float, help="L2 penalty (decoupled for adamw) [adamw 0.01, others 0]")
    g.add_argument("--momentum", type=float, help=f"for sgd and rmsprop [{DEFAULTS['momentum']}]")
    g.add_argument("--scheduler", choices=SCHEDULERS,
                   help=f"learning-rate schedule: cosine annealing over the epochs, step decay (--step-size, "
                        f"--gamma), one-cycle per batch, or none [{DEFAULTS['scheduler']}]")
    g.add_argument("--step-size", type=_positive_int, help=f"epochs between decays of --scheduler step "
                                                           f"[{DEFAULTS['step_size']}]")
    g.add_argument("--gamma", type=float, help=f"decay factor of --scheduler step [{DEFAULTS['gamma']}]")
    g.add_argument("--seed", type=int, help=f"seeds initialisation, validation split, shuffling, dropout "
                                            f"[{DEFAULTS['seed']}]")
    g.add_argument("--val-fraction", type=_fraction,
                   help=f"part of the training set held out for validation [{DEFAULTS['val_fraction']}]")
    g.add_argument("--train-limit", type=_positive_int, metavar="N",
                   help="use only N training images (a seeded random subset, before the validation split)")
    g.add_argument("--test-limit", type=_positive_int, metavar="N", help="evaluate on the first N test images only")
    g.add_argument("--no-augment", dest="augment", action="store_const", const=False, default=None,
                   help="switch off the dataset's training augmentation (cifar10: random crops and flips)")
    g = p.add_argument_group("where and how to run")
    g.add_argument("--out", default=out, metavar="DIR",
                   help="output directory [" + (out or "runs/MODEL-DATA; on --resume the checkpoint's directory")
                   + "]")
    g.add_argument("--resume", metavar="CKPT", help="continue the run saved in CKPT (a checkpoint file or its "
                                                    "directory); --epochs may extend it")
    g.add_argument("--device", default="cpu", help="only cpu is supported")
    g.add_argument("--threads", type=_positive_int, default=threads, metavar="N",
                   help="threads of the BLAS matrix products [" + (str(threads) if threads else "NumPy's default")
                        + "]; small models gain nothing from more than one")
    g.add_argument("--no-progress", dest="progress", action="store_const", const=False, default=None,
                   help="no progress bars (they are shown only on a terminal anyway)")
    g.add_argument("--no-plots", dest="plots", action="store_false", help="skip the PNG plots")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train", help="train a model on a dataset",
        description="Train a model, print one line per epoch, save checkpoints, metrics.csv, a test report "
                    "and plots to --out.")
    add_train_arguments(p)
    p.set_defaults(func=run)
    return p


def resolve_config(args: argparse.Namespace, state: dict | None) -> tuple[dict, list[str]]:
    """The run's settings and notes for the user: from the command line for a new run, from the
    checkpoint on ``--resume`` (where only ``--epochs`` may change)."""
    notes: list[str] = []
    given = {k: getattr(args, k) for k in RUN_KEYS if getattr(args, k, None) is not None}
    if state is None:
        missing = [f"--{k}" for k in ("model", "data") if k not in given]
        if missing:
            raise CLIError(f"{' and '.join(missing)} required (or --resume CKPT); models: {', '.join(list_models())}; "
                           f"datasets: {', '.join(DATASETS)}")
        config = {**DEFAULTS, **given}
        if config["lr"] is None:
            config["lr"] = DEFAULT_LR[config["optimizer"]]
        return config, notes
    config = dict(state["config"])
    for key, value in given.items():
        if key == "epochs" or value == config.get(key):
            continue
        flag = "--" + key.replace("_", "-")
        notes.append(f"note: {flag} {value} ignored: the resumed run keeps {key}={config.get(key)}")
    if "epochs" in given and given["epochs"] != config["epochs"]:
        if config["scheduler"] == "onecycle":
            raise CLIError(f"the one-cycle schedule of this run was planned for {config['epochs']} epochs and cannot "
                           f"be changed to {given['epochs']}")
        if config["scheduler"] == "cosine":
            notes.append(f"note: the cosine schedule, planned for {config['epochs']} epochs, now ends at epoch "
                         f"{given['epochs']}")
        config["epochs"] = given["epochs"]
    return config, notes


def run(args: argparse.Namespace) -> int:
    check_device(args.device)
    state = None
    if args.resume:
        try:
            state = load_checkpoint(args.resume)
        except (FileNotFoundError, ValueError) as e:
            raise CLIError(f"cannot resume: {e}") from None
    config, notes = resolve_config(args, state)
    out = args.out
    if out is None and args.resume:
        out = args.resume if os.path.isdir(args.resume) else (os.path.dirname(args.resume) or ".")
    elif out is None:
        out = os.path.join("runs", f"{config['model']}-{config['data']}")
    for note in notes:
        print(note)
    with blas_threads(args.threads):
        return train(config, out, state=state, data_root=args.data_root, progress=args.progress, plots=args.plots)


def _fmt_pct(x: float | None) -> str:
    return "  n/a " if x is None else f"{100 * x:6.2f}%"


def _epoch_line(h: dict, epochs: int, is_best: bool) -> str:
    width = len(str(epochs))
    val = (f" | val loss {h['val_loss']:.4f} acc {_fmt_pct(h['val_accuracy'])}"
           if h.get("val_loss") is not None else "")
    return (f"epoch {h['epoch']:>{width}}/{epochs} | train loss {h['train_loss']:.4f} acc "
            f"{_fmt_pct(h['train_accuracy'])}{val} | lr {h['lr']:.2e} | {h['epoch_seconds']:.1f}s, "
            f"{h['images_per_second']:,.0f} img/s" + ("  *best" if is_best else ""))


def _better(h: dict, best: dict | None) -> bool:
    """Best = highest validation accuracy (training accuracy without a validation set), then lowest loss."""
    split = "val" if h.get("val_accuracy") is not None else "train"
    key = (h[f"{split}_accuracy"], -h[f"{split}_loss"])
    return best is None or key > (best["accuracy"], -best["loss"])


def train(config: dict, out: str, *, state: dict | None = None, data_root: str = "data", progress: bool | None = None,
          plots: bool = True) -> int:
    """Run (or continue) the training described by ``config``, writing to ``out``; returns an exit status."""
    wall_start = time.perf_counter()
    spec = get_dataset_spec(config["data"])
    seed = int(config["seed"])
    backend.manual_seed(seed)
    generators = {"shuffle": Generator().manual_seed(seed + 1), "augment": Generator().manual_seed(seed + 2)}
    augment = spec.augment(generators["augment"]) if config["augment"] and spec.augment else None
    splits = load_splits(spec, data_root, seed=seed, val_fraction=config["val_fraction"],
                         train_limit=config["train_limit"], test_limit=config["test_limit"], augment=augment)
    try:
        model = build_model(config["model"], spec)
    except ValueError as e:
        raise CLIError(f"cannot build {config['model']} for {spec.name} ({spec.in_channels}x{spec.input_size}x"
                       f"{spec.input_size} images): {e}") from None
    train_loader = make_loader(splits.train, config["batch_size"], shuffle=True, generator=generators["shuffle"])
    val_loader = make_loader(splits.val, EVAL_BATCH) if splits.val is not None else None
    test_loader = make_loader(splits.test, EVAL_BATCH)
    optimizer = build_optimizer(config["optimizer"], model.parameters(), config["lr"], config["weight_decay"],
                                config["momentum"])
    scheduler, per_batch = build_scheduler(config["scheduler"], optimizer, epochs=config["epochs"],
                                           steps_per_epoch=len(train_loader), step_size=config["step_size"],
                                           gamma=config["gamma"])
    history: list[dict] = []
    best: dict | None = None
    start_epoch = 0
    if state is not None:
        try:
            restore(state, model=model, optimizer=optimizer, scheduler=scheduler, generators=generators)
        except (KeyError, RuntimeError, ValueError) as e:
            raise CLIError(f"the checkpoint does not fit the {config['model']} model it names: {e}") from None
        if scheduler is not None and config["scheduler"] == "cosine":
            scheduler.T_max = config["epochs"]  # --epochs may have extended the run
        start_epoch, history, best = int(state["epoch"]), list(state["history"]), state.get("best")

    os.makedirs(out, exist_ok=True)
    last_path, best_path = os.path.join(out, LAST), os.path.join(out, BEST)
    n_params = sum(p.numel() for p in model.parameters())
    n_val = len(splits.val) if splits.val is not None else 0
    print(f"{'resuming' if state else 'training'} {config['model']} ({n_params:,} parameters) on {spec.name}: "
          f"{len(splits.train):,} train / {n_val:,} validation / {len(splits.test):,} test images")
    print(f"{config['epochs']} epochs of batches of {config['batch_size']}, {config['optimizer']} lr {config['lr']:g}"
          + (f" weight decay {config['weight_decay']:g}" if config["weight_decay"] else "")
          + f", {config['scheduler']} schedule, seed {seed}"
          + (", adaptive gradient clipping" if hasattr(model, "agc_clipping") else "")
          + (f"; continuing after epoch {start_epoch}" if state else "") + f" -> {out}/")

    global_step = start_epoch * len(train_loader)
    train_seconds, train_images = 0.0, 0
    epoch = start_epoch
    try:
        for epoch in range(start_epoch + 1, config["epochs"] + 1):
            lr = optimizer.param_groups[0]["lr"]
            result = train_epoch(model, train_loader, optimizer, epoch=epoch, epochs=config["epochs"],
                                 global_step=global_step, batch_scheduler=scheduler if per_batch else None,
                                 progress=progress)
            global_step += len(train_loader)
            train_seconds += result.seconds
            train_images += result.images
            val = evaluate(model, val_loader) if val_loader is not None else None
            if scheduler is not None and not per_batch:
                scheduler.step()
            h = {"epoch": epoch, "lr": lr, "train_loss": result.loss, "train_accuracy": result.accuracy,
                 "val_loss": val.loss if val else None, "val_accuracy": val.accuracy if val else None,
                 "epoch_seconds": result.seconds, "images_per_second": result.images_per_second}
            history.append(h)
            is_best = _better(h, best)
            if is_best:
                split = "val" if val else "train"
                best = {"epoch": epoch, "accuracy": h[f"{split}_accuracy"], "loss": h[f"{split}_loss"], "split": split}
            ckpt = training_state(config=config, epoch=epoch, model=model, optimizer=optimizer, scheduler=scheduler,
                                  generators=generators, history=history, best=best)
            save_checkpoint(ckpt, last_path)
            if is_best:
                save_checkpoint(ckpt, best_path)
            write_metrics_csv(os.path.join(out, "metrics.csv"), history)
            print(_epoch_line(h, config["epochs"], is_best), flush=True)
    except NonFiniteLossError as e:
        kept = (f"the last good checkpoint is {last_path} (epoch {epoch - 1})" if os.path.isfile(last_path)
                else "no checkpoint was written")
        print(f"training stopped: {e}. The weights are no longer usable; {kept}. Start again with a "
              "lower --lr (or another --optimizer).", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        where = (f"resume with: chainrule train --resume {last_path}" if os.path.isfile(last_path)
                 else "no checkpoint was written yet")
        print(f"\ninterrupted during epoch {epoch}; {where}", file=sys.stderr)
        return 130

    if start_epoch >= config["epochs"]:
        print(f"nothing to train: the checkpoint is at epoch {start_epoch} of {config['epochs']} "
              "(pass a larger --epochs to continue)")
    return _final_report(model, spec, splits.test, test_loader, history, best, out, plots=plots,
                         train_seconds=train_seconds, train_images=train_images,
                         wall_seconds=time.perf_counter() - wall_start,
                         new_model=lambda: build_model(config["model"], spec))


def _final_report(model, spec, test_set, test_loader, history, best, out, *, plots: bool, train_seconds: float,
                  train_images: int, wall_seconds: float, new_model) -> int:
    test = evaluate(model, test_loader)
    cm = confusion_matrix(test.targets, test.predictions, spec.num_classes)
    correct = int(cm.trace())
    print(f"test: loss {test.loss:.4f}, accuracy {100 * test.accuracy:.2f}% ({correct}/{cm.sum()}) "
          f"with the weights of the last epoch")
    best_path = os.path.join(out, BEST)
    if best is not None and history and best["epoch"] != history[-1]["epoch"] and os.path.isfile(best_path):
        # the model selected on the validation set, for comparison (the report below is the last epoch's)
        selected = new_model()
        restore(load_checkpoint(best_path), model=selected)
        sel = evaluate(selected, test_loader)
        print(f"      loss {sel.loss:.4f}, accuracy {100 * sel.accuracy:.2f}% ({int(round(sel.accuracy * cm.sum()))}/"
              f"{cm.sum()}) with {BEST} (epoch {best['epoch']}, the best on validation)")
    print(format_confusion_matrix(cm, spec.classes))
    written = [LAST, "metrics.csv", "confusion_matrix.csv"]
    if best is not None:
        written.insert(1, f"{BEST} (epoch {best['epoch']}, {best['split']} accuracy {100 * best['accuracy']:.2f}%)")
    write_confusion_csv(os.path.join(out, "confusion_matrix.csv"), cm, spec.classes)
    if plots:
        from . import plots as P  # matplotlib is imported only when plots are drawn

        made = [P.plot_curves(history, os.path.join(out, "curves.png")) if history else None,
                P.plot_filters(model, os.path.join(out, "filters.png"),
                               (spec.in_channels, spec.input_size, spec.input_size)),
                P.plot_feature_maps(model, test_set[0][0], os.path.join(out, "feature_maps.png"),
                                    label=f"(class {spec.classes[int(test_set.labels[0])]})"),
                P.plot_confusion(cm, spec.classes, os.path.join(out, "confusion_matrix.png"))]
        written += [os.path.basename(p) for p in made if p]
    print(f"wrote to {out}/: " + ", ".join(written))
    if train_images:
        print(f"done in {wall_seconds:.1f}s: {train_seconds:.1f}s of training at {train_images / train_seconds:,.0f} "
              "images/s")
    return 0
