"""``chainrule.random``: the default generator's seed and state, as ``torch.random``.

``manual_seed``, ``seed``, ``initial_seed``, ``get_rng_state``/``set_rng_state`` act on
``chainrule.default_generator``; ``fork_rng()`` runs a block and then restores the generator's
state, so draws inside it leave the surrounding stream unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .backend import Generator, default_generator, manual_seed

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng", "default_generator",
           "Generator"]


def seed() -> int:
    """Seed the default generator non-deterministically; return the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    """The default generator's state (pass it to ``set_rng_state`` to replay the draws)."""
    return default_generator.get_state()


def set_rng_state(new_state: dict) -> None:
    """Restore a state returned by ``get_rng_state``."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda") -> Iterator[None]:
    """Run the block, then put the default generator back in the state it had before."""
    if not enabled:
        yield
        return
    state = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(state)



