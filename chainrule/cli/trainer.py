"""The training loop: optimiser and schedule factories, one epoch of training, evaluation.

Kept free of argument parsing and file output so that it reads like the loop one writes by hand:
forward, loss, check it is finite, backward, (clip), step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .. import nn, optim
from ..autograd.grad_mode import no_grad
from ..models import get_model
from ..nn import functional as F
from ..nn.utils import adaptive_clip_grad_
from ..optim import lr_scheduler
from .metrics import RunningMean

# the learning rate each optimiser gets when --lr is not given
DEFAULT_LR = {"sgd": 0.05, "adam": 3e-3, "adamw": 3e-3, "rmsprop": 1e-3, "adagrad": 1e-2,
              "adadelta": 1.0, "adamax": 2e-3, "nadam": 2e-3, "radam": 1e-3, "asgd": 1e-2}  # the last five: PyTorch's
OPTIMIZERS = tuple(DEFAULT_LR)
SCHEDULERS = ("none", "cosine", "step", "onecycle")


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; training cannot continue from these weights."""

    def __init__(self, epoch: int, step: int, global_step: int, value: float) -> None:
        self.epoch, self.step, self.global_step, self.value = epoch, step, global_step, value
        super().__init__(f"the loss is {value} at epoch {epoch}, step {step} (step {global_step} of the run)")


def build_model(name: str, spec) -> nn.Module:
    """The zoo model ``name`` shaped for a ``DatasetSpec``: its channels, image side and classes."""
    return get_model(name, in_channels=spec.in_channels, num_classes=spec.num_classes, input_size=spec.input_size)


def build_optimizer(name: str, params: Iterable, lr: float, weight_decay: float | None = None,
                    momentum: float = 0.9) -> optim.Optimizer:
    """SGD (with momentum), Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam or ASGD;
    ``weight_decay=None`` keeps PyTorch's default. (LBFGS needs a closure: not a training-loop choice.)"""
    wd: dict[str, Any] = {} if weight_decay is None else {"weight_decay": weight_decay}
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, **wd)
    if name == "adam":
        return optim.Adam(params, lr=lr, **wd)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, **wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=momentum, **wd)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, **wd)
    others = {"adadelta": optim.Adadelta, "adamax": optim.Adamax, "nadam": optim.NAdam, "radam": optim.RAdam,
              "asgd": optim.ASGD}
    if name in others:
        return others[name](params, lr=lr, **wd)
    raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")


def build_scheduler(name: str, optimizer: optim.Optimizer, *, epochs: int, steps_per_epoch: int,
                    step_size: int = 10, gamma: float = 0.1,
                    lr: float | None = None) -> tuple[lr_scheduler.LRScheduler | None, bool]:
    """The learning-rate schedule and whether it steps after every batch (else after every epoch).

    cosine: lr_e = lr * (1 + cos(pi e / epochs)) / 2; step: lr * gamma^floor(e / step_size);
    onecycle: warm up to lr for 30% of the steps, then anneal towards zero (per batch).
    ``lr`` (default: the optimiser's current one) is where cosine starts and one-cycle peaks; a
    new cycle of an extended run starts from it again.
    """
    if lr is not None:
        for g in optimizer.param_groups:
            g["lr"] = lr
    if name == "none":
        return None, False
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs), False
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma), False
    if name == "onecycle":
        max_lr = [g["lr"] for g in optimizer.param_groups]
        return lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=epochs * steps_per_epoch), True
    raise ValueError(f"unknown scheduler {name!r}; choose one of: {', '.join(SCHEDULERS)}")


# Schedules with a planned end (cosine, one-cycle) run in cycles: ``--resume --epochs N`` past the
# planned end appends a cycle ending at N, which starts again from the run's --lr (a warm restart,
# as in SGDR). The ends of the cycles are stored in the run's settings as ``schedule_ends``.
CYCLIC = ("cosine", "onecycle")


