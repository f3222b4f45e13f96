"""``receptive_field(model, input_size)``: which input positions each layer's units see.

Per spatial axis, with kernel k, stride s, front padding p and dilation d of a window layer
(convolution or pooling) and (r, j, start) of its input map (the input: 1, 1, 0):

    k_eff     = d (k - 1) + 1
    r_out     = r_in + (k_eff - 1) j_in           size of one unit's field
    j_out     = j_in s                            distance between neighbouring units' fields
    start_out = start_in + ((k_eff - 1) / 2 - p) j_in   centre of the first unit's field

Unit i of a map covers the input positions ``start + i j +- (r - 1) / 2`` (clipped to the
input where padding was involved). Activations, normalisation and dropout keep the field;
adaptive pooling is a window with k = s = L / o when o divides L (global pooling: k = L);
element-wise joins of branches (residual ``out + identity``) take the union of the branches'
fields. The fields are tracked per tensor through the autograd graph of one forward pass
(see ``_trace``), so layers applied functionally inside ``forward`` count as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import backend
from ..nn import Module
from ._trace import trace


@dataclass(frozen=True)
class LayerField:
    """Receptive field of the output units of one layer call; one value per spatial axis.

    ``size``, ``jump`` and ``start`` are None when the layer's geometry is one the three numbers
    cannot describe (a transposed convolution, an unpooling, a reshape back to a map).
    """

    name: str
    type: str
    output_shape: tuple
    size: tuple | None
    jump: tuple | None
    start: tuple | None


def receptive_field(model: Module, input_size, dtype: Any = backend.float32) -> list[LayerField]:
    """One ``LayerField`` per call of a leaf module (a layer without children) whose output is a
    map over the input's spatial axes, in the order they ran; ``input_size`` includes the batch
    dimension, e.g. ``(1, 3, 32, 32)``.

    >>> from chainrule import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, dilation=2))
    >>> [(f.name, f.size, f.jump, f.start) for f in receptive_field(net, (1, 1, 16, 16))]
    [('0', (3, 3), (1, 1), (1.0, 1.0)), ('1', (4, 4), (2, 2), (1.5, 1.5)), ('2', (12, 12), (2, 2), (5.5, 5.5))]
    """
    result = trace(model, input_size, dtype)
    if len(result.input.shape) < 3:
        raise ValueError(f"receptive_field needs an input with spatial axes (N, C, *spatial), got "
                         f"input_size={tuple(input_size)}")
    out = []
    for call in result.calls:
        if not call.is_leaf or not call.outputs or call.outputs[0].ndim != result.input.ndim:
            continue
        f = call.field
        out.append(LayerField(call.name, type(call.module).__name__, tuple(call.outputs[0].shape),
                              f.size if f is not None else None, f.jump if f is not None else None,
                              f.start if f is not None else None))
    return out
