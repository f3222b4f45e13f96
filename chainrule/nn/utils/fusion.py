"""Folding an inference-mode batch norm into the convolution or linear layer before it.

In eval mode a batch norm is a fixed per-channel affine map, y = gamma (z - mu) / sigma + beta
with sigma = sqrt(running_var + eps). Applied to z = W x + b it gives

    y = W' x + b',   W' = (gamma / sigma) W   (row o of W scaled by gamma_o / sigma_o),
                     b' = gamma (b - mu) / sigma + beta,

one layer instead of two. A convolution's weight is (out, in / groups, *k): output channel o
is its axis 0. A transposed convolution's weight is (in, out / groups, *k): output channel
o = g * (out / groups) + j lives in group g's input rows at column j, so the scale is applied
per group along axis 1. ``fuse_bn`` folds every such pair found in the ``Sequential``
containers of a model (nested ones too) into an eval-mode copy; the model itself is untouched.
"""

from __future__ import annotations

import copy

from ..._factory import randn
from ...autograd.grad_mode import no_grad
from ...ops.elementwise import rsqrt
from ...tensor import Tensor
from ..layers.container import Sequential
from ..layers.conv import Conv2d, _Conv, _ConvTranspose
from ..layers.linear import Identity, Linear
from ..layers.normalization import _BatchNorm
from ..layers.wsconv import WSConv2d
from ..module import Module
from ..parameter import Parameter


def _bn_terms(bn_rm: Tensor, bn_rv: Tensor, bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None):
    """scale = gamma / sqrt(var + eps) and beta, with the identity for a missing gamma or beta."""
    scale = rsqrt(bn_rv + float(bn_eps))
    if bn_w is not None:
        scale = scale * bn_w
    beta = bn_b if bn_b is not None else bn_rm * 0.0
    return scale, beta


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor, bn_eps: float,
                         bn_w: Tensor | None, bn_b: Tensor | None, transpose: bool = False,
                         *, groups: int = 1) -> tuple[Parameter, Parameter]:
    """The weight and bias of the convolution that equals ``conv`` followed by the frozen batch norm.

    ``transpose=True`` for a transposed convolution (weight (in, out / groups, *k)); ``groups``
    is only needed then, to find each output channel's column.
    """
    dtype = conv_w.dtype
    with no_grad():
        scale, beta = _bn_terms(bn_rm, bn_rv, bn_eps, bn_w, bn_b)
        k = (1,) * (conv_w.ndim - 2)
        if not transpose:
            w = conv_w * scale.reshape((-1, 1) + k)
        else:
            in_ch, out_per_group = conv_w.shape[0], conv_w.shape[1]
            grouped = conv_w.reshape((groups, in_ch // groups, out_per_group) + tuple(conv_w.shape[2:]))
            w = (grouped * scale.reshape((groups, 1, out_per_group) + k)).reshape(tuple(conv_w.shape))
        b = conv_b if conv_b is not None else bn_rm * 0.0
        b = (b - bn_rm) * scale + beta
    return (Parameter(w.to(dtype).detach(), conv_w.requires_grad),
            Parameter(b.to(dtype).detach(), conv_w.requires_grad if conv_b is None else conv_b.requires_grad))


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                           bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None) -> tuple[Parameter, Parameter]:
    """The weight and bias of the linear layer that equals ``linear`` followed by the frozen batch norm
    (a batch norm over the linear layer's output features, or over a single feature): a linear
    layer is a convolution without kernel axes."""
    return fuse_conv_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)


def _check_pair(layer: Module, bn: Module, out_features: int, what: str) -> None:
    if layer.training or bn.training:
        raise RuntimeError("Fusion only for eval! Call .eval() on both modules first (batch statistics "
                           "in training mode cannot be folded into weights)")
    if bn.running_mean is None or bn.running_var is None:
        raise RuntimeError(f"cannot fuse {type(bn).__name__} without running statistics "
                           "(track_running_stats=False normalises with batch statistics)")
    if bn.num_features != out_features and not (what == "linear" and bn.num_features == 1):
        raise RuntimeError(f"cannot fuse: the {what} layer has {out_features} outputs but the batch norm "
                           f"normalises {bn.num_features} features")


def fuse_conv_bn_eval(conv: Module, bn: Module, transpose: bool = False) -> Module:
    """A copy of ``conv`` (eval mode) whose output equals ``bn(conv(x))`` in eval mode."""
    _check_pair(conv, bn, conv.out_channels, "convolution")
    fused = _plain_conv(conv) if isinstance(conv, WSConv2d) else copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias, transpose,
        groups=conv.groups)
    return fused


def fuse_conv_transpose_bn_eval(conv: Module, bn: Module) -> Module:
    """``fuse_conv_bn_eval`` for a transposed convolution (weight laid out (in, out / groups, *k))."""
    return fuse_conv_bn_eval(conv, bn, transpose=True)


def fuse_linear_bn_eval(linear: Module, bn: Module) -> Module:
    """A copy of ``linear`` (eval mode) whose output equals ``bn(linear(x))`` in eval mode, for a
    BatchNorm1d over the linear layer's output features (2-d activations (N, features))."""
    _check_pair(linear, bn, linear.out_features, "linear")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused


