"""The layout of README's ARCHITECTURE section, enforced by parsing every import (including the ones inside
functions): apps depend one way, localities ← tasks ← reports ← dashboards ← alerts, and no module of the
project takes part in a circle of imports.

The project package `plan02` has two layers: its foundation modules (below) import no app and may be used
by every app; the rest of it (urls, views, navigation, commands) sits on top and may import any app.
"""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ["localities", "tasks", "reports", "dashboards", "alerts"]
RANK = {app: rank for rank, app in enumerate(APPS)}
FOUNDATION = {
    "plan02.api",
    "plan02.celery",
    "plan02.dates",
    "plan02.env",
    "plan02.exports",
    "plan02.spreadsheets",
    "plan02.parsers",
    "plan02.filters",
    "plan02.log",
    "plan02.db",
    "plan02.pagecache",
    "plan02.generations",
    "plan02.models",
    "plan02.imports",
    "plan02.readonly_admin",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_files():
    for package in [*APPS, "plan02"]:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield package, path


def _imports(path: Path) -> set[str]:
    """Every module name imported by the file, absolute, at any depth of the code."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _project_modules() -> set[str]:
    return {_module_name(path) for _package, path in _project_files()}


def test_no_app_imports_an_app_above_it():
    violations = []
    for app, path in _project_files():
        if app == "plan02":
            continue
        for name in _imports(path):
            top = name.split(".")[0]
            if top in RANK and RANK[top] > RANK[app]:
                violations.append(f"{path.relative_to(ROOT)} imports {name} ({top} is above {app})")
            if (
                top == "plan02"
                and name != "plan02"
                and not any(name == module or name.startswith(module + ".") for module in FOUNDATION)
            ):
                violations.append(f"{path.relative_to(ROOT)} imports {name} (plan02's top layer)")
    assert violations == []


def test_plan02_foundation_imports_no_app():
    violations = []
    for app, path in _project_files():
        if app != "plan02" or _module_name(path) not in FOUNDATION:
            continue
        violations += [f"{path.relative_to(ROOT)} imports {n}" for n in _imports(path) if n.split(".")[0] in RANK]
    assert violations == []


def test_no_circle_of_imports_between_the_projects_modules():
    modules = _project_modules()
    graph = {}
    for _app, path in _project_files():
        found = set()
        for name in _imports(path):
            # "from dashboards import jobs" names the module dashboards.jobs; "from x.models import Y" the module.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != _module_name(path) and not _is_package_of(name, path):
                found.add(name)
        graph[_module_name(path)] = found

    circles, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                circles.append(" → ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def _is_package_of(name: str, path: Path) -> bool:
    """`import dashboards` from inside dashboards/ (a package's __init__ is not a dependency here)."""
    return (ROOT / Path(*name.split(".")) / "__init__.py").exists()


def test_the_layout_of_design_md_exists():
    for app in APPS[:4]:
        assert (ROOT / app / "apps.py").exists(), app
    assert (ROOT / "templates" / "dashboards").is_dir()
    assert not (ROOT / "templates" / "dashboard").exists()
    assert (ROOT / "tests" / "dashboards").is_dir()
