"""``chainrule.cuda``: PyTorch's ``torch.cuda`` queries, answered truthfully on a CPU-only build.

chainrule has no GPU backend yet (a CuPy one is planned), so ``is_available()`` is False and
``device_count()`` is 0: both ask ``chainrule.backend`` how many CUDA devices a registered array
backend can run on, and will tell the truth once one exists. Every other function does what
PyTorch's CPU-only build does: the seeding and cache functions and the memory counters are
silent no-ops (scripts call them unconditionally), while those that need a device
(``current_device``, ``synchronize``, ``get_device_name`` ...) raise ``AssertionError`` (also a
``RuntimeError``) with a message that says why.
"""

from __future__ import annotations

from typing import Any

from . import backend


def _require() -> None:
    """Raise PyTorch's CPU-build error; a CUDA backend will replace the functions that call this."""
    if not is_available():
        raise backend.CudaUnavailableError(backend.CUDA_UNAVAILABLE)


def is_available() -> bool:
    """True when a CUDA array backend is present and sees a GPU (never, in this version)."""
    return backend.accelerator_device_count("cuda") > 0


def device_count() -> int:
    """Number of usable CUDA devices (0 in this version)."""
    return backend.accelerator_device_count("cuda")


def is_initialized() -> bool:
    return False


def init() -> None:
    _require()


def current_device() -> int:
    _require()
    return 0


def set_device(device: Any) -> None:
    _require()


def synchronize(device: Any = None) -> None:
    _require()


def get_device_name(device: Any = None) -> str:
    _require()
    return ""


def get_device_capability(device: Any = None) -> tuple[int, int]:
    _require()
    return (0, 0)


def get_device_properties(device: Any = None) -> Any:
    _require()


def mem_get_info(device: Any = None) -> tuple[int, int]:
    _require()
    return (0, 0)


def get_arch_list() -> list[str]:
    return []


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


# ---- random numbers: PyTorch records the seed for a CUDA generator that may appear later; with no
# CUDA backend there is nothing to seed, so these are no-ops as on PyTorch's CPU build ------------


def manual_seed(seed: int) -> None:
    """Seed the current CUDA generator (no-op without CUDA; ``chainrule.manual_seed`` seeds the CPU)."""
    int(seed)  # validates as PyTorch does (a non-number raises)


def manual_seed_all(seed: int) -> None:
    int(seed)


def seed() -> None:
    """Seed the CUDA generator from entropy (no-op without CUDA)."""


def seed_all() -> None:
    """Seed every CUDA generator from entropy (no-op without CUDA)."""


def get_rng_state(device: Any = "cuda") -> Any:
    _require()


def get_rng_state_all() -> list:
    return []


def set_rng_state_all(new_states: list) -> None:
    for _ in new_states:
        _require()


# ---- memory: nothing is allocated on a GPU, so the counters are 0 --------------------------------


def empty_cache() -> None:
    """Release cached GPU memory (no-op without CUDA)."""


def memory_allocated(device: Any = None) -> int:
    return 0


def max_memory_allocated(device: Any = None) -> int:
    return 0


def memory_reserved(device: Any = None) -> int:
    return 0


def max_memory_reserved(device: Any = None) -> int:
    return 0


def memory_stats(device: Any = None) -> dict:
    return {}


def reset_peak_memory_stats(device: Any = None) -> None:
    _require()


def reset_max_memory_allocated(device: Any = None) -> None:
    _require()
