"""Layers only point down: the imports between skymap_scanner's subpackages and top-level modules form
no cycle. Read from the source (ast), nothing is imported; module-level and function-level imports count."""

from __future__ import annotations

import ast
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import skymap_scanner

PACKAGE = "skymap_scanner"
ROOT = Path(skymap_scanner.__file__).parent


def _modules(path: Path, prefix: str) -> Iterator[tuple[str, Path, bool]]:
    """(dotted name, file, is package) of every module under ``path`` (pkgutil, no import)."""
    for info in pkgutil.iter_modules([str(path)]):
        name = f"{prefix}.{info.name}"
        if info.ispkg:
            yield name, path / info.name / "__init__.py", True
            yield from _modules(path / info.name, name)
        else:
            yield name, path / f"{info.name}.py", False


def _imported(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Dotted names of the package's modules that ``module`` imports, anywhere in its body."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith(f"{PACKAGE}."))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + is_package]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == PACKAGE:
                yield from (f"{PACKAGE}.{a.name}" for a in node.names)
            elif target.startswith(f"{PACKAGE}."):
                yield target


def _layer(dotted: str) -> str:
    """The subpackage or top-level module a module belongs to."""
    return dotted.split(".")[1]


def layer_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, file, is_package in _modules(ROOT, PACKAGE):
        edges = graph.setdefault(_layer(name), set())
        tree = ast.parse(file.read_text(), str(file))
        edges |= {_layer(t) for t in _imported(tree, name, is_package)} - {_layer(name)}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            component.append(v)
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    return "; ".join(f"{v} -> {', '.join(sorted(graph[v] & members))}" for v in component)


def test_the_graph_sees_the_packages_imports():
    graph = layer_graph()
    assert {"event", "i3", "io", "prepare", "physics", "fit", "simulation", "sky", "recos"} <= set(graph)
    assert graph["event"] == set()  # the leaf: the event model and the open format
    assert "event" in graph["i3"] and "physics" in graph["fit"]


def test_no_import_cycle_between_layers():
    graph = layer_graph()
    found = cycles(graph)
    assert not found, "import cycles between layers:\n" + "\n".join(_describe(c, graph) for c in found)


def test_cycle_detection():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
