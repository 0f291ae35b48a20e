"""The import graph keeps the design's one-way data flow: a walk of every module's imports (ast, no import)."""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_PACKAGES = ("connector.platforms.shopify", "connector.platforms.woocommerce")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file (function-level and TYPE_CHECKING ones too),
    relative imports resolved against `package` (by default the file's own)."""
    if package is None:
        package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return found


def modules_under(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def within(module: str, *prefixes: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def violations(folder: str, allowed: Callable[[str], bool], reason: str) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {target} ({reason})"
        for path in modules_under(folder)
        for line, target in imports_of(path)
        if not allowed(target)
    ]


def test_the_engine_imports_only_the_standard_library_and_itself() -> None:
    def allowed(target: str) -> bool:
        return target.split(".")[0] in sys.stdlib_module_names or within(target, "connector.engine")

    assert violations("connector/engine", allowed, "the engine is pure") == []


def test_the_intake_never_imports_the_web_app() -> None:
    assert violations("webhooks", lambda target: not within(target, "connector.web"),
                      "the web app mounts the intake, not the other way round") == []


def test_the_web_app_never_imports_the_cli() -> None:
    assert violations("connector/web", lambda target: not within(target, "connector.commands", "connector.cli"),
                      "one parser serves both; it lives below them") == []


@pytest.mark.parametrize("folder", ["connector/pipeline", "connector/engine", "connector/store", "connector/notify",
                                    "connector/feeds"])
def test_only_platforms_know_the_platforms(folder: str) -> None:
    assert violations(folder, lambda target: not within(target, *PLATFORM_PACKAGES),
                      "ask connector.platforms.kind_of or the Platform interface") == []


def test_the_product_never_imports_the_sandbox() -> None:
    for folder in ("connector", "webhooks"):
        assert violations(folder, lambda target: not within(target, "sandbox"), "the sandbox is not installed") == []


def test_the_pipeline_and_commands_never_ask_which_platform_they_talk_to() -> None:
    comparison = re.compile(r"""platform ?(==|!=|in) ?\(?["']""")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in ("connector/pipeline", "connector/commands")
        for path in modules_under(folder)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if comparison.search(line)
    ]
    assert found == []


def test_the_walk_finds_every_kind_of_import(tmp_path: Path) -> None:
    # The contracts above pass because nothing breaks them, not because the walk misses imports.
    probe = tmp_path / "probe.py"
    probe.write_text("import json\nfrom connector.platforms import kind_of\n"
                     "def late():\n    from ..web import app\n    from . import sibling\n")
    assert imports_of(probe, package="connector.engine") == [
        (1, "json"), (2, "connector.platforms"), (4, "connector.web"), (5, "connector.engine")]


def test_the_dashboard_asks_the_outbox_to_queue_actions() -> None:
    # The outbox is the one writer of action rows: nothing under connector/web builds one itself.
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in modules_under("connector/web")
        for node in ast.walk(ast.parse(path.read_text()))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Action")
        or (isinstance(node, ast.Attribute) and node.attr == "__table__"
            and isinstance(node.value, ast.Name) and node.value.id == "Action")
    ]
    assert found == []
