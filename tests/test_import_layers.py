"""The package's layers (:data:`LAYERS`, lowest first): nothing imports upward, no import
circle anywhere (inside a package too), no import of another package's private module.

Every ``import`` counts, those inside functions too (they hide a cycle, not break it). For
cycles, importing ``fairautoml.search.x`` counts as importing ``fairautoml.search`` (its
``__init__`` runs first). Each check is shown to fail on a planted offence.
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


def _imports(root: Path) -> tuple[dict[str, set[str]], set[str]]:
    """Module -> the modules of the package it names in an import (the facade too), and
    the package names."""
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
                found = resolve(target) if target == top or target.startswith(top + ".") else None
                if found not in (None, name):
                    graph[name].add(found)
    return graph, packages


def import_graph(root: Path = ROOT) -> tuple[dict[str, set[str]], set[str]]:
    """Module -> modules of the package it imports (the facade left out), with the
    sub-packages' ``__init__`` that run first, and the package names."""
    direct, packages = _imports(root)
    graph: dict[str, set[str]] = defaultdict(set)
    for name, targets in direct.items():
        for found in targets - {root.name}:
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


# The package's layers, lowest first: a module may import its own layer and those below,
# never one above. A layer is a list of module prefixes; a module belongs to the layer of
# its longest matching prefix. The root ``fairautoml/__init__`` is the public facade, the top.
LAYERS: list[tuple[str, list[str]]] = [
    ("base", ["fairautoml._compat", "fairautoml.exceptions",
              "fairautoml.values", "fairautoml.registry", "fairautoml.spaces",
              "fairautoml.progress"]),
    ("datasets", ["fairautoml.datasets"]),
    ("data", ["fairautoml.data"]),
    ("measures", ["fairautoml.measures"]),
    ("tasks", ["fairautoml.tasks"]),
    ("learners", ["fairautoml.learners"]),
    ("mitigators", ["fairautoml.mitigators"]),
    ("explain", ["fairautoml.explain"]),
    ("model", ["fairautoml.model"]),
    ("study", ["fairautoml.study"]),
    ("search", ["fairautoml.search"]),
    ("audit", ["fairautoml.audit"]),
    ("estimators", ["fairautoml.estimators"]),
    ("report", ["fairautoml.report"]),
    ("alternatives", ["fairautoml.alternatives"]),
    ("bench", ["fairautoml.bench"]),
    ("cli", ["fairautoml.cli"]),
    ("testing", ["fairautoml.testing"]),
    ("facade", ["fairautoml"]),
]  # fmt: skip


def layer_of(module: str, layers: list[tuple[str, list[str]]]) -> int:
    """The index of ``module``'s layer: that of its longest matching prefix."""
    best, length = None, -1
    for i, (_, prefixes) in enumerate(layers):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = i, len(prefix)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS")
    return best


def direct_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the modules it names in an import (the facade too), without the parent
    packages' ``__init__`` that Python runs on the way."""
    return _imports(root)[0]


def upward_imports(graph: dict[str, set[str]], layers: list[tuple[str, list[str]]]) -> list[str]:
    """Each import of a module in a higher layer than the importer's."""
    names = [n for n, _ in layers]
    return sorted(
        f"{a} ({names[layer_of(a, layers)]}) imports {b} ({names[layer_of(b, layers)]})"
        for a, targets in graph.items()
        for b in targets
        if layer_of(b, layers) > layer_of(a, layers)
    )


def private_imports(graph: dict[str, set[str]]) -> list[str]:
    """Each import of a private module (``pkg._name``) from outside its package ``pkg``."""
    found = []
    for a, targets in graph.items():
        for b in targets:
            parts = b.split(".")
            for i, part in enumerate(parts):
                owner = ".".join(parts[:i])
                inside = a == owner or a.startswith(owner + ".")
                if part.startswith("_") and part != "__init__" and not inside:
                    found.append(f"{a} imports {b}, private to {owner}")
                    break
    return sorted(found)


def test_nothing_imports_upward():
    assert not upward_imports(direct_graph(), LAYERS)


def test_no_import_cycle_anywhere():
    """Not across packages, not inside one (a package's ``__init__`` and its modules)."""
    graph, _ = import_graph()
    assert not cycles(graph), f"import cycles: {cycles(graph)}"


def test_no_module_imports_another_packages_private_module():
    assert not private_imports(direct_graph())


def test_every_module_is_in_a_layer():
    for module in direct_graph():
        layer_of(module, LAYERS)


def test_the_cycle_finder_sees_an_import_inside_a_function(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pkg.top import f\n")
    (pkg / "top.py").write_text("from pkg.sub.low import g\n\ndef f():\n    return g()\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "low.py").write_text("def g():\n    from pkg import top\n    return top\n")
    (pkg / "sub" / "side.py").write_text("from . import low\n")
    graph, _ = import_graph(pkg)
    assert graph["pkg.top"] == {"pkg.sub.low", "pkg.sub"}  # the sub-package's __init__ too
    assert graph["pkg.sub.side"] == {"pkg.sub.low"}  # relative import, own package
    assert cycles(graph) == [["pkg.sub.low", "pkg.top"]]


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "pkg"
    for name, text in {"__init__.py": "", "low/__init__.py": "", "high/__init__.py": "",
                       **files}.items():  # fmt: skip
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    return pkg


PLANTED_LAYERS = [("low", ["pkg.low"]), ("high", ["pkg.high"]), ("facade", ["pkg"])]


def test_the_layer_check_fails_on_a_planted_upward_import(tmp_path):
    pkg = _plant(tmp_path, {
        "low/a.py": "def f():\n    from pkg.high.b import g\n    return g\n",
        "high/b.py": "from pkg.low.a import f\n\ndef g():\n    return f\n",
        "low/c.py": "from pkg import thing\n",
    })  # fmt: skip
    found = upward_imports(direct_graph(pkg), PLANTED_LAYERS)
    assert found == [
        "pkg.low.a (low) imports pkg.high.b (high)",
        "pkg.low.c (low) imports pkg (facade)",
    ]


def test_the_cycle_check_fails_on_a_planted_circle_inside_a_package(tmp_path):
    pkg = _plant(tmp_path, {
        "low/__init__.py": "from pkg.low.builtin import thing\n\nREGISTRY = {}\n",
        "low/builtin.py": "from pkg.low import REGISTRY\n\nthing = REGISTRY\n",
    })  # fmt: skip
    graph, _ = import_graph(pkg)
    assert cycles(graph) == [["pkg.low", "pkg.low.builtin"]]
    assert not upward_imports(direct_graph(pkg), PLANTED_LAYERS)  # one layer: only a circle


def test_the_private_check_fails_on_a_planted_private_import(tmp_path):
    pkg = _plant(tmp_path, {
        "low/_core.py": "X = 1\n",
        "low/public.py": "from pkg.low._core import X\n",  # its own package: allowed
        "high/user.py": "from pkg.low._core import X\n",
    })  # fmt: skip
    assert private_imports(direct_graph(pkg)) == [
        "pkg.high.user imports pkg.low._core, private to pkg.low"
    ]


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
