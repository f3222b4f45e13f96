"""``chainrule train``: train a model on a dataset, with checkpoints, metrics, plots and a test report.

Everything a run writes goes to ``--out``: ``checkpoint.safetensors`` (after every epoch),
``best.safetensors`` (the epoch with the best validation accuracy), ``metrics.csv``,
``confusion_matrix.csv`` and the PNG plots. ``--resume`` continues a run from its checkpoint
exactly as if it had never stopped. A new run never replaces another: see ``rundir``.

Each epoch writes, atomically and in this order, the checkpoint (which records the best epoch),
``best.safetensors`` when the epoch is the best, then ``metrics.csv``. Whatever instant the
process dies at, the next ``--resume`` finds a consistent run: a best epoch recorded in the
checkpoint but missing from ``best.safetensors`` can only be the checkpoint's own epoch, and is
rewritten from it; ``metrics.csv`` is rewritten from the checkpoint's history.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import time
import zlib
from typing import Any

import numpy as np

from .. import backend
from ..backend import Generator
from ..kernels import numba as numba_kernels
from ..models import list_models
from . import compiled as compiling
from . import distributed as data_parallel
from ._common import CLIError, RunFailure, check_device, finite_float, num_threads, positive_int, seed_int, write_error
from .checkpoint import BEST, LAST, checkpoint_path, load_checkpoint, restore, save_checkpoint, training_state
from .datasets import DATASETS, get_dataset_spec, load_splits, make_loader
from .metrics import (
    confusion_matrix,
    format_confusion_matrix,
    metrics_csv_text,
    write_confusion_csv,
    write_metrics_csv,
)
from .rundir import check_out, clear_run, numbered
from .trainer import (
    CYCLIC,
    DEFAULT_LR,
    OPTIMIZERS,
    SCHEDULERS,
    NonFiniteLossError,
    build_model,
    build_optimizer,
    build_scheduler,
    cycle_of,
    evaluate,
    schedule_ends,
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
MAX_VAL_FRACTION = 0.9


class Diverged(RuntimeError):
    """The validation loss or the weights stopped being finite."""


def add_train_arguments(p: argparse.ArgumentParser, *, model: str | None = None, data: str | None = None,
                        out_help: str | None = None, threads: int | None = None) -> None:
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
    g.add_argument("--epochs", type=positive_int, help=f"total number of epochs [{DEFAULTS['epochs']}]; with --resume "
                   "it may extend the run: a cosine or one-cycle schedule then adds a new cycle (a warm restart "
                   "from --lr) for the added epochs, a step schedule goes on decaying")
    g.add_argument("--batch-size", type=positive_int, help=f"images per step [{DEFAULTS['batch_size']}]")
    g.add_argument("--optimizer", choices=OPTIMIZERS, help=f"[{DEFAULTS['optimizer']}]")
    g.add_argument("--lr", type=finite_float(0, low_open=True),
                   help="learning rate, > 0 [" + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + "]")
    g.add_argument("--weight-decay", type=finite_float(0),
                   help="L2 penalty, >= 0 (decoupled for adamw) [adamw 0.01, others 0]")
    g.add_argument("--momentum", type=finite_float(0), help=f"for sgd and rmsprop, >= 0 [{DEFAULTS['momentum']}]")
    g.add_argument("--scheduler", choices=SCHEDULERS,
                   help=f"learning-rate schedule: cosine annealing over the epochs, step decay (--step-size, "
                        f"--gamma), one-cycle per batch, or none [{DEFAULTS['scheduler']}]")
    g.add_argument("--step-size", type=positive_int, help=f"epochs between decays of --scheduler step "
                                                          f"[{DEFAULTS['step_size']}]")
    g.add_argument("--gamma", type=finite_float(0, low_open=True),
                   help=f"decay factor of --scheduler step, > 0 [{DEFAULTS['gamma']}]")
    g.add_argument("--seed", type=seed_int, help=f"0 to 2**32-1; seeds initialisation, validation split, shuffling, "
                                                 f"dropout [{DEFAULTS['seed']}]")
    g.add_argument("--val-fraction", type=finite_float(0, MAX_VAL_FRACTION),
                   help=f"part of the training set held out for validation, 0 to {MAX_VAL_FRACTION} "
                        f"[{DEFAULTS['val_fraction']}]")
    g.add_argument("--train-limit", type=positive_int, metavar="N",
                   help="use only N training images (a seeded random subset, before the validation split)")
    g.add_argument("--test-limit", type=positive_int, metavar="N", help="evaluate on the first N test images only")
    g.add_argument("--no-augment", dest="augment", action="store_const", const=False, default=None,
                   help="switch off the dataset's training augmentation (cifar10: random crops and flips)")
    g = p.add_argument_group("where and how to run")
    g.add_argument("--out", default=None, metavar="DIR",
                   help=out_help or "output directory [runs/MODEL-DATA; on --resume the checkpoint's directory]; "
                                    "a folder that holds another run is refused (see --overwrite)")
    g.add_argument("--overwrite", action="store_true",
                   help="replace the run in --out (its checkpoints, metrics and plots) instead of refusing")
    g.add_argument("--resume", metavar="CKPT", help="continue the run saved in CKPT (its checkpoint.safetensors or "
                                                    "its directory); --epochs may extend it")
    g.add_argument("--device", default="cpu", help="only cpu is supported")
    g.add_argument("--threads", type=positive_int, default=threads, metavar="N",
                   help="threads of chainrule's own thread pool (the convolutions' batch chunks) and of the BLAS "
                        "matrix products, as chainrule.set_num_threads(N) [" + (str(threads) if threads else
                                                                                 "all cores, or OMP_NUM_THREADS")
                        + "]; small models gain nothing from more than one")
    g.add_argument("--compile", nargs="?", const="inductor", choices=compiling.BACKENDS, default=None,
                   metavar="BACKEND",
                   help="train the model through chainrule.compile: each input shape is recorded once, then "
                        "replayed; BACKEND inductor (the default: element-wise chains fused into generated kernels) "
                        "or eager (replay without fusion); checkpoints are the same files as without it")
    g.add_argument("--no-progress", dest="progress", action="store_const", const=False, default=None,
                   help="no progress bars (they are shown only on a terminal anyway)")
    g.add_argument("--no-plots", dest="plots", action="store_false", help="skip the PNG plots")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train", help="train a model on a dataset",
        description="Train a model, print one line per epoch, save checkpoints, metrics.csv, a test report "
                    "and plots to --out. A new run never replaces another: a folder holding a run is refused "
                    "unless --overwrite is given.")
    add_train_arguments(p)
    p.set_defaults(func=run)
    return p


def _extension_notes(config: dict, new_epochs: int, done: int) -> list[str]:
    """What ``--resume --epochs new_epochs`` does to the schedule, said exactly; updates ``config``."""
    notes: list[str] = []
    planned, kind = config["epochs"], config["scheduler"]
    ends = schedule_ends(config)
    if new_epochs <= done:
        notes.append(f"note: the checkpoint is already at epoch {done}; --epochs {new_epochs} leaves nothing to train")
        return notes
    if kind in CYCLIC and new_epochs > ends[-1]:
        restart = ("the lr restarts at {lr:g} and follows a new cosine down to 0 (a warm restart)" if kind == "cosine"
                   else "the lr warms up again to {lr:g} and anneals towards 0 (a new one-cycle)")
        notes.append(f"note: the {kind} schedule of this run ends at epoch {ends[-1]}; --epochs {new_epochs} adds a "
                     f"new cycle for epochs {ends[-1] + 1}-{new_epochs}: " + restart.format(lr=config["lr"]))
        config["schedule_ends"] = ends + [new_epochs]
    elif kind in CYCLIC and new_epochs < ends[-1]:
        notes.append(f"note: the run now stops at epoch {new_epochs}; its {kind} schedule keeps its plan to end at "
                     f"epoch {ends[-1]}, so the lr will not have reached its end")
        config["schedule_ends"] = ends
    elif kind == "step" and new_epochs > planned:
        notes.append(f"note: the step schedule goes on: lr x {config['gamma']:g} every {config['step_size']} epochs")
    return notes


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
        stray = [f"--{k.replace('_', '-')}" for k in ("step_size", "gamma") if k in given]
        if stray and config["scheduler"] != "step":
            raise CLIError(f"{' and '.join(stray)} only apply to --scheduler step; this run uses --scheduler "
                           f"{config['scheduler']} (add --scheduler step, or drop {' and '.join(stray)})")
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
        notes += _extension_notes(config, given["epochs"], int(state["epoch"]))
        if given["epochs"] > int(state["epoch"]):
            config["epochs"] = given["epochs"]
    elif int(state["epoch"]) >= config["epochs"]:
        notes.append(f"note: the checkpoint is at epoch {state['epoch']} of {config['epochs']}; nothing to train "
                     "(pass a larger --epochs to continue)")
    return config, notes


def run(args: argparse.Namespace, *, default_out: str | None = None, number_out: bool = False) -> int:
    """``train`` (and ``demo``): check everything that can be checked, then train. ``default_out``
    replaces runs/MODEL-DATA; with ``number_out`` a default folder holding a run gets a numbered sibling."""
    ctx = data_parallel.setup()  # under mpiexec -n K: data-parallel over K ranks (docs/distributed.md)
    check_device(args.device)
    state, resume = None, None
    if args.resume:
        try:
            resume = checkpoint_path(args.resume)
            state = load_checkpoint(resume)
        except CLIError as e:
            raise CLIError(f"cannot resume: {e}") from None
    config, notes = resolve_config(args, state)
    out = args.out
    if out is None and resume:
        out = os.path.dirname(resume) or "."
    elif out is None:
        out = default_out or os.path.join("runs", f"{config['model']}-{config['data']}")
        if number_out and not args.overwrite:
            out = numbered(out)
    created = not os.path.exists(out)
    data_parallel.run_on_main(ctx, lambda: check_out(out, resume=resume, overwrite=args.overwrite))
    args.run_dir = out
    for note in notes:
        print(note)
    in_place = resume is not None and os.path.samefile(os.path.dirname(os.path.abspath(resume)), out)
    try:
        with data_parallel.guard(ctx), num_threads(data_parallel.threads_per_rank(ctx, args.threads)):
            return train(config, out, state=state, data_root=args.data_root, progress=args.progress,
                         plots=args.plots, clear=args.overwrite and not in_place,
                         resume_path=resume if in_place else None, resumed_from=resume, dist_ctx=ctx,
                         compile_backend=getattr(args, "compile", None))
    except BaseException:
        if created:  # a run that failed before writing anything leaves no empty folder behind
            with contextlib.suppress(OSError):
                os.rmdir(out)
        raise


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
    """Best = highest validation accuracy (training accuracy without a validation set), then lowest loss;
    an epoch with a non-finite loss is never the best."""
    split = "val" if h.get("val_accuracy") is not None else "train"
    key = (h[f"{split}_accuracy"], -h[f"{split}_loss"])
    if not all(math.isfinite(v) for v in key):
        return False
    return best is None or key > (best["accuracy"], -best["loss"])


def _load_data(spec, data_root: str, config: dict, augment):
    """The splits, with a failure to read the dataset's files reported as such (exit 1)."""
    try:
        return load_splits(spec, data_root, seed=int(config["seed"]), val_fraction=config["val_fraction"],
                           train_limit=config["train_limit"], test_limit=config["test_limit"], augment=augment)
    except (CLIError, FileNotFoundError):
        raise
    except (ValueError, OSError, EOFError, RuntimeError, zlib.error) as e:
        raise RunFailure(f"cannot read the {spec.name} dataset under '{data_root}': {e}") from None


