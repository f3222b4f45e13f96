"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from .. import backend
from ..tensor import Tensor

if TYPE_CHECKING:
    _TensorBase = Tensor  # the mixin is always combined with Tensor; at run time it derives from object
else:
    _TensorBase = object


def _storage(data: Tensor | None, requirement: str) -> tuple[Any, Any]:
    """The array and version counter to share with ``data``; a fresh empty array of the default
    dtype for None. ``requirement`` opens the TypeError for anything else."""
    if data is None:
        return np.empty((0,), dtype=backend.get_default_dtype().np), None
    if isinstance(data, Tensor):
        return data._data, data._version
    raise TypeError(f"{requirement}, got {type(data).__name__}")


class Parameter(Tensor):
    """A leaf tensor that, assigned to a ``Module`` attribute, joins ``module.parameters()``.

    ``Parameter(t)`` shares ``t``'s memory (and version counter); it requires grad by default.
    Results of operators on a Parameter are plain Tensors.
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        raw, version = _storage(data, "Parameter data must be a Tensor (e.g. chainrule.tensor(...))")
        Tensor._init(self, raw, False, None, 0, version)
        if requires_grad:
            self.requires_grad = True  # validates the dtype: only floating point can require grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def is_parameter(obj: Any) -> bool:
    return isinstance(obj, Parameter)


class Buffer(Tensor):
    """A tensor that, assigned to a ``Module`` attribute, is registered as a buffer (PyTorch 2.5+).

    ``persistent=False`` keeps it out of ``state_dict``.
    """

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True):
        raw, version = _storage(data, "Buffer data must be a Tensor")
        Tensor._init(self, raw, False, None, 0, version)
        self.persistent = persistent


# ---- lazy (uninitialised) parameters and buffers ---------------------------------------------------
_DATA_SLOT = Tensor.__dict__["_data"]  # the slot that holds a tensor's array, read past the guard below
_DATA_PROPERTY = Tensor.__dict__["data"]  # Tensor.data, whose setter the mixin's ``data`` reuses


def _uninitialized_use(cls: type, where: str) -> ValueError:
    return ValueError(
        f"Attempted to use an uninitialized parameter in {where}. This error happens when you are using a "
        f"`LazyModule` or explicitly manipulating `chainrule.nn.parameter.{cls.__name__}` objects. When using "
        "LazyModules Call `forward` with a dummy batch to initialize the parameters before calling "
        "chainrule functions")


def _entry_point(frame: Any) -> str:
    """The chainrule function the user called that led to ``frame`` (the outermost of the chain of
    chainrule frames above it), e.g. ``Tensor.numel`` or ``normal_``: the name the error reports."""
    names = []
    while frame is not None and frame.f_globals.get("__name__", "").startswith("chainrule."):
        names.append(getattr(frame.f_code, "co_qualname", frame.f_code.co_name))
        frame = frame.f_back
    plain = [n for n in names if "<" not in n]  # skip decorators' wrappers and lambdas
    return plain[-1] if plain else (names[-1] if names else "?")


class UninitializedTensorMixin(_TensorBase):
    """What ``UninitializedParameter`` and ``UninitializedBuffer`` share (PyTorch's mixin).

    The tensor holds an empty array whose dtype (and device) the materialised tensor takes.
    Its dtype, device, ``requires_grad``, ``grad``, ``size()``, ``data`` and casts (``to``,
    ``float``, ``double``, ``half``, ``long``, ``int``, ``short``, ``cpu``) can be read; ``shape``
    raises a RuntimeError and any operator that reaches its values raises a ValueError naming the
    operator, as PyTorch's ``__torch_function__`` guard does. ``materialize(shape)`` turns it, in place (same object,
    so optimisers built before the first forward keep working), into ``cls_to_become``.
    """

    __slots__ = ()
    cls_to_become: type = Tensor

    @property
    def _data(self):
        raise _uninitialized_use(type(self), _entry_point(sys._getframe(1)))

    @_data.setter
    def _data(self, value) -> None:
        _DATA_SLOT.__set__(self, value)

    def _empty(self) -> Tensor:
        """The placeholder array as a plain tensor (no data, the dtype to materialise with)."""
        return Tensor._make(_DATA_SLOT.__get__(self))

    def materialize(self, shape, device: Any = None, dtype: Any = None) -> None:
        """Give the tensor uninitialised memory of ``shape`` and make it a ``cls_to_become``.

        ``dtype``/``device`` default to the ones given at construction (or set by ``module.to``).
        """
        raw = _DATA_SLOT.__get__(self)
        backend.check_device(device)
        dims = (shape,) if isinstance(shape, int) else tuple(shape)
        if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in dims):
            raise TypeError(f"materialize(): shape must be a sequence of ints, got {shape!r}")
        if any(d < 0 for d in dims):
            raise RuntimeError(f"Trying to create tensor with negative dimension {min(dims)}: {list(dims)}")
        np_dtype = raw.dtype if dtype is None else backend.to_dtype(dtype).np
        xp = backend.array_module(raw)
        _DATA_SLOT.__set__(self, xp.empty(tuple(int(d) for d in dims), dtype=np_dtype))
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually happens "
            "in `load_state_dict` when trying to load an uninitialized parameter into an initialized one. "
            "Call `forward` to initialize the parameters before accessing their attributes.")

    @property
    def ndim(self) -> int:
        return self._empty().ndim

    @property
    def dtype(self) -> backend.dtype:
        return self._empty().dtype

    @property
    def device(self) -> backend.device:
        return self._empty().device

    @property
    def data(self) -> Tensor:
        return self._empty()

    @data.setter
    def data(self, value: Tensor) -> None:
        _DATA_PROPERTY.fset(self, value)

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and not self._empty().is_floating_point():
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True):
        raise _uninitialized_use(type(self), "Tensor.requires_grad_")

    def size(self, dim: int | None = None):
        return self._empty().size(dim)

    def is_floating_point(self) -> bool:
        return self._empty().is_floating_point()

    def is_complex(self) -> bool:
        return False

    def _cast(self, out: Tensor):
        return self if out._data is _DATA_SLOT.__get__(self) else out

    def to(self, *args: Any, **kwargs: Any):
        """A cast of the empty placeholder: itself when nothing changes, else a plain empty tensor."""
        return self._cast(self._empty().to(*args, **kwargs))

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)

    def long(self):
        return self.to(backend.int64)

    def int(self):
        return self.to(backend.int32)

    def short(self):
        return self.to(backend.int16)

    def cpu(self, memory_format: Any = None):
        return self

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to initialize the "
            "parameters before calling `module.share_memory()`.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __deepcopy__(self, memo: dict):
        if id(self) in memo:
            return memo[id(self)]
        out = type(self)(self._requires_grad, None, self.dtype)
        memo[id(self)] = out
        return out


def is_lazy(param: Any) -> TypeGuard[UninitializedTensorMixin]:
    """Whether ``param`` is an ``UninitializedParameter`` or ``UninitializedBuffer``."""
    return isinstance(param, UninitializedTensorMixin)


def _placeholder(device: Any, dtype: Any) -> Any:
    backend.check_device(device)
    dt = backend.to_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    return np.empty((0,), dtype=dt.np)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A ``Parameter`` whose shape is not known yet (a lazy module's weight before its first call).

    Only its dtype, device and ``requires_grad`` are fixed; the lazy module calls
    ``materialize(shape)`` when the first input shows the shape, and the object becomes a
    ``Parameter`` (the same object: references held elsewhere stay valid).
    """

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        Tensor._init(self, _placeholder(device, dtype), False, None, 0, None)
        self.requires_grad = requires_grad


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet; ``materialize(shape)`` makes it a plain ``Tensor``.

    Register it with ``register_buffer`` (or, in a lazy module, by assigning it to an attribute);
    ``persistent=False`` keeps it out of ``state_dict``.
    """

    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None,
                 persistent: bool = True) -> None:
        Tensor._init(self, _placeholder(device, dtype), False, None, 0, None)
        self.requires_grad = requires_grad
        self.persistent = persistent
