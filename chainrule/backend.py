"""Array backend: which array module holds a tensor's data, dtypes, devices and random numbers.

Every operator reaches arrays through ``array_module(*arrays)`` so that the same code runs on
NumPy today and on CuPy later. CuPy is imported lazily, here and nowhere else.
"""

from __future__ import annotations

import builtins as _builtins
import numbers
from typing import Any

import numpy as np

_ndarray = np.ndarray

# ----------------------------------------------------------------------------------------------
# array modules


def _cupy():
    try:
        import cupy  # noqa: PLC0415  (optional, imported only when a GPU array shows up)
    except ImportError:  # pragma: no cover - no GPU on the CI machines
        return None
    return cupy


def array_module(*arrays: Any):
    """Return the array module (``numpy`` or ``cupy``) of the given arrays.

    NumPy unless one of them is a CuPy array; mixing is left to the module to reject.
    """
    for a in arrays:
        if type(a) is _ndarray:  # the common case, checked first because it is cheap
            continue
        if type(a).__module__.startswith("cupy"):
            cp = _cupy()
            if cp is not None:
                return cp
    return np


# ----------------------------------------------------------------------------------------------
# dtypes


class dtype:
    """A tensor element type with PyTorch's name (``chainrule.float32``)."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "category")

    def __init__(self, name: str, np_dtype: Any, category: _builtins.int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == 2
        self.is_signed = self.np.kind in "if"
        self.itemsize = self.np.itemsize
        # 0 bool, 1 integer, 2 floating: the order of PyTorch's type-promotion categories
        self.category = category

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    def __reduce__(self):  # dtypes are singletons; copying or pickling keeps identity
        return (_dtype_by_name, (self.name,))


float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
int8 = dtype("int8", np.int8, 1)
uint8 = dtype("uint8", np.uint8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
bool_ = dtype("bool", np.bool_, 0)

half, float, double = float16, float32, float64  # noqa: A001  (PyTorch's aliases)
short, int, long = int16, int32, int64  # noqa: A001

_ALL = (float16, float32, float64, int8, uint8, int16, int32, int64, bool_)
_BY_NP = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


_default_float = float32


def get_default_dtype() -> dtype:
    return _default_float


def set_default_dtype(d: dtype) -> None:
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point or d is float16:
        raise TypeError(f"only float32 and float64 can be the default dtype, got {d}")
    _default_float = d


def to_dtype(d: Any) -> dtype:
    """Turn a chainrule dtype, a NumPy dtype, a Python type or a name into a chainrule dtype."""
    if isinstance(d, dtype):
        return d
    if d is builtins_float:
        return _default_float
    if d is builtins_int:
        return int64
    if d is builtins_bool:
        return bool_
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    try:
        nd = np.dtype(d)
    except TypeError:
        nd = None
    if nd is not None and nd in _BY_NP:
        return _BY_NP[nd]
    raise TypeError(f"unsupported dtype {d!r}; expected one of {', '.join(x.name for x in _ALL)}")


def from_numpy_dtype(nd) -> dtype:
    try:
        return _BY_NP[np.dtype(nd)]
    except KeyError:
        raise TypeError(
            f"can't convert an array of type {np.dtype(nd)}; the supported types are: "
            + ", ".join(x.name for x in _ALL)
        ) from None


builtins_float, builtins_int, builtins_bool = _builtins.float, _builtins.int, _builtins.bool


def scalar_dtype(value: Any) -> dtype:
    """The dtype PyTorch gives a bare Python number."""
    if isinstance(value, (_builtins.bool, np.bool_)):
        return bool_
    if isinstance(value, numbers.Integral):
        return int64
    if isinstance(value, numbers.Real):
        return _default_float
    raise TypeError(f"expected a number, got {type(value).__name__}")


def promote_types(a: dtype, b: dtype) -> dtype:
    # across categories the higher one wins as it is (float32 with int64 stays float32, PyTorch's
    # rule; NumPy would widen to float64); within a category NumPy's rule is PyTorch's
    if a.category != b.category:
        return a if a.category > b.category else b
    return _BY_NP[np.promote_types(a.np, b.np)]


def result_type(*operands) -> dtype:
    """PyTorch's type promotion over tensors (objects with ``dtype`` and ``ndim``) and numbers.

    Categories rank bool < integer < floating. Dimensioned tensors decide within a category;
    zero-dimensional tensors only when they are of a higher category; Python numbers only when
    of a higher category still, and then with the default dtype of that category.
    """
    dims, zero_dims, scalars = [], [], []
    for op in operands:
        if isinstance(op, numbers.Number) or isinstance(op, np.generic):
            scalars.append(scalar_dtype(op.item() if isinstance(op, np.generic) else op))
        elif op.ndim == 0:
            zero_dims.append(op.dtype)
        else:
            dims.append(op.dtype)

    def fold(ds):
        out = ds[0]
        for d in ds[1:]:
            out = promote_types(out, d)
        return out

    result = fold(dims) if dims else None
    if zero_dims:
        z = fold(zero_dims)
        if result is None or z.category > result.category:
            result = z
    if scalars:
        s = max(scalars, key=lambda d: d.category)
        if result is None or s.category > result.category:
            result = s
    if result is None:
        raise TypeError("result_type() needs at least one tensor or number")
    return result


# ----------------------------------------------------------------------------------------------
# devices


class device:
    """Where a tensor lives, as ``torch.device``: ``device('cuda', 0)``, ``device('cuda:0')``.

    Only ``'cpu'`` runs today; other types can be named (scripts build them before asking
    whether they are available) but a tensor cannot be put there. Used as a context manager,
    it is the default device of the factories inside the ``with`` block.
    """

    __slots__ = ("type", "index", "_previous")
    type: str
    index: _builtins.int | None
    _previous: device | None

    def __init__(self, type: Any = "cpu", index: _builtins.int | None = None):  # noqa: A002 (PyTorch's name)
        if isinstance(type, device):
            if index is not None:
                raise RuntimeError("device(): a device object cannot be combined with an index")
            type, index = type.type, type.index
        elif isinstance(type, _builtins.int) and not isinstance(type, _builtins.bool):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        elif not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments: got {_builtins.type(type).__name__}")
        else:
            spec = type
            if ":" in spec:
                if index is not None:
                    raise RuntimeError(
                        f"type (string) must not include an index because index was passed explicitly: {spec}")
                spec, idx = spec.split(":", 1)
                if not idx.isdigit():
                    raise RuntimeError(f"Invalid device string: '{type}'")
                index = _builtins.int(idx)
            if spec not in DEVICE_TYPES:
                if spec.strip() in DEVICE_TYPES:
                    raise RuntimeError(f"Invalid device string: '{type}'")
                raise RuntimeError(
                    f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: {spec}")
            type = spec
        if index is not None:
            if isinstance(index, _builtins.bool) or not isinstance(index, _builtins.int):
                raise TypeError(
                    f"device(): argument 'index' (position 2) must be int, not {_builtins.type(index).__name__}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self.type = type
        self.index = index
        self._previous = None

    def __eq__(self, other: object) -> bool:
        # as torch.device: equal to another device of the same type and index, never to a string
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> _builtins.int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else (
            f"device(type='{self.type}', index={self.index})")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self) -> device:
        self._previous = _default_device
        set_default_device(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        set_default_device(self._previous)


# the device types torch.device accepts, in PyTorch's order (its error message lists them)
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
                "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")

CPU = device("cpu")
_Device = device

CUDA_UNAVAILABLE = (
    "CUDA is not available: chainrule runs on the CPU (NumPy); CUDA support needs the CuPy backend, "
    "which is not available yet. Use device='cpu'.")


class CudaUnavailableError(AssertionError, RuntimeError):
    """Raised where PyTorch built without CUDA raises ``AssertionError("Torch not compiled with CUDA
    enabled")``; also a RuntimeError, which is what a missing device is elsewhere in chainrule."""


# ---- accelerators: a GPU array backend registers itself here (the CuPy backend will) ------------
_accelerators: dict[str, Any] = {}


def accelerator_device_count(device_type: str = "cuda") -> _builtins.int:
    """How many devices of ``device_type`` a registered array backend can run on (0 without one).

    ``chainrule.cuda.is_available()`` and ``chainrule.accelerator`` ask this; no GPU backend
    exists yet, so it answers 0 until one registers an object with a ``device_count()`` method.
    """
    acc = _accelerators.get(device_type)
    return 0 if acc is None else _builtins.int(acc.device_count())


def _unavailable(dev: device) -> RuntimeError:
    if dev.type == "cuda":
        return CudaUnavailableError(CUDA_UNAVAILABLE)
    return RuntimeError(
        f"device {dev} is not available: chainrule runs on the CPU (NumPy) in this version")


_default_device: device | None = None


def check_device(d: Any) -> device:
    """Validate a ``device=`` argument (``None`` means the default device); only the CPU runs."""
    if d is None:
        if _default_device is None:
            return CPU
        d = _default_device
    dev = d if _builtins.type(d) is device else device(d)
    if dev.type != "cpu":
        raise _unavailable(dev)
    return dev


def set_default_device(device: Any) -> None:  # PyTorch's keyword name; the class is _Device here
    """PyTorch's ``torch.set_default_device``: where factories put tensors when ``device=`` is not
    given. ``None`` restores the CPU. Naming ``'cuda'`` is allowed; the factories then raise."""
    global _default_device
    if device is None:
        _default_device = None
        return
    dev = device if isinstance(device, _Device) else _Device(device)
    _default_device = None if dev == CPU else dev


def get_default_device() -> device:
    """The device factories use when ``device=`` is not given (``device(type='cpu')`` by default)."""
    return CPU if _default_device is None else _default_device


# ---- determinism flags (scripts set them; NumPy kernels are deterministic already) ---------------
_deterministic = False
_deterministic_warn_only = False


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """PyTorch's flag. chainrule's kernels give the same result run after run in any case, so the
    flag is recorded (and reported by ``are_deterministic_algorithms_enabled``) and changes nothing."""
    global _deterministic, _deterministic_warn_only
    for name, pos, v in (("mode", 1, mode), ("warn_only", 2, warn_only)):
        if not isinstance(v, _builtins.bool):
            raise TypeError(
                f"use_deterministic_algorithms(): argument '{name}' (position {pos}) must be bool, "
                f"not {_builtins.type(v).__name__}")
    _deterministic, _deterministic_warn_only = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _deterministic_warn_only


# ----------------------------------------------------------------------------------------------
# random numbers


class Generator:
    """A stream of random numbers (PCG64), seeded like ``torch.Generator``."""

    def __init__(self, device: Any = "cpu"):
        check_device(device)
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: _builtins.int) -> Generator:
        seed = _builtins.int(seed)
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed & 0xFFFFFFFFFFFFFFFF))
        return self

    def initial_seed(self) -> _builtins.int:
        return self._seed

    def seed(self) -> _builtins.int:
        entropy = np.random.SeedSequence().entropy  # drawn from the OS: an int when none is given
        assert isinstance(entropy, _builtins.int)
        s = entropy & 0x7FFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def get_state(self) -> dict[str, Any]:
        return dict(self._rng.bit_generator.state)  # NumPy builds a fresh dict on every read

    def set_state(self, state: dict[str, Any]) -> Generator:
        self._rng.bit_generator.state = state
        return self

    @property
    def numpy(self) -> np.random.Generator:
        return self._rng


