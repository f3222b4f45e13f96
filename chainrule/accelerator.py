"""``chainrule.accelerator``: PyTorch's device-agnostic accelerator queries.

The CPU is not an accelerator, so with no GPU backend ``is_available()`` is False,
``current_accelerator()`` is None and ``device_count()`` is 0; the functions that need an
accelerator raise PyTorch's ``RuntimeError``. Tutorials pick a device with
``acc.type if (acc := chainrule.accelerator.current_accelerator()) else "cpu"``.
"""

from __future__ import annotations

from typing import Any

from . import backend

_NONE = "Cannot access accelerator device when none is available."


def _types() -> list[str]:
    return [t for t in backend._accelerators if backend.accelerator_device_count(t) > 0]


def is_available() -> bool:
    return bool(_types())


def device_count() -> int:
    types = _types()
    return backend.accelerator_device_count(types[0]) if types else 0


def current_accelerator(check_available: bool = False) -> backend.device | None:
    """The accelerator's device type (index-less), or None when there is none."""
    types = _types() if check_available else list(backend._accelerators)
    return backend.device(types[0]) if types else None


def current_device_index() -> int:
    if not is_available():
        raise RuntimeError(_NONE)
    return 0


def set_device_index(device: Any) -> None:
    if not is_available():
        raise RuntimeError(_NONE)


def synchronize(device: Any = None) -> None:
    if not is_available():
        raise RuntimeError(_NONE)
