"""Lazy layers (PyTorch's ``torch.nn.modules.lazy``): the input size is read from the first input.

``nn.LazyLinear(10)`` is a ``Linear`` whose ``in_features`` is not given: its ``weight`` and
``bias`` are ``UninitializedParameter``\\ s until the first call, when ``initialize_parameters``
reads ``in_features`` from ``input.shape[-1]``, materialises the parameters and initialises them
with the eager layer's own ``reset_parameters`` (so with the same seed the weights equal those of
a ``Linear`` built at that moment). The module then *becomes* its eager class
(``type(m) is nn.Linear``, PyTorch's ``cls_to_become``), so ``model.apply(init_fn)`` after a dry
run sees ordinary layers. Until then:

- ``parameters()`` yields the uninitialised parameters (an optimiser can be built on them: they
  are the same objects afterwards; a step skips them, having no gradient); ``numel()`` or any
  operator on them raises a ValueError that says to run a dummy forward first;
- ``state_dict()`` holds them as they are; ``load_state_dict`` materialises them with the shapes
  of the checkpoint (the class changes at the next forward, which checks the input against them);
- ``repr`` shows the unknown size as 0: ``LazyLinear(in_features=0, out_features=10, bias=True)``.

Like PyTorch, ``LazyInstanceNorm*d`` default to ``affine=True, track_running_stats=True`` (unlike
``InstanceNorm*d``). Two departures from PyTorch, both where PyTorch fails: an unbatched input to a
lazy instance norm takes its channels from dim 0 (PyTorch reads dim 1 and then rejects the
input), and a convolution or normalisation loaded from a state dict learns its ``in_channels`` /
``num_features`` at the first forward, as ``LazyLinear`` does in PyTorch (PyTorch leaves 0).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ... import _factory, backend
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d

if TYPE_CHECKING:
    # what each mixin is combined with, so that its methods type-check against the module's API;
    # at run time the mixins derive from object and the concrete classes list the eager layer
    from ..module import Module as _ModuleBase
    from .conv import _ConvNd as _ConvBase
    from .normalization import _InstanceNorm as _InstanceNormBase
    from .normalization import _NormBase
else:
    _ModuleBase = _ConvBase = _NormBase = _InstanceNormBase = object


class LazyModuleMixin(_ModuleBase):
    """Mixin of modules whose parameters' shapes are inferred from the first input.

    A subclass puts ``UninitializedParameter``/``UninitializedBuffer`` objects in its registries
    and implements ``initialize_parameters(*args, **kwargs)``, which a forward pre-hook calls with
    the first call's arguments; afterwards the module's class becomes ``cls_to_become`` (if set).
    """

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def __setattr__(self, name: str, value: Any) -> None:
        # an UninitializedBuffer assigned to a new attribute is registered, as PyTorch's (a Buffer there)
        if isinstance(value, UninitializedBuffer) and name not in self.__dict__.get("_buffers", (name,)):
            for registry in (self.__dict__, self.__dict__["_parameters"], self.__dict__["_modules"]):
                registry.pop(name, None)
            self.register_buffer(name, value, persistent=value.persistent)
        else:
            super().__setattr__(name, value)

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Materialise and initialise the parameters for an input like ``args``."""
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def has_uninitialized_params(self) -> bool:
        """Whether some parameter or buffer of this module (not its children) is still uninitialised."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(), self._buffers.values()))

    def _infer_parameters(self, module: Any, args: tuple, kwargs: dict | None = None) -> None:
        """The forward pre-hook: initialise from the first input, then become ``cls_to_become``."""
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _lazy_registries(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The parameter and buffer registries, where uninitialised tensors sit until materialised."""
        return self._parameters, self._buffers

    def _lazy_ready(self) -> bool:
        """Whether construction is over (the eager ``__init__`` calls ``reset_parameters`` too early)."""
        return "_initialize_hook" in self.__dict__

    def _materialize_and_reset(self, shapes: Mapping[str, tuple]) -> None:
        """Materialise the named uninitialised tensors and run the eager ``reset_parameters``.

        Tensors that a partial ``load_state_dict`` already filled keep their loaded values.
        """
        with no_grad():
            loaded = {}
            for name, shape in shapes.items():
                t = getattr(self, name)
                if is_lazy(t):
                    t.materialize(shape)
                elif t is not None:
                    loaded[name] = t.clone()
            self.reset_parameters()
            for name, value in loaded.items():
                getattr(self, name).copy_(value)

    # ---- state dicts and conversions of uninitialised tensors ---------------------------------
    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        # uninitialised tensors are stored as they are (detach() would have to read them)
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars or is_lazy(param) else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars or is_lazy(buf) else buf.detach()
        if self._has_extra_state():
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def _load_from_state_dict(self, state_dict: Mapping, prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list, unexpected_keys: list, error_msgs: list,
                              assign: bool = False) -> None:
        # an uninitialised tensor takes the checkpoint's shape; one loaded from an uninitialised
        # entry stays uninitialised (nothing to copy), as in PyTorch
        still_lazy = []
        for registry in self._lazy_registries():
            for name, t in registry.items():
                key = prefix + name
                if not is_lazy(t) or key not in state_dict:
                    continue
                value = state_dict[key]
                if is_lazy(value):
                    still_lazy.append((registry, name, t))
                elif isinstance(value, Tensor):
                    with no_grad():
                        t.materialize(value.shape)
        if not still_lazy:
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                          unexpected_keys, error_msgs, assign)
            return
        skip = {prefix + name for _, name, _ in still_lazy}
        for registry, name, _ in still_lazy:
            registry[name] = None
        try:
            super()._load_from_state_dict({k: v for k, v in state_dict.items() if k not in skip}, prefix,
                                          local_metadata, strict, missing_keys, unexpected_keys,
                                          error_msgs, assign)
        finally:
            for registry, name, t in still_lazy:
                registry[name] = t

    def _apply(self, fn: Any) -> Any:
        # module.to(dtype) before the first call changes the dtype the tensors will materialise with
        hidden = []
        for registry in self._lazy_registries():
            for name, t in registry.items():
                if is_lazy(t):
                    with no_grad():
                        t.data = fn(t._empty())
                    hidden.append((registry, name, t))
        for registry, name, _ in hidden:
            registry[name] = None
        try:
            return super()._apply(fn)
        finally:
            for registry, name, t in hidden:
                registry[name] = t

    def _replicate_for_data_parallel(self) -> None:
        raise RuntimeError("Modules with uninitialized parameters can't be used with `DataParallel`. "
                           "Run a dummy forward pass to correctly initialize the modules")


