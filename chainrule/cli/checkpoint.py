"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is one safetensors file written by ``chainrule.save`` (atomically: a crash during
the write leaves the previous file intact). It holds

* ``config``: the run's settings (model, dataset, optimiser, learning rate, seed ...);
* ``epoch``: how many epochs are finished;
* ``model``, ``optimizer``, ``scheduler``: their ``state_dict()``s;
* ``rng``: the states of the global generator (dropout) and of the data generators (shuffling,
  augmentation), so the next epoch draws the same batches as an uninterrupted run would;
* ``history``: the per-epoch metrics, and ``best``: the best epoch so far.

A checkpoint is untrusted input: ``load_checkpoint`` checks every field before anything is built
from it, and ``restore`` reports weights or optimiser states that do not fit as ``CLIError``s.
"""

from __future__ import annotations

import math
import os
from typing import Any

from .. import backend
from ..serialization import load, save
from ..tensor import Tensor
from ._common import CLIError

FORMAT = "chainrule.train/1"
LAST = "checkpoint.safetensors"
BEST = "best.safetensors"


def training_state(*, config: dict, epoch: int, model, optimizer, scheduler, generators: dict,
                   history: list[dict], best: dict | None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "config": dict(config),
        "epoch": int(epoch),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": {"global": backend.default_generator.get_state(),
                **{name: g.get_state() for name, g in generators.items()}},
        "history": [dict(h) for h in history],
        "best": dict(best) if best else None,
    }


def save_checkpoint(state: dict[str, Any], path: str) -> None:
    """Write ``state`` to ``path`` atomically."""
    save(state, path)


def checkpoint_path(path: str) -> str:
    """The checkpoint file ``path`` names: the file itself, or a run directory's ``checkpoint.safetensors``."""
    if os.path.isdir(path):
        candidate = os.path.join(path, LAST)
        if not os.path.isfile(candidate):
            raise CLIError(f"'{path}' is a directory without a {LAST}")
        return candidate
    if not os.path.exists(path):
        raise CLIError(f"no such file: '{path}'")
    return path


def load_checkpoint(path: str) -> dict[str, Any]:
    """Read and check a checkpoint written by ``chainrule train``; ``CLIError`` for anything else."""
    path = checkpoint_path(path)
    try:
        state = load(path)
    except (KeyboardInterrupt, MemoryError):
        raise
    except OSError as e:
        raise CLIError(f"cannot read '{path}': {e.strerror or e}") from None
    except Exception as e:  # an untrusted file: whatever decoding it fails with, it is not a checkpoint
        raise CLIError(f"'{path}' is not a readable checkpoint ({type(e).__name__}: {_short(e)})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CLIError(f"'{path}' is not a training checkpoint of 'chainrule train' (expected format {FORMAT}); "
                       "a plain state dict can be loaded with model.load_state_dict(chainrule.load(path))")
    problem = _check_state(state)
    if problem:
        raise CLIError(f"'{path}' is not a usable checkpoint: {problem}")
    return state


def _short(e: object, limit: int = 200) -> str:  # an exception or a repr
    text = str(e)
    return text if len(text) <= limit else text[:limit] + "..."


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_config(c: Any) -> str | None:
    from ..models import list_models
    from .datasets import DATASETS
    from .trainer import OPTIMIZERS, SCHEDULERS

    if not isinstance(c, dict):
        return "it has no run settings ('config')"
    checks = {
        "model": lambda v: v in list_models(), "data": lambda v: v in DATASETS,
        "epochs": lambda v: _is_int(v) and v >= 1, "batch_size": lambda v: _is_int(v) and v >= 1,
        "optimizer": lambda v: v in OPTIMIZERS, "lr": lambda v: _is_num(v) and v > 0,
        "weight_decay": lambda v: v is None or (_is_num(v) and v >= 0), "momentum": lambda v: _is_num(v) and v >= 0,
        "scheduler": lambda v: v in SCHEDULERS, "step_size": lambda v: _is_int(v) and v >= 1,
        "gamma": lambda v: _is_num(v) and v > 0, "seed": lambda v: _is_int(v) and 0 <= v < 2**32,
        "val_fraction": lambda v: _is_num(v) and 0 <= v <= 0.9,
        "train_limit": lambda v: v is None or (_is_int(v) and v >= 1),
        "test_limit": lambda v: v is None or (_is_int(v) and v >= 1), "augment": lambda v: isinstance(v, bool),
    }
    for key, ok in checks.items():
        if key not in c:
            return f"the run settings lack '{key}'"
        try:
            good = ok(c[key])
        except TypeError:  # an unhashable value tested for membership
            good = False
        if not good:
            return f"the run setting {key}={_short(repr(c[key]), 60)} is not valid"
    ends = c.get("schedule_ends")
    if ends is not None and not (isinstance(ends, list) and ends and all(_is_int(e) and e >= 1 for e in ends)
                                 and ends == sorted(set(ends))):
        return f"the run setting schedule_ends={_short(repr(ends), 60)} is not valid"
    return None


