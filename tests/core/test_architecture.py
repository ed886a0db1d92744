"""The packages under fieldwork/ depend on each other in one direction only.

A package may import only packages lower than itself in `LAYERS`. Exceptions: any package may
import another's `signals` module (signals are leaves), imports under `if TYPE_CHECKING:` do not
count, and the modules at the top of the package (the app factory, the command line, the demo
loader) wire every domain together. A lower package that must react to a higher one subscribes
to the higher one's signal. No package imports another's `_private` names.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import fieldwork

ROOT = Path(fieldwork.__file__).parent

#: Low to high: each package may import only the packages before it.
LAYERS = (
    "core",
    "invites",
    "accounts",
    "audit",
    "api",
    "outbox",
    "messaging",
    "sampling",
    "recruitment",
    "scheduling",
    "reminders",
    "replies",
    "pipeline",
    "coverage",
    "reports",
    "exports",
    "home",
)
RANK = {name: rank for rank, name in enumerate(LAYERS)}
#: Top-level modules that belong to the lowest layer.
CORE_MODULES = {"extensions", "config"}
#: Top-level modules that wire every domain together: the app factory, the command line and
#: the demo loader.
WIRING_MODULES = {"__init__", "cli", "demo"}


@dataclass(frozen=True)
class Import:
    """One import of a fieldwork module from a file under fieldwork/."""

    path: str
    line: int
    source: str
    target_module: str
    names: tuple[str, ...]

    @property
    def target(self) -> str:
        return package_of_module(self.target_module)

    def __str__(self) -> str:
        names = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.path}:{self.line} {self.source} -> {self.target_module}{names}"


def package_of_module(dotted: str) -> str:
    """`fieldwork.recruitment.consent` -> recruitment; `fieldwork.extensions` -> core."""
    parts = dotted.split(".")
    name = parts[1] if len(parts) > 1 else "__init__"
    return "core" if name in CORE_MODULES else name


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_in(nodes: list[ast.stmt], found: list[ast.Import | ast.ImportFrom]) -> None:
    """Every import statement, at any depth (functions too), outside TYPE_CHECKING blocks."""
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            _imports_in(node.orelse, found)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for field in ("body", "orelse", "finalbody", "handlers"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                _imports_in(
                    [c for c in children if isinstance(c, ast.stmt | ast.excepthandler)], found
                )


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def fieldwork_imports() -> list[Import]:
    """Every import of a fieldwork module made by a file of the application (not migrations)."""
    imports = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] == "migrations":
            continue
        module = _module_name(path)
        is_package = path.name == "__init__.py"
        source = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        source = "core" if source in CORE_MODULES else source
        statements: list[ast.Import | ast.ImportFrom] = []
        _imports_in(ast.parse(path.read_text(), str(path)).body, statements)
        for statement in statements:
            for target, names in _targets(statement, module, is_package):
                if target == "fieldwork" or target.startswith("fieldwork."):
                    imports.append(Import(str(relative), statement.lineno, source, target, names))
    return imports


def _targets(
    statement: ast.Import | ast.ImportFrom, module: str, is_package: bool
) -> list[tuple[str, tuple[str, ...]]]:
    """(module imported, names taken from it). `from fieldwork.x import y` where y is a module
    counts as importing fieldwork.x.y."""
    if isinstance(statement, ast.Import):
        return [(alias.name, ()) for alias in statement.names]
    base = statement.module or ""
    if statement.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (statement.level - 1)]
        base = ".".join(package + ([base] if base else []))
    out = []
    for alias in statement.names:
        as_module = f"{base}.{alias.name}"
        if _is_module(as_module):
            out.append((as_module, ()))
        else:
            out.append((base, (alias.name,)))
    return out


def _is_module(dotted: str) -> bool:
    path = ROOT.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def layering_violations() -> list[str]:
    problems = []
    for found in fieldwork_imports():
        source, target = found.source, found.target
        if source in WIRING_MODULES or source == target or target == "__init__":
            continue
        if found.target_module.split(".")[-1] == "signals":
            continue
        if source not in RANK or target not in RANK:
            problems.append(f"{found}  (a package missing from LAYERS)")
        elif RANK[target] > RANK[source]:
            problems.append(f"{found}  ({target} is above {source})")
    return problems


def private_imports() -> list[str]:
    """Private names taken from another package: imported by name, or read off an imported
    module (`outbox_services._helper`)."""
    problems = [
        f"{found}  (private to {found.target})"
        for found in fieldwork_imports()
        if found.source != found.target
        and (
            any(name.startswith("_") and name != "__version__" for name in found.names)
            or any(part.startswith("_") for part in found.target_module.split(".")[1:])
        )
    ]
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] == "migrations":
            continue
        source = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        tree = ast.parse(path.read_text(), str(path))
        foreign = _foreign_module_aliases(tree, _module_name(path), path.name == "__init__.py")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and foreign.get(node.value.id, source) != source
            ):
                problems.append(
                    f"{relative}:{node.lineno} {source} reads {node.value.id}.{node.attr}"
                    f"  (private to {foreign[node.value.id]})"
                )
    return problems


def _foreign_module_aliases(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    """Local name -> package, for every fieldwork module the file imports as a module."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                for target, names in _targets(node, module, is_package):
                    if not names and target.endswith("." + alias.name):
                        aliases[alias.asname or alias.name] = package_of_module(target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name.startswith("fieldwork."):
                    aliases[alias.asname] = package_of_module(alias.name)
    return aliases


def test_every_package_imports_only_packages_below_it():
    """Signals and TYPE_CHECKING imports excepted, no import goes up the layers; the message
    lists every offending import."""
    assert layering_violations() == []


def test_an_import_up_the_layers_is_found(tmp_path, monkeypatch):
    """The check above can fail: in a tree where sampling imports recruitment (at any depth,
    by `from ... import module` too), both imports are reported, the signal and the
    TYPE_CHECKING import are not."""
    root = tmp_path / "fieldwork"
    for package in ("sampling", "recruitment"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "recruitment" / "lists.py").write_text("")
    (root / "recruitment" / "signals.py").write_text("")
    (root / "sampling" / "views.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from fieldwork.recruitment import signals\n"
        "if TYPE_CHECKING:\n"
        "    from fieldwork.recruitment.models import Consent\n"
        "def page():\n"
        "    from fieldwork.recruitment import lists\n"
        "    import fieldwork.recruitment.lists\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", root)
    assert [problem.split(" ", 1)[0] for problem in layering_violations()] == [
        "sampling/views.py:6",
        "sampling/views.py:7",
    ]


def test_no_package_imports_another_packages_private_names():
    assert private_imports() == []


def test_every_package_has_a_place_in_the_layers():
    packages = {
        path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name != "migrations"
    }
    assert packages - set(LAYERS) == set()
