"""The layering rules of the package (README, "How the code is organised").

Each check imports modules in a fresh interpreter and inspects ``sys.modules``, or reads
the import statements of every module, so a shortcut import that breaks a layer fails
here instead of slowing every renderer down or tying the solver to file formats.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "optimizer"
FLOWS = {
    "optimizer.pipeline",
    "optimizer.replan",
    "optimizer.slots",
    "optimizer.reopen",
    "optimizer.cli",
    "optimizer.horizon",
}


def _loaded_after(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module named by an import statement of ``path`` (also inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


LIGHT = sorted(
    ["optimizer.plan", "optimizer.verify", "optimizer.day", "optimizer.edits"]
    + [m for m in MODULES if m.startswith("optimizer.outputs.")]
)


@pytest.mark.parametrize("module", LIGHT)
def test_plan_verifier_and_renderers_load_neither_ortools_nor_osrm(module: str) -> None:
    loaded = _loaded_after(module)
    heavy = {m for m in loaded if _under(m, "ortools") or _under(m, "osrm")}
    assert not heavy, f"{module} loads {sorted(heavy)[:5]}"
    flows = FLOWS & loaded
    assert not flows, f"{module} loads the flow modules {sorted(flows)}"


def test_outputs_import_no_flow() -> None:
    offenders = {
        name: sorted(FLOWS & _imports(path))
        for name, path in MODULES.items()
        if name.startswith("optimizer.outputs.") and FLOWS & _imports(path)
    }
    assert not offenders


def test_solve_takes_its_own_params() -> None:
    banned = ("optimizer.inputs", "optimizer.outputs", "optimizer.geocoding", "optimizer.travel")
    offenders = {}
    for name, path in MODULES.items():
        if not name.startswith("optimizer.solve."):
            continue
        bad = [
            i
            for i in _imports(path)
            if i == "optimizer.settings" or any(_under(i, b) for b in banned)
        ]
        if bad:
            offenders[name] = bad
    assert not offenders


def test_settings_imports_no_io_module() -> None:
    io_wings = ("optimizer.inputs", "optimizer.geocoding", "optimizer.book", "optimizer.web")
    io_modules = {"optimizer.travel.osrm", "optimizer.travel.prepare", "optimizer.travel.extract"}
    imported = _imports(MODULES["optimizer.settings"])
    bad = [
        i for i in imported if i in io_modules or i in FLOWS or any(_under(i, w) for w in io_wings)
    ]
    assert not bad
    assert not {
        m for m in _loaded_after("optimizer.settings") if _under(m, "ortools") or _under(m, "osrm")
    }


@pytest.mark.parametrize(
    ("library", "allowed"),
    [
        ("ortools", {"optimizer.solve.ortools"}),
        ("osrm", {"optimizer.travel.osrm", "optimizer.travel.prepare"}),
        ("folium", {"optimizer.outputs.maps"}),
        ("geopy", {"optimizer.geocoding.providers"}),
        ("sqlalchemy", {n for n in MODULES if n.startswith("optimizer.book")}),
        ("alembic", {n for n in MODULES if n.startswith("optimizer.book")}),
        ("fastapi", {n for n in MODULES if n.startswith("optimizer.web")}),
        ("ray", {n for n in MODULES if n.startswith("optimizer.regions")}),
    ],
)
def test_one_module_per_foreign_library(library: str, allowed: set[str]) -> None:
    users = {n for n, p in MODULES.items() if any(_under(i, library) for i in _imports(p))}
    assert users <= allowed, f"{library} imported by {sorted(users - allowed)}"


def test_only_cli_prints_or_exits() -> None:
    offenders = []
    for name, path in MODULES.items():
        if name in {"optimizer.cli", "optimizer.__main__"} or name.startswith("optimizer.bench"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"print", "exit", "quit"}
            ):
                offenders.append(f"{name}:{node.lineno} {node.func.id}()")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "sys"
                and node.func.attr == "exit"
            ):
                offenders.append(f"{name}:{node.lineno} sys.exit()")
    assert not offenders


def test_public_api() -> None:
    import optimizer

    for name in optimizer.__all__:
        assert getattr(optimizer, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = optimizer.nope
