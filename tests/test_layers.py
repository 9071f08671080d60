"""The layers of `src/taskchat`: no module imports a higher layer, no package cycles.

Low to high: core, db, domain (tasks, accounts), agent (agent, tools), chat, api, app.
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
        ),
    ),
    ("db", ("taskchat.db",)),
    ("domain", ("taskchat.tasks", "taskchat.accounts")),
    ("agent", ("taskchat.agent", "taskchat.tools")),
    ("chat", ("taskchat.chat",)),
    ("api", ("taskchat.api",)),
    (
        "app",
        (
            "taskchat.app",
            "taskchat.asgi",
            "taskchat.cli",
            "taskchat.frontend_dev",
            "taskchat.serving",
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
    """The taskchat modules `path` imports, anywhere in it (function bodies included)."""
    names = set(known)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in names else node.module)
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
    """The subpackage a module is in (`taskchat.chat` for `taskchat.chat.store`)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else module


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
    for start in sorted(packages):
        for middle in sorted(packages[start]):
            if start in packages.get(middle, set()):
                problems.append(f"package cycle: {start} <-> {middle}")
    return problems


def test_no_module_imports_a_higher_layer_and_no_package_cycles() -> None:
    known = modules()
    graph = {name: imports_of(path, known) for name, path in known.items()}
    assert len(graph) > 40  # the whole package was read
    assert violations(graph) == []


def test_the_check_catches_an_upward_import_an_unplaced_module_and_a_cycle() -> None:
    graph = {
        "taskchat.db.engine": {"taskchat.chat.store"},
        "taskchat.chat.store": {"taskchat.db.engine"},
        "taskchat.tools.servers": {"taskchat.agent.assistant"},
        "taskchat.agent.assistant": {"taskchat.tools.servers", "taskchat.context"},
        "taskchat.newthing": set(),
    }
    found = violations(graph)
    assert "taskchat.db.engine (db) imports taskchat.chat.store (chat)" in found
    assert "taskchat.newthing has no layer: add it to LAYERS" in found
    assert "package cycle: taskchat.agent <-> taskchat.tools" in found
    assert not any("taskchat.context" in problem for problem in found)


def test_imports_inside_functions_and_from_package_imports_are_seen() -> None:
    known = modules()
    cli = imports_of(known["taskchat.cli"], known)
    # `from taskchat import serving` inside a command body.
    assert "taskchat.serving" in cli
    assert "taskchat.db.local" in cli