def _weights_finite(model) -> bool:
    return all(np.isfinite(p.detach().numpy()).all() for p in model.parameters())


def _sync_run_files(state: dict, out: str, best_path: str, metrics_path: str) -> None:
    """Make ``best.safetensors`` and ``metrics.csv`` agree with the checkpoint being resumed in ``out``
    (the process may have died between the writes of an epoch)."""
    best = state.get("best")
    if best is not None:
        held = None
        if os.path.isfile(best_path):
            try:
                held = load_checkpoint(best_path)["epoch"]
            except CLIError:
                held = None
        if held != best["epoch"]:
            if best["epoch"] == state["epoch"]:
                print(f"note: {BEST} did not hold the best epoch {best['epoch']} (the run stopped while writing it); "
                      "rewritten from the checkpoint")
                _write(save_checkpoint, (state, best_path), best_path, None)
            elif held is None:  # deleted or damaged by hand: those weights are gone, the record stays
                print(f"note: {best_path} is missing or unreadable; the weights of the best epoch {best['epoch']} "
                      "are lost, and it is written again only when a later epoch does better")
            else:
                raise CLIError(f"{best_path} holds epoch {held} but the run's checkpoint records epoch "
                               f"{best['epoch']} as its best; resume into another folder with --out NEW_DIR")
    text = metrics_csv_text(state["history"])
    current = None
    if os.path.isfile(metrics_path):
        with open(metrics_path, encoding="utf-8", errors="replace") as f:
            current = f.read()
    if current != text:
        _write(write_metrics_csv, (metrics_path, state["history"]), metrics_path, None)


