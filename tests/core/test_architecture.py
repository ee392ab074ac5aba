"""The layers of pipeline_core, and no import cycles in pipeline_core or builtin_steps.

Every ``import`` statement of both packages is read with :mod:`ast` (at module
level, inside functions and under ``if TYPE_CHECKING:``) and checked against the
layers below, which ``docs/architecture.md`` describes:

- a module imports only modules of its own unit or of a lower layer, counting
  type-checking imports too: a lower layer never names a higher one;
- the runtime imports (all but the type-checking ones) form no cycle, in either
  package, whether the import sits at module level or inside a function;
- ``pipeline_core`` never imports ``builtin_steps`` or a plugin.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Units of pipeline_core, lowest layer first. A unit is a subpackage or a module
#: directly in pipeline_core; units on one line form one layer and do not import
#: each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("_version", "logconfig", "output", "truth"),
    ("datamodels", "parallel"),
    ("plugins",),
    ("config",),
    ("references",),
    ("steps",),
    ("batch", "bridge"),
    ("cli",),
    ("__init__",),
)
LAYER_OF = {unit: level for level, units in enumerate(LAYERS) for unit in units}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(package: str) -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, name: str, known: set[str]) -> list[tuple[str, bool, int]]:
    """(imported module, runtime?, line) for every import statement of a module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[str, bool, int]] = []

    def target(module: str) -> str | None:
        while module and module not in known:
            module = module.rpartition(".")[0]
        return module or None

    def visit(node: ast.AST, runtime: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for stmt in child.body:
                    visit_stmt(stmt, False)
                for stmt in child.orelse:
                    visit_stmt(stmt, runtime)
                continue
            visit_stmt(child, runtime)

    def visit_stmt(node: ast.AST, runtime: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                mod = target(alias.name)
                if mod:
                    found.append((mod, runtime, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                mod = target(f"{base}.{alias.name}") if f"{base}.{alias.name}" in known else target(base)
                if mod:
                    found.append((mod, runtime, node.lineno))
        else:
            visit(node, runtime)

    visit(tree, True)
    return found


def _graph(packages: tuple[str, ...]) -> tuple[dict[str, list[tuple[str, bool, int]]], dict[str, Path]]:
    paths: dict[str, Path] = {}
    for package in packages:
        paths.update(_modules(package))
    known = set(paths)
    return {name: _imports(path, name, known) for name, path in paths.items()}, paths


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def test_every_pipeline_core_unit_has_a_layer():
    graph, _ = _graph(("pipeline_core",))
    units = {_unit(m) for m in graph}
    assert units <= set(LAYER_OF), f"units without a layer in LAYERS: {sorted(units - set(LAYER_OF))}"


def test_lower_layers_never_import_higher_ones():
    graph, paths = _graph(("pipeline_core",))
    problems = []
    for module, imports in graph.items():
        unit = _unit(module)
        for target, _runtime, line in imports:
            if not target.startswith("pipeline_core"):
                continue
            other = _unit(target)
            if other == unit or LAYER_OF[other] < LAYER_OF[unit]:
                continue
            where = f"{paths[module].relative_to(ROOT)}:{line}"
            problems.append(f"{where}: {module} (layer {LAYER_OF[unit]}) imports {target} (layer {LAYER_OF[other]})")
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


@pytest.mark.parametrize("package", ["pipeline_core", "builtin_steps"])
def test_no_import_cycles(package):
    graph, _ = _graph((package,))
    edges = {m: {t for t, runtime, _ in imports if runtime and t != m} for m, imports in graph.items()}
    cycles = _cycles(edges)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_core_never_imports_builtin_steps_or_plugins():
    # builtin_steps is read too: an import is only recorded when its target is a known module
    graph, paths = _graph(("pipeline_core", "builtin_steps"))
    offenders = [
        f"{paths[m].relative_to(ROOT)}:{line} imports {t}"
        for m, imports in graph.items() if m.split(".")[0] == "pipeline_core"
        for t, _, line in imports
        if t.split(".")[0] in {"builtin_steps", "steppe_example_plugin"}
    ]
    assert not offenders, "\n".join(offenders)


def test_the_checker_sees_a_cycle_and_a_layer_violation(tmp_path):
    # the checks above must be able to fail: a made-up graph with a cycle
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    assert LAYER_OF["config"] < LAYER_OF["steps"]
