"""``Tensor``: an array of the backend, plus what autograd needs to know about it.

This file holds the data side of a tensor: attributes, conversion, printing, hooks and the
entry to ``backward``. Operators (``+``, ``exp``, ``reshape``, in-place ``add_`` ...) are
defined in ``chainrule.ops`` and attached to the class there, so that imports point one way:
``ops`` knows ``Tensor``, ``Tensor`` does not know ``ops``.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from . import _tensor_str, backend
from .backend import from_numpy_dtype


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    ``requires_grad`` leaves accumulate gradients in ``.grad`` when ``backward`` runs; results of
    recorded operations carry the node that made them in ``grad_fn``.
    """

    __slots__ = ("_data", "_requires_grad", "grad_fn", "_output_nr", "_grad", "_version", "__dict__", "__weakref__")
    # rarely set, so class-level defaults instead of slots: creating a tensor stays cheap
    _base: Tensor | None = None  # the tensor a view was taken of (for in-place checks)
    # for a view made by indexing its base itself (x[i], basic indices): that index, so that an
    # in-place write through the view is recorded as a write into the base (PyTorch's CopySlices)
    _view_index: Any = None
    _accumulator = None  # weakref to the leaf's AccumulateGrad node
    _leaf_hooks: list | None = None
    _post_accumulate_hooks: list | None = None
    _retains_grad = False
    _name: str | None = None
    __array_priority__ = 1000  # numpy scalars/arrays defer to our reflected operators

    def __init__(self, *args: Any, dtype: Any = None, requires_grad: bool = False):
        # PyTorch's legacy constructor: Tensor(2, 3) is uninitialised, Tensor([1, 2]) is data.
        dt = backend.to_dtype(dtype) if dtype is not None else backend.get_default_dtype()
        if args and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            data = np.empty(tuple(int(a) for a in args), dtype=dt.np)
        elif len(args) == 1:
            data = np.asarray(args[0].numpy() if isinstance(args[0], Tensor) else args[0], dtype=dt.np)
        elif not args:
            data = np.empty((0,), dtype=dt.np)
        else:
            raise TypeError(f"Tensor() takes sizes or one sequence of data, got {args!r}")
        Tensor._init(self, data, False, None, 0, None)
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _init(t, data, requires_grad, grad_fn, output_nr, version) -> None:
        t._data = data
        t._requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._grad = None
        t._version = [0] if version is None else version

    @classmethod
    def _make(cls, data, requires_grad: bool = False, grad_fn=None, output_nr: int = 0,
              version: list | None = None) -> Tensor:
        """Wrap a raw array without copying or checking (the operators' fast path)."""
        t = object.__new__(cls)
        Tensor._init(t, data, requires_grad, grad_fn, output_nr, version)
        return t

    # ---- basic attributes -------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self) -> backend.dtype:
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> backend.device:
        return backend.CPU if backend.array_module(self._data) is np else backend.device("cuda")

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the elements are dense in row-major order, or in the order ``memory_format``
        names (``channels_last``: N, H, W, C for 4-d; ``channels_last_3d``: N, D, H, W, C for 5-d),
        read from the actual strides."""
        name = getattr(memory_format, "name", "contiguous_format")
        orders = {"channels_last": (4, (0, 2, 3, 1)), "channels_last_3d": (5, (0, 2, 3, 4, 1))}
        if name not in orders:
            return bool(self._data.flags.c_contiguous)
        ndim, order = orders[name]
        if self._data.ndim != ndim:
            return False
        shape, expected = self._data.shape, 1
        strides = [s // self._data.itemsize for s in self._data.strides]
        for d in reversed(order):
            if shape[d] != 1 and strides[d] != expected:
                return False
            expected *= shape[d]
        return True

    def stride(self, dim: int | None = None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    @property
    def T(self) -> Tensor:  # noqa: N802
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:  # noqa: N802
        return self.transpose(-2, -1)

    # ---- autograd attributes -----------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if self.grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a "
                    "computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach().")
            return
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got {self.dtype}")
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: expected {list(self.shape)}, "
                    f"got {list(value.shape)}")
        self._grad = value

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def _version_number(self) -> int:
        return self._version[0]

    def _bump_version(self) -> None:
        """Count one in-place write into this tensor's memory (shared with its views): the one
        place writes are recorded, so saved values can be checked and a graph capture sees them."""
        self._version[0] += 1

    @property
    def name(self) -> str | None:
        """An optional label, shown by ``chainrule.autograd.graph``."""
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        self._name = value

    @property
    def data(self) -> Tensor:
        """The same values, detached from the graph (shares memory, not the version counter)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    def _grad_accumulator(self):
        from .autograd.function import accumulator_of  # on use: autograd imports tensor (a cycle)

        return accumulator_of(self)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's memory and version counter, outside the graph."""
        return Tensor._make(self._data, False, None, 0, self._version)

    def detach_(self) -> Tensor:
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        ``gradient`` is the vector of the vector-Jacobian product (needed unless ``self`` has one
        element); intermediate values are freed afterwards unless ``retain_graph``.
        """
        from .autograd.engine import backward  # on use: autograd imports tensor (a cycle)

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` whenever the gradient with respect to this tensor is computed.

        The hook may return a new gradient to use in its place.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._leaf_hooks is None:
                self._leaf_hooks = []
            hooks = self._leaf_hooks
        else:
            fn = self.grad_fn
            if fn._pre_hooks is None:
                fn._pre_hooks = {}
            hooks = fn._pre_hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook) -> RemovableHandle:
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return RemovableHandle(self._post_accumulate_hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` of this non-leaf tensor after backward (leaves always keep it)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        from .autograd.function import accumulate_grad  # autograd imports tensor
        from .autograd.grad_mode import is_grad_enabled  # autograd imports tensor

        ref = weakref.ref(self)

        def keep(grad: Tensor) -> None:
            t = ref()
            if t is not None:  # backward runs with grad mode = create_graph
                accumulate_grad(t, grad, is_grad_enabled())

        self.register_hook(keep)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    # ---- conversion ----------------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        xp = backend.array_module(self._data)
        return self._data if xp is np else xp.asnumpy(self._data)

    def __array__(self, dtype=None, copy=None):
        # PyTorch's rule: np.asarray(t) shares memory, and refuses a tensor that requires grad
        a = self.numpy()
        if dtype is not None or copy:  # np.array(t) asks for copy=True and trusts the answer
            a = a.astype(a.dtype if dtype is None else dtype, copy=bool(copy))
        return a

    def __dlpack__(self, *, stream: int | None = None, max_version: tuple[int, int] | None = None,
                   dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> Any:
        """This tensor as a DLPack capsule, sharing memory: ``np.from_dlpack(t)``, ``torch.from_dlpack(t)``.

        As PyTorch: a tensor that requires grad is refused (the capsule cannot carry the graph).
        """
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        if stream is not None and type(stream) is not int:
            raise TypeError("stream must be ``int`` or ``none``")
        if backend.array_module(self._data) is np:
            if stream is not None and stream != -1:
                raise AssertionError("stream should be None on cpu.")
            stream = None
        data = self._data
        if not data.flags.writeable and (max_version is None or max_version[0] < 1) and copy is not False:
            data = data.copy()  # DLPack 0.x cannot mark memory read-only: export a copy instead
        return data.__dlpack__(stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self) -> tuple[int, int]:
        """``(device type, index)`` in DLPack's numbering: ``(1, 0)`` for the CPU, ``(2, i)`` for CUDA."""
        kind, index = self._data.__dlpack_device__()
        return int(kind), int(index)

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._data.shape[0]):
            yield self[i]

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (got {self._data.size} values)")
        return bool(self._data.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    __hash__ = object.__hash__

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A copy of the data (and of ``.grad``) as a new leaf; ``copy.deepcopy(model)`` relies on it."""
        if id(self) in memo:
            return memo[id(self)]
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment")
        out = type(self)._make(self._data.copy(), self._requires_grad)
        if self._grad is not None:
            out._grad = Tensor._make(self._grad._data.copy())
        memo[id(self)] = out
        # the leaf's AccumulateGrad belongs to the original: sharing it would send the copy's
        # gradients to the original while a graph of it is alive
        state = {k: v for k, v in self.__dict__.items() if k != "_accumulator"}
        if state:
            import copy

            out.__dict__.update(copy.deepcopy(state, memo))
        return out

    def __reduce_ex__(self, protocol):
        raise TypeError(
            "chainrule tensors are not pickled: use chainrule.save (safetensors) for weights")

    def __repr__(self) -> str:
        return _tensor_str.tensor_repr(self)

    def __format__(self, spec: str) -> str:
        return _tensor_str.tensor_format(self, spec)


class Size(tuple):
    """The shape of a tensor: a tuple that prints like PyTorch's ``torch.Size``."""

    def __repr__(self) -> str:
        return f"chainrule.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class RemovableHandle:
    """Returned by ``register_*hook``; ``remove()`` takes the hook out again."""

    def __init__(self, hooks: list, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def _wrap_dim(dim: int, ndim: int) -> int:
    """Turn a possibly negative ``dim`` into an index, with PyTorch's message when out of range."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n