def schedule_ends(config: dict) -> list[int]:
    """The epochs at which the run's cosine / one-cycle cycles end (one cycle unless extended)."""
    return list(config.get("schedule_ends") or [config["epochs"]])


def cycle_of(ends: list[int], epoch: int) -> tuple[int, int]:
    """``(start, end)``: the cycle that trains ``epoch`` (1-based) covers epochs start+1 .. end."""
    start = 0
    for end in ends:
        if epoch <= end:
            return start, end
        start = end
    return start, max(epoch, start + 1)


def wants_agc(model: nn.Module) -> bool:
    """Whether the model asks for adaptive gradient clipping (see ``chainrule.models``)."""
    return callable(getattr(model, "agc_parameters", None)) and hasattr(model, "agc_clipping")


@dataclass
class EpochResult:
    loss: float
    accuracy: float
    images: int
    seconds: float

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else float("nan")


def _progress_bar(total: int, desc: str, enabled: bool | None):
    from tqdm.auto import tqdm  # imported when used: evaluation alone does not need it

    # enabled=None lets tqdm decide: a bar on a terminal, nothing when the output is redirected
    return tqdm(total=total, desc=desc, unit="batch", leave=False, dynamic_ncols=True,
                disable=None if enabled is None else not enabled)


class _Batches(Protocol):
    """What ``train_epoch`` reads: the batches, and how many there are (the progress bar's total)."""

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


def train_epoch(model: nn.Module, loader: _Batches, optimizer: optim.Optimizer, *, epoch: int, epochs: int,
                global_step: int = 0, batch_scheduler: lr_scheduler.LRScheduler | None = None,
                progress: bool | None = None) -> EpochResult:
    """One pass over ``loader``; raises ``NonFiniteLossError`` before stepping on a NaN/inf loss."""
    model.train()
    agc = wants_agc(model)
    meter = RunningMean()
    bar = _progress_bar(len(loader), f"epoch {epoch}/{epochs}", progress)
    start = time.perf_counter()
    # an overflow shows up as a non-finite loss, reported with its step: NumPy need not warn as well
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            for step, (images, labels) in enumerate(loader, 1):
                logits = model(images)
                loss = F.cross_entropy(logits, labels)
                value = loss.item()
                if not math.isfinite(value):
                    raise NonFiniteLossError(epoch, step, global_step + step, value)
                optimizer.zero_grad()
                loss.backward()
                if agc:
                    adaptive_clip_grad_(list(model.agc_parameters()), model.agc_clipping)
                optimizer.step()
                if batch_scheduler is not None:
                    batch_scheduler.step()
                correct = int((logits.detach().numpy().argmax(1) == labels.numpy()).sum())
                meter.update(value, correct, labels.shape[0])
                bar.update(1)
                if not bar.disable:
                    rate = meter.count / max(time.perf_counter() - start, 1e-9)
                    bar.set_postfix_str(f"loss {meter.loss:.4f}, acc {100 * meter.accuracy:.1f}%, {rate:.0f} img/s",
                                        refresh=False)
        finally:
            bar.close()
    return EpochResult(meter.loss, meter.accuracy, meter.count, time.perf_counter() - start)


@dataclass
class EvalResult:
    loss: float
    accuracy: float
    predictions: np.ndarray
    targets: np.ndarray


def evaluate(model: nn.Module, loader: Iterable) -> EvalResult:
    """Mean cross-entropy and accuracy of ``model`` in eval mode, with every prediction."""
    model.eval()
    meter = RunningMean()
    predictions, targets = [], []
    with no_grad():
        for images, labels in loader:
            logits = model(images)
            loss = F.cross_entropy(logits, labels).item()
            pred = logits.numpy().argmax(1)
            y = labels.numpy()
            meter.update(loss, int((pred == y).sum()), y.shape[0])
            predictions.append(pred)
            targets.append(y)
    return EvalResult(meter.loss, meter.accuracy, _concat(predictions), _concat(targets))


def _concat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
