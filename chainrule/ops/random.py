"""Sampling with tensor parameters: ``normal(mean, std)`` in PyTorch's four overloads.

y = mean + std * z with z ~ N(0, 1) drawn from the generator (float64, then cast, so
``normal(0., 1., size, generator=g)`` draws what ``randn(size, generator=g)`` draws). As in
PyTorch the sample is not reparameterised: it has a ``grad_fn`` when ``mean`` or ``std``
requires grad, but the gradient it passes back to them is zero.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _factory, backend
from ..autograd.function import FunctionNode
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ._keywords import check_out_dtype, check_out_grad, write_out
from ._util import broadcast_error, torch_type_name


class NormalTensorTensor(FunctionNode):
    """y = mean + std * z for a fixed draw z; d y / d mean = d y / d std = 0 (PyTorch's convention)."""

    torch_name = "NormalBackward3"

    def __init__(self, z: np.ndarray, dtype: np.dtype, mean_first: bool, scalar):
        self.z, self.dtype, self.mean_first, self.scalar = z, dtype, mean_first, scalar

    def forward(self, *arrays):
        if len(arrays) == 2:
            mean, std = arrays
        elif self.mean_first:
            mean, std = arrays[0], self.scalar
        else:
            mean, std = self.scalar, arrays[0]
        self.inputs_meta = [(a.shape, backend.from_numpy_dtype(a.dtype)) for a in arrays]
        return np.asarray(mean + std * self.z).astype(self.dtype, copy=False)

    def backward(self, gy):
        grads = tuple(_factory.zeros(shape, dtype=dt) for shape, dt in self.inputs_meta)
        return grads if len(grads) > 1 else grads[0]


class NormalTensorFloat(NormalTensorTensor):
    torch_name = "NormalBackward1"


class NormalFloatTensor(NormalTensorTensor):
    torch_name = "NormalBackward2"


def _check_std(std) -> None:
    if isinstance(std, Tensor):
        if (std._data < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


def _float_tensor(t: Tensor) -> None:
    if t._data.dtype.kind != "f":
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{torch_type_name(t)}'")


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std^2), elementwise; ``mean`` and ``std`` broadcast against each other.

    Overloads (PyTorch's): ``normal(Tensor mean, Tensor std)``, ``normal(Tensor mean, float std=1)``,
    ``normal(float mean, Tensor std)`` and ``normal(float mean, float std, size)`` — the last also takes
    ``dtype``, ``device`` and ``requires_grad``; every form takes ``generator`` and ``out``.
    """
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mean_t and not std_t:
        for name, v in (("mean", mean), ("std", std)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"normal(): argument '{name}' must be Tensor or float, not {type(v).__name__}")
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: with a float mean and a float "
                            "std it needs size, e.g. normal(0.0, 1.0, size=(2, 3))")
        _check_std(std)
        if out is not None:
            return _factory._out(out, "normal", dtype, lambda dt: normal(mean, std, size, generator=generator,
                                                                         dtype=dt))
        shape = _factory._sizes((size,))
        dt = _factory._dt(dtype)
        if np.dtype(dt).kind != "f":
            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{_factory._type_name(dt)}'")
        return _factory.sample("normal", shape, dt, generator, (float(mean), float(std)), requires_grad, device)
    if size is not None or dtype is not None or requires_grad:
        raise TypeError("normal(): size, dtype and requires_grad are accepted only with a float mean and a float std; "
                        "with a tensor mean or std the result takes their shape and dtype")
    backend.check_device(device)
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    for t in tensors:
        _float_tensor(t)
    for name, v in (("mean", mean), ("std", std)):
        if not isinstance(v, Tensor) and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
            raise TypeError(f"normal(): argument '{name}' must be Tensor or float, not {type(v).__name__}")
    _check_std(std)
    if len(tensors) == 2:
        try:
            shape = np.broadcast_shapes(mean.shape, std.shape)
        except ValueError:
            raise broadcast_error(mean._data, std._data) from None
        dt = backend.result_type(mean, std).np
        node_cls, scalar = NormalTensorTensor, None
    else:
        shape, dt = tensors[0].shape, tensors[0]._data.dtype
        node_cls = NormalTensorFloat if mean_t else NormalFloatTensor
        scalar = float(std if mean_t else mean)
    z = backend.rng(generator).standard_normal(tuple(shape))
    node = node_cls(z, dt, mean_t, scalar)
    if out is None:
        return node.apply(*tensors)
    check_out_grad("normal", tuple(tensors), {}, out)
    if not isinstance(out, Tensor):
        raise TypeError(f"normal(): argument 'out' must be Tensor, not {type(out).__name__}")
    with no_grad():
        result = node.apply(*tensors)
    check_out_dtype("normal", "cast", result._data.dtype, out._data.dtype)
    return write_out(out, result._data)


__all__ = ["normal"]

TENSOR_METHODS: list[str] = []
