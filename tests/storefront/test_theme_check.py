"""Shopify's theme-check (@shopify/theme-check-node, app-extension rules) passes the extension, fails a broken copy."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.storefront.shopify_liquid import EXTENSION_DIR

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / ".ci" / "theme-check.mjs"
INSTALLED = ROOT / ".ci" / "node" / "node_modules" / "@shopify" / "theme-check-node" / "package.json"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: theme-check (npm) cannot run")


@pytest.fixture(scope="module")
def theme_check() -> str:
    """The node binary, once theme-check is installed in .ci/node (`make test` and .ci/run install it)."""
    assert NODE is not None
    if not INSTALLED.exists():
        done = subprocess.run(["make", "-s", "-C", str(ROOT), "theme-check-install"], capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, f"could not install theme-check into .ci/node:\n{done.stdout}{done.stderr}"
    return NODE


def run_theme_check(node: str, folder: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([node, str(RUNNER), "--json", str(folder)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode in (0, 1), f"theme-check did not run:\n{done.stdout}{done.stderr}"
    report: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, report


def test_the_extension_has_no_offences(theme_check: str) -> None:
    status, report = run_theme_check(theme_check, EXTENSION_DIR)
    offences = "\n".join(f"{o['file']}:{o['line']}: {o['check']}: {o['message']}" for o in report["offences"])
    assert report["offences"] == [], offences
    assert status == 0
    assert {"blocks/eta.liquid", "snippets/backorder-eta-message.liquid", "locales/en.default.json",
            "locales/de.json"} <= set(report["files"])


def test_a_broken_copy_fails(theme_check: str, tmp_path: Path) -> None:
    broken = tmp_path / "backorder-eta"
    shutil.copytree(EXTENSION_DIR, broken)
    block = broken / "blocks" / "eta.liquid"
    block.write_text(block.read_text().replace("'backorder_eta.editor_placeholder' | t",
                                               "'backorder_eta.no_such_key' | t | no_such_filter"))
    german = broken / "locales" / "de.json"
    translations = json.loads(german.read_text())
    del translations["backorder_eta"]["day"]
    german.write_text(json.dumps(translations))
    (broken / "assets" / "backorder-eta.js").write_text("//" + "x" * 12_000)  # over the 10 kB app-block limit

    status, report = run_theme_check(theme_check, broken)

    assert status == 1
    assert {o["check"] for o in report["offences"]} == {
        "TranslationKeyExists", "UnknownFilter", "MatchingTranslations", "AssetSizeAppBlockJavaScript"}