default_generator = Generator()


def manual_seed(seed: _builtins.int) -> Generator:
    """Seed the global generator used by ``rand``, ``randn``, initialisers and dropout."""
    return default_generator.manual_seed(seed)


def rng(generator: Generator | None = None) -> np.random.Generator:
    return (generator or default_generator).numpy


# ----------------------------------------------------------------------------------------------
# threads


def _default_threads() -> _builtins.int:
    import os

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and _builtins.int(value) > 0:
            return _builtins.int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_num_threads = _default_threads()


def get_num_threads() -> _builtins.int:
    """The thread count last given to ``set_num_threads`` (at start: OMP_NUM_THREADS or the cores).

    chainrule's convolutions run their batch chunks on this many threads (``_parallel``), with
    NumPy's BLAS held to one thread meanwhile; elsewhere the threads are BLAS's.
    """
    return _num_threads


def set_num_threads(n: _builtins.int) -> None:
    """PyTorch's ``torch.set_num_threads``: the threads chainrule's own parallel loops use, and
    the limit on NumPy's BLAS (threadpoolctl)."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    _num_threads = _builtins.int(n)
    # on use: kernels import this module (a cycle); works from any thread (threadpoolctl's setter: main thread only)
    from .kernels import _blas_threads

    _blas_threads.set_threads(_num_threads)
