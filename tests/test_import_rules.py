"""Imports point downwards (docs: DESIGN.md, "The shape of the system"), checked on the source.

Every ``import`` in ``chainrule/**.py`` counts, at module level or inside a function (an import
deferred to call time is still a dependency). The layers, from the bottom:
kernels < tensor/autograd < ops < nn < compiler < optim/data < cli. The rules:

* ``kernels`` (raw arrays) import nothing of ``tensor``, ``autograd``, ``ops`` or above;
* ``autograd`` (the core) imports nothing of ``ops``, ``nn``, ``optim`` or above;
* ``ops`` and ``nn`` import nothing of ``compiler`` (it records them; they do not know it);
* ``nn`` imports nothing of ``optim`` or ``cli``;
* ``compiler`` imports nothing of ``optim``, ``data`` or ``cli``;
* nothing in the library imports ``cli`` (only ``cli`` itself and ``__main__``);
* module-level imports form no cycle (a cycle works only in one import order).
"""

from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "chainrule")

# (importing package, forbidden packages)
RULES = [
    ("chainrule.kernels", ("chainrule.tensor", "chainrule.autograd", "chainrule.ops", "chainrule.nn",
                           "chainrule.optim", "chainrule.utils.data", "chainrule.models", "chainrule.tools",
                           "chainrule.cli")),
    ("chainrule.autograd", ("chainrule.ops", "chainrule.nn", "chainrule.optim", "chainrule.utils.data",
                            "chainrule.models", "chainrule.cli", "chainrule.compiler")),
    ("chainrule.ops", ("chainrule.compiler",)),
    ("chainrule.nn", ("chainrule.optim", "chainrule.cli", "chainrule.compiler")),
    ("chainrule.compiler", ("chainrule.optim", "chainrule.utils.data", "chainrule.data", "chainrule.cli")),
    ("chainrule", ("chainrule.cli",)),
]
ALLOWED_TO_IMPORT_CLI = ("chainrule.cli", "chainrule.__main__")


