"""The recorded autograd graph, rendered as Graphviz DOT.

``to_dot(q, params={'w1': w1, 'w2': w2})`` draws what backward will walk: one box per operator
node, one ellipse per leaf tensor (named from ``params``), edges in the direction of the forward
pass. A leaf used by several operators appears once with one edge per use, so weight sharing is
visible; ``show_saved=True`` adds the tensors each node keeps for backward. A node that stands
for several operators run as one kernel (``chainrule.compile``'s fused runs: it has
``fused_ops()``) is drawn inside a box of its own that lists them; the node of a whole compiled call
replayed as a flat schedule (it has ``compiled_steps()``) is drawn inside a box that lists its
operators, with a box of its own for each fused run among them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from collections.abc import Mapping

from .._io import atomic_write
from ..tensor import Tensor
from .function import _OUTPUT, AccumulateGrad, Node


def _shape(t) -> str:
    """``(2, 3)`` for anything with a ``shape`` (a Tensor or a raw array); ``()`` otherwise."""
    return "(" + ", ".join(str(s) for s in getattr(t, "shape", ())) + ")"


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class _Graph:
    """Nodes and edges collected from the outputs, with stable ids in discovery order."""

    def __init__(self, outputs: tuple, params: Mapping | None, show_saved: bool):
        self.names = {id(t): name for name, t in (params or {}).items()}
        self.show_saved = show_saved
        self.ids: dict[int, str] = {}
        self.lines: list[str] = []
        self.edges: list[tuple[str, str]] = []
        self._walk(outputs)

    def _id(self, obj) -> str:
        key = id(obj)
        if key not in self.ids:
            self.ids[key] = f"n{len(self.ids)}"
        return self.ids[key]

    def _leaf_label(self, t: Tensor) -> str:
        name = self.names.get(id(t)) or t.name
        return f"{name}\n{_shape(t)}" if name else _shape(t)

    def _walk(self, outputs: tuple) -> None:
        seen: set[int] = set()
        stack: list[Node] = []
        for k, out in enumerate(outputs):
            oid = f"out{k}"
            label = self.names.get(id(out)) or out.name or "output"
            text = _quote(label + "\n" + _shape(out))
            self.lines.append(f"  {oid} [label={text}, shape=ellipse, style=filled, fillcolor=darkolivegreen1];")
            if out.grad_fn is not None:
                node = out.grad_fn
            elif out.requires_grad:
                node = out._grad_accumulator()
            else:
                continue
            self.edges.append((self._id(node), oid))
            stack.append(node)
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            nid = self._id(node)
            if isinstance(node, AccumulateGrad):
                self.lines.append(f"  {nid} [label={_quote(self._leaf_label(node.variable))}, shape=ellipse, "
                                  "style=filled, fillcolor=lightblue];")
                continue
            fused = getattr(node, "fused_ops", None)
            steps = getattr(node, "compiled_steps", None)
            if callable(steps):  # a compiled call: its operators listed, fused runs boxed inside
                self._compiled(node, nid, steps())
            elif callable(fused):  # a run of operators compiled into one kernel: boxed, its operators listed
                self._fused(node, nid, fused())
            else:
                self.lines.append(f"  {nid} [label={_quote(node.name())}, shape=box, style=filled, "
                                  "fillcolor=lightgrey];")
            for edge in node.next_functions:
                if edge is None:
                    continue
                child = edge[0]
                self.edges.append((self._id(child), nid))
                if id(child) not in seen:
                    stack.append(child)
            if self.show_saved:
                self._saved(node, nid)

    def _fused(self, node: Node, nid: str, ops: list) -> None:
        self._fused_box(nid, node.name(), ops)

    def _fused_box(self, nid: str, title: str, ops: list) -> None:
        shown = ops if len(ops) <= 12 else ops[:6] + [f"... {len(ops) - 12} more ..."] + ops[-6:]
        label = title + "\n" + "\n".join(shown)
        self.lines.append(f"  subgraph cluster_{nid} {{\n    label={_quote(f'fused kernel: {len(ops)} operators')}; "
                          "style=\"rounded,filled\"; fillcolor=lightyellow;")
        self.lines.append(f"    {nid} [label={_quote(label)}, shape=box, style=filled, fillcolor=lightgrey];\n  }}")

    def _compiled(self, node: Node, nid: str, steps: list) -> None:
        names = [name for name, fused in steps if fused is None]
        shown = names if len(names) <= 12 else names[:6] + [f"... {len(names) - 12} more ..."] + names[-6:]
        label = node.name() + ("\n" + "\n".join(shown) if shown else "")
        self.lines.append(f"  subgraph cluster_{nid} {{\n    label={_quote(f'compiled graph: {len(steps)} steps')}; "
                          "style=rounded;")
        self.lines.append(f"    {nid} [label={_quote(label)}, shape=box, style=filled, fillcolor=lightgrey];")
        for k, (_, fused) in enumerate(steps):
            if fused is not None:
                self._fused_box(f"{nid}_f{k}", "fused kernel", fused)
        self.lines.append("  }")

    def _saved(self, node: Node, nid: str) -> None:
        for k, item in enumerate(node._saved or ()):
            kind, value, _ = item
            if value is None:
                continue
            sid = f"{nid}_saved{k}"
            if kind == _OUTPUT:  # an output of this node: (data, output_nr, version box)
                label = f"saved output {value[1]}\n{_shape(value[0])}"
            elif isinstance(value, Tensor):
                name = self.names.get(id(value)) or value.name
                label = f"saved {name}\n{_shape(value)}" if name else f"saved\n{_shape(value)}"
            else:
                label = f"saved\n{_shape(value)}"
            self.lines.append(f"  {sid} [label={_quote(label)}, shape=note, style=filled, fillcolor=orange];")
            self.edges.append((sid, nid))

    def dot(self) -> str:
        body = self.lines + [f"  {a} -> {b};" for a, b in self.edges]
        return "digraph autograd {\n  rankdir=BT;\n  node [fontname=Helvetica, fontsize=10];\n" + "\n".join(
            body) + "\n}\n"


def to_dot(*outputs: Tensor, params: Mapping | None = None, show_saved: bool = False) -> str:
    """Graphviz DOT source of the graph that produced ``outputs``.

    ``params`` maps names to tensors (``dict(model.named_parameters())``) to label leaves.
    """
    if not outputs:
        raise ValueError("to_dot needs at least one output tensor")
    for k, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"to_dot expects Tensors, got {type(out).__name__} at position {k}")
    return _Graph(outputs, params, show_saved).dot()


def render(dot_or_output, path: str | os.PathLike, format: str = "svg", params: Mapping | None = None) -> str:
    """Write the graph as ``format`` ('svg' or 'png') with Graphviz's ``dot`` program.

    Without Graphviz the DOT source is written next to ``path`` (extension ``.dot``) and a warning
    says how to install it. Returns the path of the file written.
    """
    if format not in ("svg", "png", "pdf"):
        raise ValueError(f"format must be 'svg', 'png' or 'pdf', got {format!r}")
    source = dot_or_output if isinstance(dot_or_output, str) else to_dot(dot_or_output, params=params)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    exe = shutil.which("dot")
    if exe is None:
        dot_path = os.path.splitext(path)[0] + ".dot"
        atomic_write(dot_path, source.encode())
        warnings.warn(
            f"Graphviz's `dot` program was not found, so the graph was written as DOT source to {dot_path}. "
            "Install Graphviz (e.g. `apt-get install graphviz` or `brew install graphviz`) to get "
            f"{format.upper()} output, or paste the file into any Graphviz viewer.", stacklevel=2)
        return dot_path
    result = subprocess.run([exe, f"-T{format}"], input=source.encode(), capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"dot failed: {result.stderr.decode(errors='replace').strip()}")
    atomic_write(path, result.stdout)
    return path