def _write(write, args: tuple, path: str, last_good: tuple[str, int] | None) -> None:
    """``write(*args)``, one write of the run; an OSError (a full disk ...) becomes a RunFailure naming
    what is kept."""
    try:
        write(*args)
    except OSError as e:
        keeps = (f"the last good checkpoint is {last_good[0]} (epoch {last_good[1]})" if last_good
                 else "no checkpoint of this run was written")
        raise write_error(e, path, keeps) from None


def train(config: dict, out: str, *, state: dict | None = None, data_root: str = "data", progress: bool | None = None,
          plots: bool = True, clear: bool = False, resume_path: str | None = None,
          resumed_from: str | None = None, dist_ctx: data_parallel.DistContext | None = None,
          compile_backend: str | None = None) -> int:
    """Run (or continue) the training described by ``config``, writing to ``out``; returns an exit status.

    ``dist_ctx`` (from ``cli.distributed.setup``, under mpiexec): each rank trains on its share of
    every global batch, validation is split over the ranks, and only rank 0 prints and writes.

    ``clear``: remove the run files in ``out`` first (--overwrite); ``resume_path``: the checkpoint
    being continued lives in ``out`` (its best file and metrics are brought in line with it);
    ``compile_backend``: train through ``chainrule.compile`` with that backend (``cli/compiled.py``).
    """
    wall_start = time.perf_counter()
    spec = get_dataset_spec(config["data"])
    seed = int(config["seed"])
    backend.manual_seed(seed)
    generators = {"shuffle": Generator().manual_seed(seed + 1), "augment": Generator().manual_seed(seed + 2)}
    augment = spec.augment(generators["augment"]) if config["augment"] and spec.augment else None
    try:
        model = build_model(config["model"], spec)
    except ValueError as e:
        raise CLIError(f"cannot build {config['model']} for {spec.name} ({spec.in_channels}x{spec.input_size}x"
                       f"{spec.input_size} images): {e}") from None
    splits = _load_data(spec, data_root, config, augment)
    ctx = dist_ctx or data_parallel.DistContext()
    train_loader = make_loader(splits.train, config["batch_size"], shuffle=True, generator=generators["shuffle"])
    train_loader = data_parallel.shard_loader(ctx, train_loader)  # this rank's share of each global batch
    val_loader = make_loader(splits.val, EVAL_BATCH) if splits.val is not None else None
    test_loader = make_loader(splits.test, EVAL_BATCH)
    try:
        optimizer = build_optimizer(config["optimizer"], model.parameters(), config["lr"], config["weight_decay"],
                                    config["momentum"])
    except ValueError as e:
        raise CLIError(f"cannot build the {config['optimizer']} optimiser: {e}") from None
    start_epoch = int(state["epoch"]) if state is not None else 0
    ends, cyclic = schedule_ends(config), config["scheduler"] in CYCLIC

    def new_schedule(epoch: int):
        first, last = cycle_of(ends, epoch)
        return build_scheduler(config["scheduler"], optimizer, epochs=last - first, steps_per_epoch=len(train_loader),
                               step_size=config["step_size"], gamma=config["gamma"], lr=config["lr"])

    # the schedule whose state the checkpoint holds: the cycle of its last finished epoch
    scheduler, per_batch = new_schedule(max(start_epoch, 1))
    history: list[dict] = []
    best: dict | None = None
    if state is not None:
        restore(state, model=model, optimizer=optimizer, scheduler=scheduler, generators=generators)
        history, best = list(state["history"]), state.get("best")
    # what trains: DDP (+ SyncBatchNorm) under mpiexec; checkpoints and evaluation use the bare model
    # --compile: the model inside DDP is compiled, DDP's Python runs on every call (cli/compiled.py)
    compile_model = None if compile_backend is None else (lambda m: compiling.compile_for_training(m, compile_backend))
    train_model = data_parallel.wrap_model(ctx, model, train_loader, compile=compile_model)
    write = _write if ctx.is_main() else (lambda *_: None)

    last_path, best_path = os.path.join(out, LAST), os.path.join(out, BEST)
    metrics_path = os.path.join(out, "metrics.csv")
    if clear and ctx.is_main():
        clear_run(out)
    if state is not None and resume_path is not None and ctx.is_main():
        _sync_run_files(state, out, best_path, metrics_path)
    last_good = (resumed_from, start_epoch) if state is not None and resumed_from else None
    n_params = sum(p.numel() for p in model.parameters())
    n_val = len(splits.val) if splits.val is not None else 0
    print(f"{'resuming' if state else 'training'} {config['model']} ({n_params:,} parameters) on {spec.name}: "
          f"{len(splits.train):,} train / {n_val:,} validation / {len(splits.test):,} test images")
    print(f"{config['epochs']} epochs of batches of {config['batch_size']}, {config['optimizer']} lr {config['lr']:g}"
          + (f" weight decay {config['weight_decay']:g}" if config["weight_decay"] else "")
          + f", {config['scheduler']} schedule, seed {seed}"
          + (", adaptive gradient clipping" if hasattr(model, "agc_clipping") else "")
          + (f"; continuing after epoch {start_epoch}" if state else "") + f" -> {out}/")

    # numba's own start-up (its CPU target, about 0.35 s even with every kernel cached) happens here
    # rather than inside the first epoch's steps; a no-op with CHAINRULE_JIT=0
    numba_kernels.preload()
    global_step = start_epoch * len(train_loader)
    train_seconds, train_images = 0.0, 0
    epoch, best_written = start_epoch, None
    try:
        for epoch in range(start_epoch + 1, config["epochs"] + 1):
            if cyclic and epoch - 1 in ends and epoch > 1:  # a new cycle of an extended run
                scheduler, per_batch = new_schedule(epoch)
            lr = optimizer.param_groups[0]["lr"]
            result = train_epoch(train_model, train_loader, optimizer, epoch=epoch, epochs=config["epochs"],
                                 global_step=global_step, batch_scheduler=scheduler if per_batch else None,
                                 progress=progress if ctx.is_main() else False)
            result = data_parallel.combine_epoch(ctx, result)
            global_step += len(train_loader)
            train_seconds += result.seconds
            train_images += result.images
            if not _weights_finite(model):
                raise Diverged(f"the weights are no longer finite after epoch {epoch}")
            if val_loader is None:
                val = None
            elif ctx.active:
                val = data_parallel.evaluate_sharded(ctx, evaluate, model, splits.val, EVAL_BATCH)
            else:
                val = evaluate(model, val_loader)
            if val is not None and not math.isfinite(val.loss):
                raise Diverged(f"the validation loss is {val.loss} after epoch {epoch}")
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
            # the checkpoint first: it records the best epoch, and a best.safetensors missing that
            # epoch (a crash between the writes) is rewritten from it on --resume
            write(save_checkpoint, (ckpt, last_path), last_path, last_good)
            last_good = (last_path, epoch)
            if is_best:
                write(save_checkpoint, (ckpt, best_path), best_path, last_good)
                best_written = best
            write(write_metrics_csv, (metrics_path, history), metrics_path, last_good)
            print(_epoch_line(h, config["epochs"], is_best), flush=True)
    except (NonFiniteLossError, Diverged) as e:
        kept = (f"the last good checkpoint is {last_good[0]} (epoch {last_good[1]})" if last_good
                else "no checkpoint was written")
        raise RunFailure(f"training diverged: {e}; the weights are no longer usable; {kept}. Start again with a "
                         "lower --lr (or another --optimizer)") from None
    except KeyboardInterrupt:
        where = (f"resume with: chainrule train --resume {last_good[0]}" if last_good
                 else "no checkpoint was written yet")
        raise KeyboardInterrupt(f"during epoch {epoch}; {where}") from None

    trained = epoch > start_epoch
    if compile_backend is not None and trained:
        print(compiling.summary(compiling.find_compiled(train_model), compile_backend))
    if not ctx.is_main():  # rank 0 alone tests the final weights, writes the report and the plots
        return 0
    return _final_report(model, spec, splits.test, test_loader, history, best, out, plots=plots,
                         train_seconds=train_seconds, train_images=train_images,
                         wall_seconds=time.perf_counter() - wall_start,
                         new_model=lambda: build_model(config["model"], spec),
                         written=([LAST] + ([f"{BEST} (epoch {best_written['epoch']}, {best_written['split']} accuracy "
                                             f"{100 * best_written['accuracy']:.2f}%)"] if best_written else [])
                                  + ["metrics.csv"]) if trained else [],
                         last_good=last_good)


