"""``summary(model, input_size)``: a torchinfo-style table of a model, layer by layer.

For every module call of one forward pass: output shape, parameters (trainable and frozen),
multiply-accumulates, receptive field and activation memory; totals at the bottom.

Multiply-accumulates (MACs) counted, per forward pass of the whole batch of N samples:

* convolution: ``N * C_out * prod(out_spatial) * C_in / groups * prod(kernel)``
* transposed convolution: ``N * C_in * prod(in_spatial) * C_out / groups * prod(kernel)`` (every
  input element is multiplied into C_out / groups * prod(kernel) outputs)
* linear: ``rows * in_features * out_features``, where rows = number of input vectors (N, or
  N * L for inputs of shape (N, L, in_features))
* bilinear: ``rows * out_features * in1_features * in2_features``
* everything else (activations, pooling, normalisation, element-wise arithmetic) counts 0: they
  cost O(number of elements) and are memory-bound, not multiply-accumulates with weights. Bias
  additions are not counted either (one add per output, no multiply).

Activation memory of a row is the size in bytes of its output tensor(s); the total adds the rows
of leaf modules only (a container's output is one of its children's outputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import backend
from ..nn import Bilinear, Linear, Module
from . import _geometry as geo
from ._trace import _CONVS, _TRANSPOSED, Call, trace


def layer_macs(module: Module, inputs: list, outputs: list) -> int:
    """Multiply-accumulates of one call of ``module`` (see the module docstring)."""
    if not outputs:
        return 0
    out = outputs[0]
    if isinstance(module, _CONVS):
        n, _, *spatial = out.shape
        return (n * module.out_channels * geo.prod(spatial) * (module.in_channels // module.groups)
                * geo.prod(module.kernel_size))
    if isinstance(module, _TRANSPOSED) and inputs:
        n, _, *spatial = inputs[0].shape
        return (n * module.in_channels * geo.prod(spatial) * (module.out_channels // module.groups)
                * geo.prod(module.kernel_size))
    if isinstance(module, Linear):
        rows = out.numel() // module.out_features
        return rows * module.in_features * module.out_features
    if isinstance(module, Bilinear):
        rows = out.numel() // module.out_features
        return rows * module.out_features * module.in1_features * module.in2_features
    return 0


def _param_counts(module: Module) -> tuple[int, int]:
    """(trainable, frozen) numbers of parameters of ``module`` and its children, shared ones once."""
    trainable = frozen = 0
    for p in module.parameters():
        if p.requires_grad:
            trainable += p.numel()
        else:
            frozen += p.numel()
    return trainable, frozen


@dataclass(frozen=True)
class SummaryRow:
    """One module call: ``depth`` 0 is the model itself, ``is_leaf`` marks modules without children.

    ``receptive_field`` is None when the output is not a map over the input's spatial axes (after
    a flatten, for example) or when its geometry could not be followed.
    """

    name: str
    type: str
    depth: int
    is_leaf: bool
    output_shape: tuple  # a shape, or a tuple of shapes for several outputs
    trainable_params: int
    frozen_params: int
    macs: int
    receptive_field: geo.Field | None
    activation_bytes: int

    @property
    def params(self) -> int:
        return self.trainable_params + self.frozen_params


@dataclass(frozen=True)
class SummaryTotals:
    total_params: int
    trainable_params: int
    frozen_params: int
    macs: int
    input_bytes: int
    activation_bytes: int
    param_bytes: int


class ModelSummary:
    """The result of ``summary``: ``rows`` (one ``SummaryRow`` per module call) and ``totals``;
    ``str()`` of it is the table."""

    def __init__(self, model_name: str, input_size: tuple, rows: list, totals: SummaryTotals):
        self.model_name = model_name
        self.input_size = input_size
        self.rows = rows
        self.totals = totals

    def __repr__(self) -> str:
        t = self.totals
        return (f"ModelSummary({self.model_name}, input_size={self.input_size}, rows={len(self.rows)}, "
                f"params={t.total_params}, macs={t.macs})")

    def __str__(self) -> str:
        return format_summary(self)


def _row(call: Call) -> SummaryRow:
    shapes = tuple(tuple(t.shape) for t in call.outputs)
    trainable, frozen = _param_counts(call.module)
    return SummaryRow(
        name=call.name,
        type=type(call.module).__name__,
        depth=call.depth,
        is_leaf=call.is_leaf,
        output_shape=shapes[0] if len(shapes) == 1 else shapes,
        trainable_params=trainable,
        frozen_params=frozen,
        macs=layer_macs(call.module, call.inputs, call.outputs),
        receptive_field=call.field,
        activation_bytes=sum(t.numel() * t.element_size() for t in call.outputs),
    )


def summary(model: Module, input_size, dtype: Any = backend.float32) -> ModelSummary:
    """Run ``model`` once on an input of ``input_size`` (batch dimension included, e.g.
    ``(1, 1, 28, 28)``) and describe every module call: output shape, trainable and frozen
    parameters, MACs, receptive field (size, jump, start per spatial axis) and activation bytes.

    The model keeps its train/eval mode; hooks are removed and buffers restored afterwards. The
    autograd graph of the pass is recorded (receptive fields are tracked through it) and freed
    on return. ``print(summary(...))`` shows the table.
    """
    result = trace(model, input_size, dtype)
    rows = [_row(call) for call in result.calls]
    trainable, frozen = _param_counts(model)
    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    totals = SummaryTotals(
        total_params=trainable + frozen,
        trainable_params=trainable,
        frozen_params=frozen,
        macs=sum(r.macs for r in rows),
        input_bytes=result.input.numel() * result.input.element_size(),
        activation_bytes=sum(r.activation_bytes for r in rows if r.is_leaf),
        param_bytes=param_bytes,
    )
    return ModelSummary(type(model).__name__, tuple(result.input.shape), rows, totals)


# ---- the table ---------------------------------------------------------------------------------

def _fmt_num(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def format_field(f: geo.Field | None) -> str:
    """``size / jump / start``, one value when all axes agree, else ``5x3 / 1x1 / 2x1``."""
    if f is None:
        return "-"
    parts = []
    for values in (f.size, f.jump, f.start):
        items = [_fmt_num(v) for v in values]
        parts.append(items[0] if len(set(items)) == 1 else "x".join(items))
    return " / ".join(parts)


def _fmt_shape(shape: tuple) -> str:
    if shape and isinstance(shape[0], tuple):
        return ", ".join(_fmt_shape(s) for s in shape)
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _fmt_bytes(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def _fmt_count(n: int) -> str:
    for unit, scale in (("G", 10 ** 9), ("M", 10 ** 6), ("K", 10 ** 3)):
        if n >= scale:
            return f"{n:,} ({n / scale:.2f} {unit})"
    return f"{n:,}"


def format_summary(s: ModelSummary) -> str:
    header = ("Layer (type)", "Output Shape", "Param #", "MACs", "RF size / jump / start")
    table = []
    for r in s.rows:
        label = (r.name.split(".")[-1] + ": " if r.name else "") + r.type
        indent = "  " * r.depth
        params = f"{r.params:,}" if r.is_leaf or r.depth == 0 else f"({r.params:,})"
        if r.frozen_params and r.is_leaf:
            params += f" ({r.frozen_params:,} frozen)"
        table.append((indent + label, _fmt_shape(r.output_shape), params,
                      f"{r.macs:,}" if r.macs else "--", format_field(r.receptive_field)))
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]

    def line(cells) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) if i in (2, 3) else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)) if i]
        return "  ".join([first, *rest]).rstrip()

    total_width = sum(widths) + 2 * (len(widths) - 1)
    rule, thin = "=" * total_width, "-" * total_width
    t = s.totals
    out = [rule, line(header), rule, *[line(c) for c in table], rule,
           f"Total params: {t.total_params:,}",
           f"Trainable params: {t.trainable_params:,}",
           f"Non-trainable params: {t.frozen_params:,}",
           f"Total MACs: {_fmt_count(t.macs)}",
           thin,
           f"Input size: {_fmt_bytes(t.input_bytes)}  {_fmt_shape(s.input_size)}",
           f"Activation memory (leaf outputs): {_fmt_bytes(t.activation_bytes)}",
           f"Params size: {_fmt_bytes(t.param_bytes)}",
           f"Estimated total: {_fmt_bytes(t.input_bytes + t.activation_bytes + t.param_bytes)}",
           rule,
           "Params in (parentheses) belong to a container and are listed again under its layers;",
           "RF: receptive field in input positions (size of one unit's field, jump between",
           "neighbouring units, centre of the first unit's field); '-' = not a spatial map.",
           ]
    return "\n".join(out)
