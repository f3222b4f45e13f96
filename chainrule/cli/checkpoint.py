"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is one safetensors file written by ``chainrule.save`` (atomically: a crash during
the write leaves the previous file intact). It holds

* ``config``: the run's settings (model, dataset, optimiser, learning rate, seed ...);
* ``epoch``: how many epochs are finished;
* ``model``, ``optimizer``, ``scheduler``: their ``state_dict()``s;
* ``rng``: the states of the global generator (dropout) and of the data generators (shuffling,
  augmentation), so the next epoch draws the same batches as an uninterrupted run would;
* ``history``: the per-epoch metrics, and ``best``: the best epoch so far.
"""

from __future__ import annotations

import os
from typing import Any

from .. import backend
from ..serialization import load, save

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


def load_checkpoint(path: str) -> dict[str, Any]:
    """Read a checkpoint written by ``chainrule train``, with a clear error for anything else."""
    if os.path.isdir(path):
        candidate = os.path.join(path, LAST)
        if not os.path.isfile(candidate):
            raise FileNotFoundError(f"'{path}' is a directory without a {LAST}")
        path = candidate
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"'{path}' is not a training checkpoint of 'chainrule train' (expected format {FORMAT}); "
                         "a plain state dict can be loaded with model.load_state_dict(chainrule.load(path))")
    return state


def restore(state: dict[str, Any], *, model, optimizer=None, scheduler=None, generators: dict | None = None) -> None:
    """Put the saved states back into freshly built objects (those given)."""
    model.load_state_dict(state["model"])
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    rng = state.get("rng") or {}
    if generators is not None:
        if "global" in rng:
            backend.default_generator.set_state(rng["global"])
        for name, g in generators.items():
            if name in rng:
                g.set_state(rng[name])
