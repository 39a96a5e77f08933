"""The layout of DESIGN.md §1 and README's ARCHITECTURE section, enforced by parsing every import (including
the ones inside functions), package by package: core at the bottom imports no app; each app imports only
the layers below it, core ← localities ← tasks ← reports ← dashboards ← alerts ← support, inspections ←
integrations, audit; plan02 sits on top and nothing imports it; no module of the project takes part in a
circle of imports.
"""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# Layers, bottom first; packages of one layer are siblings and do not import each other.
LAYERS = [
    ["core"],
    ["localities"],
    ["tasks"],
    ["reports"],
    ["dashboards"],
    ["alerts"],
    ["support", "inspections"],
    ["integrations", "audit"],
    ["plan02"],
]
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}
PACKAGES = [package for package in RANK if (ROOT / package / "__init__.py").exists()]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_files():
    for package in PACKAGES:
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


def test_no_package_imports_one_above_it_or_beside_it():
    violations = []
    for package, path in _project_files():
        for name in _imports(path):
            top = name.split(".")[0]
            if top in RANK and top != package and RANK[top] >= RANK[package]:
                violations.append(f"{path.relative_to(ROOT)} imports {name} ({top} is not below {package})")
    assert violations == []


def test_core_imports_no_app_and_nothing_imports_plan02():
    importers_of_plan02 = []
    for package, path in _project_files():
        names = {name.split(".")[0] for name in _imports(path)}
        if package == "core":
            assert names.isdisjoint(set(RANK) - {"core"}), path
        elif package != "plan02" and "plan02" in names:
            importers_of_plan02.append(str(path.relative_to(ROOT)))
    assert importers_of_plan02 == []


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
    for package in PACKAGES:
        assert (ROOT / package / "apps.py").exists(), package
    assert {"core", "localities", "tasks", "reports", "dashboards", "alerts", "audit", "plan02"} <= set(PACKAGES)
    assert not (ROOT / "plan02" / "audit").exists()
    # What plan02 keeps is the top only: settings machinery, urls, home, navigation, commands.
    top_modules = {path.stem for path in (ROOT / "plan02").glob("*.py")}
    assert top_modules <= {
        "__init__",
        "apps",
        "asgi",
        "wsgi",
        "celery",
        "settings",
        "urls",
        "views",
        "navigation",
        "context_processors",
    }, top_modules
    assert (ROOT / "templates" / "dashboards").is_dir()
    assert (ROOT / "tests" / "dashboards").is_dir()
