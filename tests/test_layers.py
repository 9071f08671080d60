"""The layers of `src/taskchat`: no module imports a higher layer, and no import circles,
between packages or between modules.

Low to high: core, db, domain (tasks, accounts, files), agent (agent, tools), chat, api, app.
A new module must be given a layer here; an import that goes up fails the suite.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "core",
        (
            "taskchat",
            "taskchat._sdk",
            "taskchat.auth",
            "taskchat.config",
            "taskchat.context",
            "taskchat.drain",
            "taskchat.errors",
            "taskchat.ids",
            "taskchat.logs",
            "taskchat.metrics",
            "taskchat.text",
            "taskchat.validation",
        ),
    ),
    ("db", ("taskchat.db",)),
    ("domain", ("taskchat.tasks", "taskchat.accounts", "taskchat.files")),
    ("agent", ("taskchat.agent", "taskchat.tools")),
    ("chat", ("taskchat.chat",)),
    ("api", ("taskchat.api",)),
    (
        "app",
        (
            "taskchat.app",
            "taskchat.asgi",
            "taskchat.cli",
            "taskchat.cli.common",
            "taskchat.cli.operator",
            "taskchat.cli.frontend_dev",
            "taskchat.cli.serving",
        ),
    ),
]
"""Each layer's modules (a package name covers everything under it), low to high."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(path): path for path in sorted((SRC / "taskchat").rglob("*.py"))}


def imports_of(path: Path, known: Iterable[str]) -> set[str]:
    """The taskchat modules `path` imports."""
    return imports_of_text(path.read_text(), path, known)


def imports_of_text(source: str, path: Path, known: Iterable[str]) -> set[str]:
    """The taskchat modules that `source`, read as the module at `path`, imports anywhere
    (function bodies included): absolute and relative imports, and
    `importlib.import_module` / `__import__` of a literal name."""
    names = set(known)
    importer = module_name(path)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - (node.level - 1)])
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in names else base)
        elif isinstance(node, ast.Call) and node.args:
            called = node.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            first = node.args[0]
            if name in {"import_module", "__import__"} and isinstance(first, ast.Constant):
                found.add(str(first.value))
    return {name for name in found if name == "taskchat" or name.startswith("taskchat.")}


def layer_of(module: str) -> int | None:
    """The index of the layer `module` belongs to (its most specific listing wins)."""
    best: tuple[int, int] | None = None
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            if module == member or (member != "taskchat" and module.startswith(member + ".")):
                if best is None or len(member) > best[1]:
                    best = (index, len(member))
    return None if best is None else best[0]


def package_of(module: str) -> str:
    """The subpackage a module is in (`taskchat.chat` for `taskchat.chat.store.postgres`)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else module


def package_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of nodes (packages, or modules) that import each other, directly or round
    a loop (strongly connected components of more than one), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(groups)


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import in `graph` that goes up a layer, every unplaced module, every cycle
    between packages."""
    problems: list[str] = []
    for importer, imported in sorted(graph.items()):
        low = layer_of(importer)
        if low is None:
            problems.append(f"{importer} has no layer: add it to LAYERS")
            continue
        for target in sorted(imported):
            high = layer_of(target)
            if high is not None and high > low:
                problems.append(
                    f"{importer} ({LAYERS[low][0]}) imports {target} ({LAYERS[high][0]})"
                )
    packages: dict[str, set[str]] = {}
    for importer, imported in graph.items():
        for target in imported:
            if package_of(importer) != package_of(target):
                packages.setdefault(package_of(importer), set()).add(package_of(target))
    for cycle in package_cycles(packages):
        problems.append("package cycle: " + " <-> ".join(cycle))
    # Between modules too, imports inside functions and under TYPE_CHECKING included: a
    # circle is a circle to whoever reads the code, whenever Python runs the import.
    modules = {
        importer: {target for target in imported if target != importer and target in graph}
        for importer, imported in graph.items()
    }
    for cycle in package_cycles(modules):
        problems.append("module cycle: " + " <-> ".join(cycle))
    return problems


def test_no_module_imports_a_higher_layer_and_no_import_circles() -> None:
    known = modules()
    graph = {name: imports_of(path, known) for name, path in known.items()}
    assert len(graph) > 40  # the whole package was read
    assert violations(graph) == []


def test_the_check_catches_an_upward_import_an_unplaced_module_and_cycles() -> None:
    graph = {
        "taskchat.db.engine": {"taskchat.chat.store.postgres"},
        "taskchat.chat.store.postgres": {"taskchat.db.engine"},
        "taskchat.tools.servers": {"taskchat.agent.assistant"},
        "taskchat.agent.assistant": {"taskchat.tools.servers", "taskchat.context"},
        "taskchat.auth": {"taskchat.context"},
        "taskchat.context": {"taskchat.errors"},
        "taskchat.errors": {"taskchat.auth"},
        "taskchat.newthing": set(),
    }
    found = violations(graph)
    assert "taskchat.db.engine (db) imports taskchat.chat.store.postgres (chat)" in found
    assert "taskchat.newthing has no layer: add it to LAYERS" in found
    assert "package cycle: taskchat.agent <-> taskchat.tools" in found
    # A loop of three, each import within the core layer.
    assert "package cycle: taskchat.auth <-> taskchat.context <-> taskchat.errors" in found
    assert "package cycle: taskchat.chat <-> taskchat.db" in found
    # The same loops, seen between modules.
    assert "module cycle: taskchat.auth <-> taskchat.context <-> taskchat.errors" in found
    assert "module cycle: taskchat.chat.store.postgres <-> taskchat.db.engine" in found


def test_a_circle_inside_one_package_is_found() -> None:
    graph = {
        "taskchat.api.chatkit": {"taskchat.api.deps"},
        "taskchat.api.deps": {"taskchat.api.services"},
        "taskchat.api.services": {"taskchat.api.chatkit"},
        "taskchat.api.health": {"taskchat.api.deps"},
    }
    assert violations(graph) == [
        "module cycle: taskchat.api.chatkit <-> taskchat.api.deps <-> taskchat.api.services"
    ]


def test_relative_and_dynamic_imports_are_seen() -> None:
    module = SRC / "taskchat" / "db" / "engine.py"
    known = modules()
    source = (
        "from ..chat import store\n"
        "from . import tables\n"
        "from ..api.services import Services\n"
        "import importlib\n"
        "importlib.import_module('taskchat.app')\n"
        "__import__('taskchat.cli')\n"
    )
    # Read as if it were db/engine.py (its package decides where the dots lead).
    seen = imports_of_text(source, module, known)
    assert seen == {
        "taskchat.chat.store",
        "taskchat.db.tables",
        "taskchat.api.services",
        "taskchat.app",
        "taskchat.cli",
    }


def test_imports_inside_functions_and_from_package_imports_are_seen() -> None:
    known = modules()
    cli = imports_of(known["taskchat.cli"], known)
    # `from taskchat import serving` inside a command body.
    assert "taskchat.cli.serving" in cli
    assert "taskchat.db.local" in cli