def _check_state(s: dict) -> str | None:
    problem = _check_config(s.get("config"))
    if problem:
        return problem
    if not _is_int(s.get("epoch")) or s["epoch"] < 0:
        return f"the epoch {_short(repr(s.get('epoch')), 40)} is not a count of epochs"
    model = s.get("model")
    if not isinstance(model, dict) or not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in model.items()):
        return "the model weights ('model') are not a state dict of tensors"
    opt = s.get("optimizer")
    if not (isinstance(opt, dict) and isinstance(opt.get("state"), dict) and isinstance(opt.get("param_groups"), list)
            and all(isinstance(g, dict) for g in opt["param_groups"])):
        return "the optimiser state ('optimizer') is malformed"
    if s.get("scheduler") is not None and not isinstance(s["scheduler"], dict):
        return "the schedule state ('scheduler') is malformed"
    rng = s.get("rng")
    if not isinstance(rng, dict):
        return "the random generator states ('rng') are missing"
    for name, value in rng.items():
        try:
            backend.Generator().set_state(value)
        except Exception:  # NumPy's checks of a bit-generator state raise several types
            return f"the random generator state '{name}' is not valid"
    history = s.get("history")
    if not isinstance(history, list) or not all(_history_row_ok(h) for h in history):
        return "the metrics history ('history') is malformed"
    best = s.get("best")
    if best is not None and not (isinstance(best, dict) and _is_int(best.get("epoch")) and 1 <= best["epoch"] <= s["epoch"]
                                 and _is_num(best.get("accuracy")) and _is_num(best.get("loss"))
                                 and best.get("split") in ("val", "train")):
        return "the record of the best epoch ('best') is malformed"
    return None


def _history_row_ok(h: Any) -> bool:
    if not isinstance(h, dict) or not _is_int(h.get("epoch")):
        return False
    numbers = ("lr", "train_loss", "train_accuracy", "epoch_seconds", "images_per_second")
    optional = ("val_loss", "val_accuracy")
    return (all(isinstance(h.get(k), (int, float)) and not isinstance(h.get(k), bool) for k in numbers)
            and all(h.get(k) is None or (isinstance(h[k], (int, float)) and not isinstance(h[k], bool))
                    for k in optional))


def restore(state: dict[str, Any], *, model, optimizer=None, scheduler=None, generators: dict | None = None) -> None:
    """Put the saved states back into freshly built objects (those given); ``CLIError`` if they do not fit."""
    name = state["config"]["model"]
    try:
        model.load_state_dict(state["model"])
    except (KeyError, RuntimeError, ValueError, TypeError, IndexError) as e:
        raise CLIError(f"the checkpoint's weights do not fit the {name} model it names: {_short(e, 300)}") from None
    if optimizer is not None:
        try:
            optimizer.load_state_dict(state["optimizer"])
        except (KeyError, RuntimeError, ValueError, TypeError, IndexError, AttributeError) as e:
            raise CLIError(f"the checkpoint's optimiser state does not fit the {name} model: {_short(e)}") from None
        _check_optimizer_state(optimizer, name)
    if scheduler is not None and state.get("scheduler") is not None:
        _check_scheduler_state(state["scheduler"], scheduler.state_dict(), type(scheduler).__name__)
        try:
            scheduler.load_state_dict(state["scheduler"])
        except (KeyError, RuntimeError, ValueError, TypeError, IndexError, AttributeError) as e:
            raise CLIError(f"the checkpoint's schedule state is malformed: {_short(e)}") from None
    rng = state.get("rng") or {}
    if generators is not None:
        if "global" in rng:
            backend.default_generator.set_state(rng["global"])
        for gname, g in generators.items():
            if gname in rng:
                g.set_state(rng[gname])


def _check_optimizer_state(optimizer, name: str) -> None:
    """Every per-parameter buffer (momentum, Adam's moments ...) has its parameter's shape and a float dtype;
    found here rather than at the first step."""
    for group in optimizer.param_groups:
        lr = group.get("lr")
        if not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and lr >= 0):
            raise CLIError(f"the checkpoint's optimiser state has the learning rate {_short(repr(lr), 40)}")
        for p in group["params"]:
            for key, value in optimizer.state.get(p, {}).items():
                if isinstance(value, Tensor) and value.ndim > 0 and tuple(value.shape) != tuple(p.shape):
                    raise CLIError(f"the checkpoint's optimiser state '{key}' has shape {tuple(value.shape)} for a "
                                   f"parameter of shape {tuple(p.shape)} of the {name} model")
    _dry_run_step(optimizer)


# the fields of a schedule's state that change as it steps; the others follow from the run's settings
_SCHEDULE_PROGRESS = ("last_epoch", "_step_count", "_last_lr", "_is_initial", "_get_lr_called_within_step")


def _check_scheduler_state(saved: dict, fresh: dict, kind: str) -> None:
    """The saved schedule state is the run's schedule (same settings) at some step."""
    if set(saved) != set(fresh):
        raise CLIError(f"the checkpoint's schedule state is not that of a {kind} (fields {sorted(map(str, saved))[:8]})")
    for key, value in fresh.items():
        got = saved[key]
        if key in ("last_epoch", "_step_count"):
            ok = _is_int(got) and got >= 0
        elif key == "_last_lr":
            ok = isinstance(got, list) and len(got) == len(value) and all(_is_num(v) and v >= 0 for v in got)
        elif key in _SCHEDULE_PROGRESS:
            ok = isinstance(got, bool)
        else:
            ok = got == value
        if not ok:
            raise CLIError(f"the checkpoint's schedule state has {key}={_short(repr(got), 60)}, which does not fit "
                           f"the run's {kind}")


def _dry_run_step(optimizer) -> None:
    """One step of a copy of ``optimizer`` with zero gradients: a state that is not this optimiser's
    (Adam's moments given to SGD, a missing hyper-parameter ...) fails here, not at the first step."""
    import copy

    from .. import zeros_like

    probe = copy.deepcopy(optimizer)  # copies the parameters too: the model is not touched
    for group in probe.param_groups:
        for p in group["params"]:
            p.grad = zeros_like(p)
    try:
        probe.step()
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as e:
        raise CLIError(f"the checkpoint's optimiser state does not fit the run's "
                       f"{type(optimizer).__name__} optimiser "
                       f"({type(e).__name__}: {_short(e)})") from None
