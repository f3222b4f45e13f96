"""The backward pass: walk the recorded DAG from the outputs to the leaves.

Dependencies are counted first, so each node runs once, after every gradient flowing into it
has been summed (the multivariate chain rule; a tensor used twice receives the sum of both
paths). Backward code runs with grad mode equal to ``create_graph``, so the gradient computation
is itself recorded when asked, which is all higher-order derivatives need.
"""

from __future__ import annotations

from .._factory import ones_like, tensor, zeros_like
from ..backend import from_numpy_dtype
from ..tensor import Tensor
from .anomaly_mode import check_gradients
from .broadcast import sum_to
from .function import AccumulateGrad, Node, accumulate_grad
from .grad_mode import set_grad_enabled

_retain = [True]  # retain_graph of the backward run in progress (True outside any)


def retaining() -> bool:
    """Whether the backward run in progress keeps the graph (``retain_graph``): a node whose
    backward may free what it saved as it goes (its ``_release`` follows otherwise) asks this."""
    return _retain[0]


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _root_grads(outputs: tuple, grad_outputs, create_graph: bool) -> list:
    grads = list(_as_tuple(grad_outputs)) if grad_outputs is not None else [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(
            f"grad can be implicitly created only for scalar outputs; got {len(outputs)} outputs "
            f"and {len(grads)} gradients")
    result = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if not isinstance(out, Tensor):
            raise TypeError(f"expected outputs to be Tensors, got {type(out).__name__} at index {i}")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs; output "
                    f"{i} has shape {list(out.shape)}: pass gradient= (backward) or grad_outputs= (grad)")
            if not out.is_floating_point():
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            g = ones_like(out)
        else:
            if not isinstance(g, Tensor):
                g = tensor(g, dtype=out.dtype)
            if g.shape != out.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {list(g.shape)} and output[{i}] "
                    f"has a shape of {list(out.shape)}.")
            if not create_graph:
                g = g.detach()
        result.append(g)
    return result


def _grad_edge(t: Tensor) -> tuple[Node, int]:
    """Where the gradient of ``t`` arrives: its grad_fn at its output number, or its AccumulateGrad."""
    if t.grad_fn is not None:
        return t.grad_fn, t._output_nr
    return t._grad_accumulator(), 0


def _root_node(t: Tensor, i: int) -> tuple[Node, int]:
    if not t.requires_grad:
        raise RuntimeError(
            f"element {i} of tensors does not require grad and does not have a grad_fn")
    return _grad_edge(t)


