"""The repository's scripts: ``experiments/`` uses only the public API; ``benchmarks/`` may
use internals, but every name it imports from fairautoml must still exist."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PUBLIC_MODULES = ("fairautoml", "fairautoml.datasets", "fairautoml.bench")


def fairautoml_imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) of every fairautoml import in ``path``, inside functions too."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.module, a.name) for a in node.names]
    return [(module, name) for module, name in found if module.split(".")[0] == "fairautoml"]


def _public_names(module: str) -> set[str]:
    mod = importlib.import_module(module)
    return set(getattr(mod, "__all__", None) or (n for n in vars(mod) if not n.startswith("_")))


def private_imports(path: Path) -> list[str]:
    """The imports of ``path`` outside the public API (``PUBLIC_MODULES``' public names)."""
    return [
        f"{module}{'' if name is None else ':' + name}"
        for module, name in fairautoml_imports(path)
        if module not in PUBLIC_MODULES or (name is not None and name not in _public_names(module))
    ]


def test_the_public_api_check_flags_a_private_import(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(
        "import fairautoml\nfrom fairautoml.bench import run_sweep\n"
        "def f():\n    from fairautoml.search.evaluate import refit\n    import fairautoml.search\n"
        "    from fairautoml import record\n"
    )
    assert private_imports(script) == [
        "fairautoml.search.evaluate:refit", "fairautoml.search", "fairautoml:record"
    ]  # fmt: skip


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.py")), ids=lambda p: p.name)
def test_experiments_import_only_the_public_api(path):
    assert not private_imports(path), (
        f"{path.name} imports {private_imports(path)}: use the public API, or move it to "
        "benchmarks/scripts/ (repository tooling), or retire it (experiments/README.md)"
    )


@pytest.mark.parametrize("path", sorted((ROOT / "benchmarks").rglob("*.py")), ids=lambda p: p.name)
def test_every_fairautoml_name_the_benchmarks_import_exists(path):
    for module, name in fairautoml_imports(path):
        imported = importlib.import_module(module)
        if name is not None and not hasattr(imported, name):
            importlib.import_module(f"{module}.{name}")  # a submodule


def test_the_benchmarks_are_split_by_kind():
    """``benchmarks/`` holds only its entry points at the top; everything else sits in a
    subpackage of one kind (anchors, acceptance targets, scripts) that says so."""
    top = ROOT / "benchmarks"
    assert sorted(p.name for p in top.glob("*.py")) == ["__init__.py", "__main__.py"]
    kinds = sorted(p.name for p in top.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert kinds == ["acceptance", "anchors", "scripts"]
    for kind in kinds:
        assert ast.get_docstring(ast.parse((top / kind / "__init__.py").read_text())), kind