# ---- linear ---------------------------------------------------------------------------------------
class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` whose ``in_features`` is inferred from ``input.shape[-1]`` at the first call.

    Then ``weight`` (out_features, in_features) and ``bias`` are initialised as ``Linear``'s:
    U(-1/sqrt(in_features), 1/sqrt(in_features)), and the module becomes a ``Linear``.
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(0, out_features, False, device, dtype)  # validates out_features and dtype
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if self._lazy_ready() and not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        """Infer ``in_features`` from ``input.shape[-1]``, materialise and initialise the parameters."""
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim == 0:
            raise RuntimeError(f"{type(self).__name__}: expected an input of at least 1 dimension "
                               f"(..., in_features), got a 0-d tensor")
        if self.has_uninitialized_params():
            self.in_features = int(input.shape[-1])
            self._materialize_and_reset({"weight": (self.out_features, self.in_features),
                                         "bias": (self.out_features,)})
        if self.in_features == 0:  # materialised by load_state_dict
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(f"The in_features inferred from input: {input.shape[-1]} is not equal "
                                     f"to in_features from self.weight: {self.weight.shape[-1]}")
            self.in_features = int(input.shape[-1])


# ---- convolutions ---------------------------------------------------------------------------------
class _LazyConvXdMixin(LazyModuleMixin, _ConvBase):
    """``in_channels`` from the first input's channel axis (dim 1, or dim 0 when unbatched)."""

    def _lazy_conv_init(self, out_channels: int, bias: bool, device: Any, dtype: Any) -> None:
        # the eager constructor ran with in_channels = groups (it insists on a positive number)
        self.in_channels = 0
        self.out_channels = out_channels
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if self._lazy_ready() and not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _get_in_channels(self, input: Tensor) -> int:
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor input, got {type(input).__name__}")
        unbatched = self._dims + 1
        if input.ndim not in (unbatched, unbatched + 1):
            raise RuntimeError(f"Expected {unbatched}D (unbatched) or {unbatched + 1}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: {input.shape}")
        return int(input.shape[1] if input.ndim == unbatched + 1 else input.shape[0])

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        """Infer ``in_channels``, materialise ``weight``/``bias`` and initialise them as the eager layer."""
        channels = self._get_in_channels(input)
        if self.has_uninitialized_params():
            if channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            self.in_channels = channels
            k = tuple(self.kernel_size)
            if self.transposed:
                shape = (channels, self.out_channels // self.groups, *k)
            else:
                shape = (self.out_channels, channels // self.groups, *k)
            self._materialize_and_reset({"weight": shape, "bias": (self.out_channels,)})
        if self.in_channels == 0:  # materialised by load_state_dict
            w = self.weight.shape
            expected = w[0] if self.transposed else w[1] * self.groups
            if channels != expected:
                raise RuntimeError(f"{type(self).__name__}: the input has {channels} channels but the "
                                   f"loaded weight of shape {list(w)} expects {expected}")
            self.in_channels = channels


class _LazyConv(_LazyConvXdMixin):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(groups, out_channels, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device, dtype)
        self._lazy_conv_init(out_channels, bias, device, dtype)


class _LazyConvTranspose(_LazyConvXdMixin):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(groups, out_channels, kernel_size, stride, padding, output_padding, groups, False,
                         dilation, padding_mode, device, dtype)
        self._lazy_conv_init(out_channels, bias, device, dtype)


class LazyConv1d(_LazyConv, Conv1d):
    """``Conv1d`` whose ``in_channels`` is inferred from ``input.size(1)`` (``size(0)`` unbatched)."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """``Conv2d`` whose ``in_channels`` is inferred from ``input.size(1)`` (``size(0)`` unbatched)."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    """``Conv3d`` whose ``in_channels`` is inferred from ``input.size(1)`` (``size(0)`` unbatched)."""

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """``ConvTranspose1d`` whose ``in_channels`` is inferred from ``input.size(1)``."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """``ConvTranspose2d`` whose ``in_channels`` is inferred from ``input.size(1)``."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """``ConvTranspose3d`` whose ``in_channels`` is inferred from ``input.size(1)``."""

    cls_to_become = ConvTranspose3d


# ---- normalisation --------------------------------------------------------------------------------
class _LazyNormBase(LazyModuleMixin, _NormBase):
    """``num_features`` from the first input's channel axis; parameters and running statistics
    materialised then and reset as the eager layer's (weight 1, bias 0, mean 0, var 1)."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        # the eager constructor runs without tensors (and with a stand-in num_features: it insists on
        # a positive number); it validates eps, momentum and dtype
        super().__init__(1, eps, momentum, False, False, device, dtype, bias=False)
        self.num_features = 0
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if self.affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if self.track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = _factory.tensor(0, dtype=backend.int64)

    def reset_parameters(self) -> None:
        if self._lazy_ready() and not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _feature_dim(self, input: Tensor) -> int:
        return 1

    def initialize_parameters(self, input: Tensor) -> None:
        """Infer ``num_features``, materialise and reset the parameters and running statistics."""
        self._check_input_dim(input)
        channels = int(input.shape[self._feature_dim(input)])
        if self.has_uninitialized_params():
            self.num_features = channels
            shape = (channels,)
            self._materialize_and_reset({"weight": shape, "bias": shape, "running_mean": shape,
                                         "running_var": shape})
        if self.num_features == 0:  # materialised by load_state_dict, or nothing to materialise
            sized = [t for t in (self.weight, self.bias, self.running_mean, self.running_var) if t is not None]
            if sized and sized[0].shape[0] != channels:
                raise RuntimeError(f"{type(self).__name__}: the input has {channels} channels but the "
                                   f"loaded parameters have {sized[0].shape[0]}")
            if sized:
                self.num_features = channels


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """``BatchNorm1d`` whose ``num_features`` is inferred from ``input.size(1)``."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """``BatchNorm2d`` whose ``num_features`` is inferred from ``input.size(1)``."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """``BatchNorm3d`` whose ``num_features`` is inferred from ``input.size(1)``."""

    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyNormBase, _InstanceNormBase):
    def _feature_dim(self, input: Tensor) -> int:
        return 0 if input.ndim == self._no_batch_dim else 1


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """``InstanceNorm1d`` whose ``num_features`` is inferred from the channel axis of the first input.

    As in PyTorch the defaults are ``affine=True, track_running_stats=True`` (``InstanceNorm1d``'s
    are False).
    """

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """``InstanceNorm2d`` whose ``num_features`` is inferred from the channel axis of the first input
    (defaults ``affine=True, track_running_stats=True``, as in PyTorch)."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """``InstanceNorm3d`` whose ``num_features`` is inferred from the channel axis of the first input
    (defaults ``affine=True, track_running_stats=True``, as in PyTorch)."""

    cls_to_become = InstanceNorm3d


__all__ = ["LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]
