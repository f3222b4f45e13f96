"""``chainrule.onnx.export``: a model's forward pass as an ONNX graph, PyTorch's signature.

The model runs once on ``args`` (``_capture.Recorder``); every recorded module call and
operator call is mapped to ONNX nodes (``_modules``, ``_ops``) with the ``onnx`` package's
helper API, parameters become initializers named as in ``state_dict``, and the result is
checked with ``onnx.checker`` before it is written. Values that do not depend on the inputs
(weight standardisation, a frozen batch norm's scale) are computed once and stored
(``do_constant_folding=True``, the default) or exported as operators on initializers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._io import atomic_write
from ..nn.module import Module
from ..tensor import Tensor
from ._capture import Recorder, key
from ._graph import Graph, UnsupportedOperatorError, _onnx
from ._modules import mapping
from ._ops import OPS, Call

DEFAULT_OPSET = 18
MIN_OPSET = 17  # LayerNormalization


def _dims(spec: Any, name: str) -> dict[int, str]:
    if isinstance(spec, Mapping):
        return {int(a): str(n) for a, n in spec.items()}
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        return {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(spec)}
    raise TypeError(f"dynamic_axes['{name}'] must be a dict {{axis: name}} or a list of axes, got {spec!r}")


class _Exporter:
    def __init__(self, model: Module, opset: int, fold: bool, dynamic_batch: bool):
        self.model = model
        self.g = Graph(opset)
        self.fold = fold
        self.dynamic_batch = dynamic_batch
        self.names: dict[tuple, str] = {}  # values computed from the inputs
        self.consts: dict[tuple, np.ndarray] = {}  # folded values
        self.state_names: dict[int, str] = {}
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            self.state_names.setdefault(id(t), name)
        self.modules = dict(model.named_modules())

    def _where(self, scope: str) -> str:
        m = self.modules.get(scope, self.model)
        return f"module '{scope}' ({type(m).__name__})" if scope else f"the model itself ({type(m).__name__})"

    def value(self, t: Tensor, k: tuple, scope: str) -> str:
        if k in self.names:
            return self.names[k]
        if k in self.consts:
            name = self.g.const(self.consts[k], "folded")
        elif k[0] == "node":
            raise UnsupportedOperatorError(
                f"chainrule.onnx.export: operator '{t.grad_fn.name()}' in {self._where(scope)} ran outside "
                "chainrule's operators (a custom autograd.Function?) and has no ONNX mapping")
        else:
            name = self.g.const(t._data, self.state_names.get(id(t), "const"))
        self.names[k] = name
        return name

    def depends_on_input(self, ev) -> bool:
        return any(k in self.names and self.names[k] not in self.g.initializers for k in ev.in_keys) or \
            any(k[0] == "node" and k not in self.consts and k not in self.names for k in ev.in_keys)

    def emit(self, ev) -> None:
        if self.fold and not ev.is_module and not self.depends_on_input(ev):
            for t, k in zip(ev.outputs, ev.out_keys):
                self.consts[k] = t._data
            return
        ins = [self.value(t, k, ev.scope) for t, k in zip(ev.inputs, ev.in_keys)]
        call = Call(self.g, ins, ev.inputs, ev.outputs, self.dynamic_batch, ev.target, ev.scope)
        if ev.is_module:
            fn = ev.mapper
            what = self._where(ev.scope)
        else:
            fn = OPS.get(type(ev.target).__name__)
            what = f"operator '{ev.target.name()}' in {self._where(ev.scope)}"
            if fn is None:
                raise UnsupportedOperatorError(f"chainrule.onnx.export: {what} has no ONNX mapping")
        try:
            outs = fn(call)
        except UnsupportedOperatorError as e:
            raise UnsupportedOperatorError(f"chainrule.onnx.export: {what}: {e}") from None
        for k, name in zip(ev.out_keys, outs):
            self.names.setdefault(k, name)


def export(model: Module, args: Any = (), f: str | os.PathLike | Any = None, *, kwargs: dict | None = None,
           verbose: bool | None = None, input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None, opset_version: int | None = None,
           dynamic_axes: Mapping[str, Any] | None = None, export_params: bool = True,
           keep_initializers_as_inputs: bool = False, do_constant_folding: bool = True,
           training: Any = None) -> Any:
    """Export ``model`` run on ``args`` to ONNX (written to ``f`` if given); returns the ``onnx.ModelProto``.

    ``dynamic_axes`` = ``{"input": {0: "batch"}, "output": {0: "batch"}}`` (or lists of axes)
    makes those dimensions symbolic. The model is traced in eval mode (PyTorch's default,
    ``training=TrainingMode.EVAL``) and its modes are restored afterwards. An operator without
    an ONNX mapping raises ``UnsupportedOperatorError`` naming it and the module it ran in.
    """
    onnx = _onnx()
    if not isinstance(model, Module):
        raise TypeError(f"chainrule.onnx.export: expected a chainrule.nn.Module, got {type(model).__name__}")
    if kwargs:
        raise ValueError("chainrule.onnx.export: keyword inputs (kwargs=) are not supported; pass them in args")
    if training not in (None, "eval", 0) and str(training).split(".")[-1].upper() != "EVAL":
        raise ValueError(f"chainrule.onnx.export: only eval-mode export is supported, got training={training!r}")
    args = (args,) if isinstance(args, Tensor) else tuple(args)
    if not args or not all(isinstance(a, Tensor) for a in args):
        raise TypeError("chainrule.onnx.export: args must be a Tensor or a tuple of Tensors, got "
                        f"{[type(a).__name__ for a in args]}")
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(f"chainrule.onnx.export: opset_version must be in [{MIN_OPSET}, {newest}], got {opset}")
    in_names = list(input_names or [])
    in_names += [f"input.{i}" if len(args) > 1 else "input" for i in range(len(in_names), len(args))]
    dynamic_axes = dict(dynamic_axes or {})
    dims = {name: _dims(spec, name) for name, spec in dynamic_axes.items()}
    dynamic_batch = any(0 in dims.get(n, {}) for n in in_names)

    traced = tuple(a.detach().requires_grad_(True) if a.is_floating_point() else a.detach() for a in args)
    for name, m in model.named_modules():
        if getattr(m, "max_norm", None) is not None and type(m).__name__ == "Embedding":
            raise UnsupportedOperatorError(
                f"chainrule.onnx.export: module '{name}' (Embedding) has max_norm={m.max_norm}: it rescales rows of "
                "its weight in place on every call, which an ONNX graph cannot do (export a copy without max_norm)")
    modes = {m: m.training for m in model.modules()}
    from .. import get_rng_state, set_rng_state  # on use: the package's namespace is complete only after its __init__

    rng = get_rng_state()
    model.eval()
    try:
        recorder = Recorder(model, mapping)
        out = recorder.run(traced)
    finally:
        for m, mode in modes.items():
            m.training = mode
        set_rng_state(rng)
    outputs = [out] if isinstance(out, Tensor) else list(out) if isinstance(out, (tuple, list)) else None
    if outputs is None or not all(isinstance(o, Tensor) for o in outputs):
        raise TypeError(f"chainrule.onnx.export: the model must return a Tensor or a tuple of Tensors, "
                        f"got {type(out).__name__}")

    ex = _Exporter(model, opset, do_constant_folding, dynamic_batch)
    g = ex.g
    for t, name in zip(traced, in_names):
        g._used.add(name)
        ex.names[key(t)] = name
    for ev in recorder.events:
        ex.emit(ev)

    out_names = list(output_names or [])
    out_names += [f"output.{i}" if len(outputs) > 1 else "output" for i in range(len(out_names), len(outputs))]
    rename: dict[str, str] = {}
    produced = {o for n in g.nodes for o in n.output}
    for t, name in zip(outputs, out_names):
        value = ex.value(t, key(t), "")
        if value in produced and value not in rename:
            rename[value] = name
        else:
            g.nodes.append(onnx.helper.make_node("Identity", [value], [name], name=g.fresh("n.Identity")))
    for n in g.nodes:
        n.output[:] = [rename.get(v, v) for v in n.output]
        n.input[:] = [rename.get(v, v) for v in n.input]

    used = {v for n in g.nodes for v in n.input}
    for t, name in zip(traced, in_names):
        if name not in used:
            # its values reached the output only through an operator that holds them as constants
            # (an embedding lookup, a gather, a mask): the graph would ignore the input
            raise UnsupportedOperatorError(
                f"chainrule.onnx.export: input '{name}' ({t.dtype}) is used only as constant indices or masks "
                "by the traced operators (embedding, gather, masked where ...), which have no ONNX mapping")

    def info(name: str, t: Tensor) -> Any:
        shape = [dims.get(name, {}).get(a, int(s)) for a, s in enumerate(t.shape)]
        return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(t._data.dtype), shape)

    inputs = [info(n, t) for n, t in zip(in_names, traced)]
    params = set(ex.state_names.values())
    # export_params=False: the weights become inputs the caller must feed (PyTorch's meaning)
    initializers = [i for i in g.initializers.values() if export_params or i.name not in params]
    for i in g.initializers.values():
        if keep_initializers_as_inputs or (not export_params and i.name in params):
            inputs.append(onnx.helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)))
    graph = onnx.helper.make_graph(g.nodes, type(model).__name__, inputs,
                                   [info(n, t) for n, t in zip(out_names, outputs)], initializers)
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)],
                                   producer_name="chainrule")
    proto.ir_version = min(proto.ir_version, 10)  # readable by ONNX Runtime releases of the last two years
    onnx.checker.check_model(proto)
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    if f is not None:
        data = proto.SerializeToString()
        if hasattr(f, "write"):
            f.write(data)
        else:
            atomic_write(os.fspath(f), data)
    return proto