def _selected_on_validation(best, history, best_path, new_model, test_loader, total: int) -> str | None:
    """The test line of best.safetensors when it is another epoch than the last and really holds that epoch."""
    if best is None or not history or best["epoch"] == history[-1]["epoch"] or not os.path.isfile(best_path):
        return None
    try:
        state = load_checkpoint(best_path)
    except CLIError:
        return None
    if state["epoch"] != best["epoch"]:
        return None
    selected = new_model()
    restore(state, model=selected)
    sel = evaluate(selected, test_loader)
    return (f"      loss {sel.loss:.4f}, accuracy {100 * sel.accuracy:.2f}% ({int(round(sel.accuracy * total))}/"
            f"{total}) with {BEST} (epoch {best['epoch']}, the best on validation)")


def _final_report(model, spec, test_set, test_loader, history, best, out, *, plots: bool, train_seconds: float,
                  train_images: int, wall_seconds: float, new_model, written: list[str],
                  last_good: tuple[str, int] | None) -> int:
    test = evaluate(model, test_loader)
    cm = confusion_matrix(test.targets, test.predictions, spec.num_classes)
    correct = int(cm.trace())
    last_epoch = history[-1]["epoch"] if history else 0
    print(f"test: loss {test.loss:.4f}, accuracy {100 * test.accuracy:.2f}% ({correct}/{cm.sum()}) "
          f"with the weights of the last epoch")
    line = _selected_on_validation(best, history, os.path.join(out, BEST), new_model, test_loader, int(cm.sum()))
    if line:
        print(line)
    print(format_confusion_matrix(cm, spec.classes))
    path = os.path.join(out, "confusion_matrix.csv")
    _write(write_confusion_csv, (path, cm, spec.classes), path, last_good)
    written = written + ["confusion_matrix.csv"]
    if plots:
        from . import plots as P  # matplotlib is imported only when plots are drawn

        weights = f"weights of epoch {last_epoch} (the last)"
        image, label = test_set[0][0], int(test_set.labels[0])
        jobs = [(lambda p: P.plot_curves(history, p, best_epoch=best["epoch"] if best else None), "curves.png"),
                (lambda p: P.plot_filters(model, p, (spec.in_channels, spec.input_size, spec.input_size)),
                 "filters.png"),
                (lambda p: P.plot_feature_maps(model, image, p, true_class=spec.classes[label],
                                               classes=spec.classes), "feature_maps.png"),
                (lambda p: P.plot_confusion(cm, spec.classes, p, weights=weights), "confusion_matrix.png")]
        for job, name in jobs:
            if name == "curves.png" and not history:
                continue
            target = os.path.join(out, name)
            made = None
            try:
                made = job(target)
            except OSError as e:
                raise write_error(e, target, f"the checkpoints in {out}/ are complete") from None
            if made:
                written.append(name)
    print(f"wrote to {out}/: " + ", ".join(written))
    if train_images:
        print(f"done in {wall_seconds:.1f}s: {train_seconds:.1f}s of training at {train_images / train_seconds:,.0f} "
              "images/s")
    return 0