def _plain_conv(conv: Module) -> Module:
    """A ``Conv2d`` holding a ``WSConv2d``'s standardised weight (the weight its forward uses)."""
    plain = Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                   conv.dilation, conv.groups, conv.bias is not None, conv.padding_mode, dtype=conv.weight.dtype)
    with no_grad():
        plain.weight.copy_(conv.standardized_weight())
        if conv.bias is not None:
            plain.bias.copy_(conv.bias)
    return plain.train(conv.training)


def _fuser(layer: Module | None, bn: Module | None):
    """The function folding ``bn`` into ``layer``, or None when the pair cannot be folded."""
    if not isinstance(bn, _BatchNorm) or bn.running_mean is None:
        return None
    if isinstance(layer, _Conv) and bn.num_features == layer.out_channels:
        return fuse_conv_bn_eval
    if isinstance(layer, _ConvTranspose) and bn.num_features == layer.out_channels:
        return fuse_conv_transpose_bn_eval
    if isinstance(layer, Linear) and bn.num_features in (layer.out_features, 1):
        return fuse_linear_bn_eval
    return None


def _fuse_sequentials(module: Module) -> int:
    count = sum(_fuse_sequentials(child) for child in module.children())
    if isinstance(module, Sequential):
        names = list(module._modules)
        for a, b in zip(names, names[1:]):
            layer, bn = module._modules[a], module._modules[b]
            fuse = _fuser(layer, bn)
            if fuse is not None:
                module._modules[a] = fuse(layer, bn)
                module._modules[b] = Identity()
                count += 1
    return count


def fuse_bn(model: Module, example_input: Tensor | tuple | None = None) -> Module:
    """An eval-mode deep copy of ``model`` with batch norms folded into the layer before them.

    Without ``example_input``: every batch norm that directly follows a convolution, transposed
    convolution or linear layer inside a ``Sequential`` (at any depth) is folded into that layer
    and replaced by ``Identity``. With ``example_input`` (a tensor, or a shape for a random one),
    the copy is also run once and pairs wired in a custom ``forward`` are found from the data flow:
    a batch norm whose input is exactly a layer's output, used by nothing else (e.g.
    ``self.bn1(self.conv1(x))`` in a ResNet block). ``model`` is not modified.
    """
    fused = copy.deepcopy(model).eval()
    _fuse_sequentials(fused)
    if example_input is not None:
        _fuse_traced(fused, example_input)
    return fused


def _fuse_traced(model: Module, example_input) -> int:
    """Fold the (layer, batch norm) pairs seen in one forward pass; returns how many."""
    x = randn(*example_input) if isinstance(example_input, (tuple, list)) else example_input.detach()
    x.requires_grad_(x.is_floating_point())  # so that every layer's output has a graph node
    names = {id(m): name for name, m in model.named_modules()}
    outputs: dict[int, tuple[str, Tensor]] = {}  # id(output tensor) -> (layer name, output)
    bn_inputs: dict[str, Tensor] = {}
    calls: dict[str, int] = {}
    handles = []

    def after_layer(module, args, out):
        name = names[id(module)]
        calls[name] = calls.get(name, 0) + 1
        if isinstance(out, Tensor):
            outputs[id(out)] = (name, out)

    def before_bn(module, args):
        name = names[id(module)]
        calls[name] = calls.get(name, 0) + 1
        if args and isinstance(args[0], Tensor):
            bn_inputs[name] = args[0]

    for module in model.modules():
        if isinstance(module, (_Conv, _ConvTranspose, Linear)):
            handles.append(module.register_forward_hook(after_layer))
        elif isinstance(module, _BatchNorm):
            handles.append(module.register_forward_pre_hook(before_bn))
    try:
        result = model(x)
    finally:
        for h in handles:
            h.remove()
    uses = _edge_counts([t for t in (result if isinstance(result, (tuple, list)) else (result,))
                         if isinstance(t, Tensor)])
    count = 0
    for bn_name, inp in bn_inputs.items():
        hit = outputs.get(id(inp))
        if hit is None:
            continue
        layer_name, out = hit
        if calls.get(layer_name) != 1 or calls.get(bn_name) != 1 or out.grad_fn is None:
            continue
        if uses.get((id(out.grad_fn), out.output_nr), 0) != 1:  # the layer's output feeds more than the BN
            continue
        layer, bn = model.get_submodule(layer_name), model.get_submodule(bn_name)
        fuse = _fuser(layer, bn)
        if fuse is None:
            continue
        _replace(model, layer_name, fuse(layer, bn))
        _replace(model, bn_name, Identity())
        count += 1
    return count


def _edge_counts(outputs: list) -> dict:
    """How many graph edges point at each (node, output number) reachable from ``outputs``."""
    counts: dict = {}
    seen: set = set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.next_functions:
            if edge is None:
                continue
            key = (id(edge[0]), edge[1])
            counts[key] = counts.get(key, 0) + 1
            stack.append(edge[0])
    return counts


def _replace(model: Module, name: str, new: Module) -> None:
    parent_name, _, leaf = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, leaf, new)


__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_conv_transpose_bn_eval", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights", "fuse_bn"]
