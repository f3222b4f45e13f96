"""The ONNX graph being built: value names, initializers and nodes, through ``onnx.helper``.

Mapping functions (``_ops``, ``_modules``) only call ``Graph.op`` and ``Graph.const``; opset
differences (reductions take ``axes`` as an input from opset 18, as an attribute before) are
handled here, once.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class UnsupportedOperatorError(RuntimeError):
    """An operator (or module) of the traced forward pass has no ONNX mapping."""


def _onnx():
    try:
        import onnx  # noqa: PLC0415  (an optional extra: chainrule[onnx])
    except ImportError as e:  # pragma: no cover - the tests install it
        raise ImportError("chainrule.onnx.export needs the 'onnx' package: pip install 'chainrule[onnx]'") from e
    return onnx


class Graph:
    """Nodes and initializers of one ONNX graph; every value is named by a string."""

    def __init__(self, opset: int):
        self.onnx = _onnx()
        self.opset = opset
        self.nodes: list = []
        self.initializers: dict[str, Any] = {}
        self._used: set[str] = set()
        self._const_by_id: dict[int, str] = {}
        self._keep: list = []

    def fresh(self, base: str) -> str:
        base = base.replace("/", ".") or "v"
        name, n = base, 1
        while name in self._used:
            name = f"{base}_{n}"
            n += 1
        self._used.add(name)
        return name

    def const(self, array: Any, name: str = "const", dtype: Any = None) -> str:
        """An initializer holding ``array`` (a NumPy array or number), cast to ``dtype`` if given."""
        a = np.asarray(array)
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        key = id(array) if isinstance(array, np.ndarray) and dtype in (None, array.dtype) else None
        if key is not None and key in self._const_by_id:
            return self._const_by_id[key]
        out = self.fresh(name)
        a = a if a.flags.c_contiguous else a.copy(order="C")  # not ascontiguousarray: it makes 0-d 1-d
        self.initializers[out] = self.onnx.numpy_helper.from_array(a, out)
        if key is not None:  # the array is kept alive, so its id is not reused by another one
            self._const_by_id[key] = out
            self._keep.append(array)
        return out

    def ints(self, values: Any, name: str = "shape") -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), name)

    def op(self, op_type: str, inputs: list, n_out: int = 1, name: str | None = None, **attrs: Any):
        """Add one node; returns its output name (or the list of names when ``n_out > 1``)."""
        outs = [self.fresh(f"{name or op_type.lower()}") for _ in range(n_out)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), outs, name=self.fresh("n." + op_type),
                                                     **attrs))
        return outs[0] if n_out == 1 else outs

    def reduce(self, op_type: str, x: str, axes: tuple, keepdims: bool) -> str:
        """ReduceMean/ReduceSum/ReduceMax over ``axes`` (opset-dependent form)."""
        ints = [int(a) for a in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, [x, self.ints(ints, "axes")], keepdims=int(keepdims))
        return self.op(op_type, [x], axes=ints, keepdims=int(keepdims))