def _module_name(path: str) -> str:
    name = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _modules() -> dict:
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(folder, f)
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _targets(module: str, is_package: bool, node: ast.AST) -> list:
    """The chainrule modules an import statement names (``from pkg import mod`` names pkg.mod)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "chainrule"]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = module.split(".")
        if not is_package:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    if source.split(".")[0] != "chainrule":
        return []
    return [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names]


def _imports(module: str) -> list:
    """(target, line, at module level) for every chainrule import of ``module``."""
    path = MODULES[module]
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    out = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.extend((t, child.lineno, top) for t in _targets(module, path.endswith("__init__.py"), child))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, False)
            else:
                visit(child, top)

    visit(tree, True)
    return out


IMPORTS = {m: _imports(m) for m in MODULES}


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _violations(imports: dict) -> list:
    bad = []
    for module, targets in sorted(imports.items()):
        for source, forbidden in RULES:
            if not _within(module, source):
                continue
            if source == "chainrule" and module.startswith(ALLOWED_TO_IMPORT_CLI):
                continue
            for target, line, _ in targets:
                hit = next((f for f in forbidden if _within(target, f)), None)
                if hit is not None:
                    bad.append(f"{MODULES.get(module, module)}:{line}: {module} imports {target} "
                               f"({source} must not import {hit})")
    return bad


def _cycle(imports: dict) -> list | None:
    """A cycle of module-level imports, as a list of modules, or None. Importing ``a.b.c`` also
    runs the packages ``a.b`` and ``a`` (unless the importer is inside them)."""
    edges: dict = {}
    for module, targets in imports.items():
        out = edges.setdefault(module, set())
        for target, _, top in targets:
            if not top:
                continue
            out.add(target)
            parts = target.split(".")
            for k in range(2, len(parts)):
                parent = ".".join(parts[:k])
                if not _within(module, parent):
                    out.add(parent)
    state: dict = {}
    stack: list = []

    def visit(m: str) -> list | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_imports_point_downwards():
    bad = _violations(IMPORTS)
    assert not bad, "forbidden imports:\n" + "\n".join(bad)


def test_module_level_imports_form_no_cycle():
    cycle = _cycle(IMPORTS)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("module, target, rule", [
    ("chainrule.kernels.numba.conv", "chainrule.ops.shape", "chainrule.ops"),
    ("chainrule.kernels.numba.conv", "chainrule.tensor", "chainrule.tensor"),
    ("chainrule.autograd.engine", "chainrule.ops.shape", "chainrule.ops"),
    ("chainrule.nn.module", "chainrule.optim.sgd", "chainrule.optim"),
    ("chainrule.ops.shape", "chainrule.cli.main", "chainrule.cli"),
])
def test_the_check_catches_a_forbidden_import(module, target, rule):
    bad = _violations({module: [(target, 1, False)]})
    assert len(bad) == 1 and f"must not import {rule}" in bad[0]


def test_the_check_lets_cli_import_the_library_and_itself():
    assert _violations({"chainrule.cli.train": [("chainrule.cli.trainer", 1, True), ("chainrule.nn", 2, True)],
                        "chainrule.__main__": [("chainrule.cli.main", 1, True)]}) == []


def test_the_check_finds_a_cycle_also_through_a_deferred_package():
    imports = {"chainrule.ops.a": [("chainrule.ops.b", 1, True)], "chainrule.ops.b": [("chainrule.ops.a", 1, True)]}
    assert _cycle(imports) == ["chainrule.ops.a", "chainrule.ops.b", "chainrule.ops.a"]
    imports["chainrule.ops.b"] = [("chainrule.ops.a", 1, False)]  # deferred to call time: no cycle
    assert _cycle(imports) is None
    # importing chainrule.nn.x from ops runs chainrule.nn first, which imports ops.a
    imports = {"chainrule.ops.a": [("chainrule.nn.x", 1, True)], "chainrule.nn": [("chainrule.ops.a", 1, True)],
               "chainrule.nn.x": []}
    assert _cycle(imports) == ["chainrule.nn", "chainrule.ops.a", "chainrule.nn"]


def test_operator_modules_form_no_cycle_even_through_deferred_imports():
    """ops/ has no cycle at all: an import deferred into a function to break one is not needed."""
    ops = {m: [(t, line, True) for t, line, _ in targets if t.startswith("chainrule.ops.")]
           for m, targets in IMPORTS.items() if m.startswith("chainrule.ops.")}
    cycle = _cycle(ops)
    assert cycle is None, "import cycle in chainrule/ops: " + " -> ".join(cycle)


# operators that should run on any array module: their arrays go through ``self.xp`` / the
# tensor's array module, and the tables they build from sizes come from ``kernels/tables.py``
NUMPY_FREE_OPERATORS = ("chainrule.ops.pooling", "chainrule.ops.resample", "chainrule.ops.pad")


@pytest.mark.parametrize("module", NUMPY_FREE_OPERATORS)
def test_backend_neutral_operators_do_not_import_numpy(module):
    with open(MODULES[module], encoding="utf-8") as f:
        tree = ast.parse(f.read())
    hits = [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "numpy" for a in node.names)
            or isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "numpy"]
    assert not hits, f"{MODULES[module]} imports numpy at line(s) {hits}: use the array module of the inputs"


# Packages whose deferred imports are deliberate as a whole, with the reason.
DEFERRED_IMPORTS_ALLOWED = {
    "chainrule.cli": "each command imports what it runs when it runs, so `python -m chainrule` starts fast",
    "chainrule.distributions": "loaded on first use itself; its deferred imports are not yet audited",
}


def _deferred_without_reason(imports: dict, sources: dict) -> list:
    """Function-level chainrule imports that carry no comment (on their line or the line above)
    saying which cycle or which import cost they avoid, outside ``DEFERRED_IMPORTS_ALLOWED``."""
    bad = []
    for module, targets in sorted(imports.items()):
        if any(_within(module, p) for p in DEFERRED_IMPORTS_ALLOWED):
            continue
        lines = sources[module]
        for target, line, top in targets:
            if top:
                continue
            here, above = lines[line - 1], lines[line - 2].strip() if line >= 2 else ""
            if "#" not in here and not above.startswith("#"):
                bad.append(f"{MODULES.get(module, module)}:{line}: {module} imports {target} inside a function")
    return sorted(set(bad))


def _sources() -> dict:
    out = {}
    for m, path in MODULES.items():
        with open(path, encoding="utf-8") as f:
            out[m] = f.read().split("\n")
    return out


def test_every_deferred_import_says_why():
    """An import inside a function breaks a cycle or defers a cost (numba, scipy, mpi4py, onnx, a
    command's dependencies); it says which in a comment. One that breaks no cycle belongs at the top."""
    bad = _deferred_without_reason(IMPORTS, _sources())
    assert not bad, ("deferred imports with no comment saying which cycle or cost they avoid "
                     "(move them to module level if they avoid none):\n" + "\n".join(bad))


def test_the_deferred_import_check_catches_a_silent_one():
    sources = {"chainrule.ops.a": ["def f():", "    from .b import g", "    from .c import h  # cycle: c imports a"]}
    imports = {"chainrule.ops.a": [("chainrule.ops.b", 2, False), ("chainrule.ops.c", 3, False)]}
    bad = _deferred_without_reason(imports, sources)
    assert len(bad) == 1 and "imports chainrule.ops.b inside a function" in bad[0]
    assert _deferred_without_reason({"chainrule.cli.x": [("chainrule.ops.b", 2, False)]},
                                    {"chainrule.cli.x": sources["chainrule.ops.a"]}) == []