def run_backward(outputs: tuple, grads: list, *, retain_graph: bool, create_graph: bool,
                 inputs: tuple = (), accumulate: bool = True, allow_unused: bool = False,
                 leaf_hooks: bool = True):
    """Propagate ``grads`` from ``outputs`` towards the leaves.

    With ``accumulate`` gradients are added into ``.grad`` of the leaves reached (of ``inputs``
    instead when given, leaves or not); otherwise the gradients with respect to ``inputs`` are
    returned, after the hooks of the leaves among them unless ``leaf_hooks`` is false (a backward
    run inside a node's backward, whose results the outer run hands to those leaves).
    """
    roots = [_root_node(t, i) for i, t in enumerate(outputs)]

    # where the gradients of ``inputs`` are read off: a leaf at its AccumulateGrad, a non-leaf
    # at the buffer of its grad_fn for its output number
    capture: dict[Node, list[tuple[int, int]]] = {}
    for k, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected inputs to be Tensors, got {type(t).__name__} at index {k}")
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (index {k}) does not require grad")
        node, nr = _grad_edge(t)
        capture.setdefault(node, []).append((nr, k))

    root_nodes = list(dict.fromkeys(n for n, _ in roots))
    needed: set[Node] | None = None  # None: every reachable node runs
    children: dict[Node, tuple] = {}  # read only where ``needed`` is not None
    deps: dict[Node, int]
    if inputs:
        needed, children, deps = _needed_subgraph(root_nodes, capture)
    else:
        # one pass: count, for every reachable node, the edges that will bring it a gradient
        deps = dict.fromkeys(root_nodes, 0)
        stack = list(root_nodes)
        while stack:
            for edge in stack.pop().next_functions:
                if edge is None:
                    continue
                child = edge[0]
                if child in deps:
                    deps[child] += 1
                else:
                    deps[child] = 1
                    stack.append(child)

    buffers: dict[Node, list] = {}
    for (node, nr), g in zip(roots, grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._n_out
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    results: list = [None] * len(inputs)
    ready = [n for n in root_nodes if deps[n] == 0]

    outer_retain = _retain[0]
    _retain[0] = retain_graph
    try:
        with set_grad_enabled(create_graph):
            while ready:
                node = ready.pop()
                buf = buffers.pop(node, None)
                if buf is None:
                    buf = [None] * node._n_out
                if node._pre_hooks:
                    for nr, hooks in node._pre_hooks.items():
                        if buf[nr] is None:
                            continue
                        for hook in hooks:
                            new = hook(buf[nr])
                            if new is not None:
                                buf[nr] = new
                if isinstance(node, AccumulateGrad):
                    # with ``inputs``, only their leaves: those are the captured AccumulateGrads
                    if needed is None or node in capture:
                        if not accumulate:
                            for _, k in capture[node]:
                                results[k] = _leaf_result(node, buf[0], create_graph, leaf_hooks)
                        elif buf[0] is not None:
                            node.accumulate(buf[0], create_graph)
                    continue
                if needed is not None:
                    if node not in needed:
                        continue
                    if node in capture:  # non-leaf tensors among ``inputs``
                        for nr, k in capture[node]:
                            g = buf[nr]
                            if not accumulate:
                                results[k] = g if (g is None or create_graph) else g.detach()
                            elif g is not None and not inputs[k]._retains_grad:  # retain_grad's hook did it
                                accumulate_grad(inputs[k], g, create_graph)
                    if not any(c in needed for c in children[node]):
                        if not retain_graph:
                            node._release()
                        continue
                grads_in = node._call_backward(buf)
                if node._trace is not None:
                    _check_anomaly(node, grads_in)
                if not retain_graph:
                    node._release()
                for i, (edge, g) in enumerate(zip(node.next_functions, grads_in)):
                    if edge is None:
                        continue
                    child, nr = edge
                    if needed is not None and child not in needed:
                        continue
                    if g is not None:
                        shape, dt = node._in_meta[i]
                        if type(g) is not Tensor or g._data.shape != shape or g._data.dtype != dt:
                            g = _validate(node, i, g)
                        cbuf = buffers.get(child)
                        if cbuf is None:
                            cbuf = buffers[child] = [None] * child._n_out
                        prev = cbuf[nr]
                        cbuf[nr] = g if prev is None else prev + g
                    deps[child] -= 1
                    if deps[child] == 0:
                        ready.append(child)
                grads_in, g = (), None  # the buffers hold them now (a leaf's sole holder lets it steal: _stealable)
    finally:
        _retain[0] = outer_retain

    if inputs and not accumulate:
        for k, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (index {k}) appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
    return results


def _leaf_result(acc: AccumulateGrad, g: Tensor | None, create_graph: bool, hooks: bool = True) -> Tensor | None:
    """What ``grad`` returns for a leaf input: its gradient after the leaf's hooks (if ``hooks``)."""
    if g is None:
        return None
    for hook in (acc.variable._leaf_hooks or ()) if hooks else ():
        new = hook(g)
        if new is not None:
            g = new
    return g if create_graph else g.detach()


def _validate(node: Node, i: int, g) -> Tensor:
    """Bring an input gradient to the input's shape (undo broadcasting) and dtype."""
    if not isinstance(g, Tensor):
        raise TypeError(f"function {node.name()} returned a gradient of type {type(g).__name__} "
                        f"at index {i}; expected a Tensor or None")
    shape, dt = node._in_meta[i]
    if g._data.shape != shape:
        try:
            g = sum_to(g, shape)  # broadcasting undone once, here, differentiably
        except (ValueError, RuntimeError):
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"{list(g.shape)} but expected shape compatible with {list(shape)}") from None
    if g._data.dtype != dt:
        g = g.to(from_numpy_dtype(dt))
    return g


def _needed_subgraph(root_nodes: list, capture: dict) -> tuple[set, dict, dict]:
    """The nodes from which some captured input is reachable, their children, and edge counts."""
    children: dict[Node, tuple] = {}
    order: list[Node] = []  # DFS post-order: children before parents
    stack: list = [(n, False) for n in root_nodes]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in children:
            continue
        nexts = tuple(e[0] for e in node.next_functions if e is not None)
        children[node] = nexts
        stack.append((node, True))
        for c in nexts:
            if c not in children:
                stack.append((c, False))
    needed = set()
    for node in order:
        if node in capture or any(c in needed for c in children[node]):
            needed.add(node)
    deps: dict[Node, int] = dict.fromkeys(children, 0)
    for node, nexts in children.items():
        if node in needed:
            for c in nexts:
                deps[c] += 1
    return needed, children, deps


def _check_anomaly(node: Node, grads: tuple) -> None:
    check_gradients(node, grads)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False,
             inputs=None) -> None:
    """Accumulate into ``.grad`` the gradients of ``tensors`` with respect to the graph's leaves."""
    outputs = _as_tuple(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(outputs, grad_tensors, create_graph)
    ins = _as_tuple(inputs)
    if inputs is not None and not ins:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    run_backward(outputs, grads, retain_graph=retain_graph, create_graph=create_graph, inputs=ins,
                 accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool | None = None, materialize_grads: bool = False) -> tuple:
    """Return the sum of the gradients of ``outputs`` with respect to each of ``inputs``.

    Nothing is accumulated into ``.grad``. With ``create_graph=True`` the result is itself
    differentiable (higher-order derivatives). Unused inputs raise unless ``allow_unused``; then
    their gradient is ``None`` (or zeros with ``materialize_grads``).
    """
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if not ins:
        raise RuntimeError("grad requires non-empty inputs.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(outs, grad_outputs, create_graph)
    result = run_backward(outs, grads, retain_graph=retain_graph, create_graph=create_graph,
                          inputs=ins, accumulate=False, allow_unused=allow_unused)
    if materialize_grads:
        result = [zeros_like(t) if r is None else r for t, r in zip(ins, result)]
    return tuple(result)

