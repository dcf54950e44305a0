"""The package's folders are layers: no import cycle runs through modules of two folders.

Every ``import`` counts, those inside functions too (they hide a cycle, not break it), and
importing ``fairautoml.search.x`` counts as importing ``fairautoml.search`` (its
``__init__`` runs first). The root ``fairautoml/__init__`` is the public facade and is left
out; a cycle inside one folder (a sub-package's ``__init__`` registering its built-ins)
may stay.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import fairautoml

ROOT = Path(fairautoml.__file__).parent
SKIP: set[Path] = set()  # modules run by another Python, if any


def _module(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = ROOT) -> tuple[dict[str, set[str]], set[str]]:
    """Module -> modules of the package it imports, and the package names."""
    top = root.name
    paths = [p for p in root.rglob("*.py") if p not in SKIP]
    modules = {_module(p, root): p for p in paths}
    packages = {_module(p, root) for p in paths if p.name == "__init__.py"}

    def resolve(name: str) -> str | None:
        while name not in modules:
            if "." not in name:
                return None
            name = name.rsplit(".", 1)[0]
        return name

    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        package = name if name in packages else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            for target in targets:
                found = resolve(target) if target.startswith(top) else None
                if found in (None, name, top):
                    continue
                graph[name].add(found)
                parts = found.split(".")
                for i in range(2, len(parts)):  # the sub-packages' __init__ run first
                    parent = ".".join(parts[:i])
                    if parent in packages and not name.startswith(parent):
                        graph[name].add(parent)
    return graph, packages


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    nodes = set(graph) | {m for targets in graph.values() for m in targets}
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _folder(module: str, packages: set[str]) -> str:
    return module if module in packages else module.rsplit(".", 1)[0]


def test_no_import_cycle_crosses_a_folder():
    graph, packages = import_graph()
    crossing = [c for c in cycles(graph) if len({_folder(m, packages) for m in c}) > 1]
    assert not crossing, f"import cycles across folders: {crossing}"


def test_the_cycle_finder_sees_an_import_inside_a_function(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pkg.top import f\n")
    (pkg / "top.py").write_text("from pkg.sub.low import g\n\ndef f():\n    return g()\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "low.py").write_text("def g():\n    from pkg import top\n    return top\n")
    (pkg / "sub" / "side.py").write_text("from . import low\n")
    graph, packages = import_graph(pkg)
    assert graph["pkg.top"] == {"pkg.sub.low", "pkg.sub"}  # the sub-package's __init__ too
    assert graph["pkg.sub.side"] == {"pkg.sub.low"}  # relative import, own package
    assert cycles(graph) == [["pkg.sub.low", "pkg.top"]]
    assert {_folder(m, packages) for m in cycles(graph)[0]} == {"pkg", "pkg.sub"}


def imported_names(path: Path) -> set[str]:
    """Every module name an ``import`` of ``path`` names (inside functions too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
    return names


def test_the_package_never_imports_the_repository_benchmarks():
    """``benchmarks/`` is repository tooling, not in the wheel: it plugs into the package
    (``fairautoml.bench.plugins``), never the other way round."""
    offenders = [
        str(path.relative_to(ROOT.parent))
        for path in ROOT.rglob("*.py")
        if any(n == "benchmarks" or n.startswith("benchmarks.") for n in imported_names(path))
    ]
    assert not offenders, f"fairautoml/ modules importing benchmarks: {offenders}"


def test_the_benchmarks_import_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from benchmarks.targets import x\n    return x\n")
    assert "benchmarks.targets" in imported_names(module)
