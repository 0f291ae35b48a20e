"""The WooCommerce plugin: `php -l` on every PHP file, its PHPUnit suite, and translation files that match the code."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from connector.platforms.woocommerce.storefront import META_EARLIEST, META_ETA, META_LATEST, META_TEXT

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "extensions" / "woocommerce-backorder-eta"
PHP_TESTS = Path(__file__).resolve().parent / "woocommerce"
LANGUAGES = PLUGIN / "languages"
DOMAIN = "woocommerce-backorder-eta"
PHP = shutil.which("php")
needs_php = pytest.mark.skipif(PHP is None, reason="no php (apt-get install php-cli phpunit, as .ci/run does)")

# Calls of WordPress's gettext functions: __( 'text', 'domain' ), _x( 'text', 'context', 'domain' ), esc_html__...
GETTEXT_CALL = re.compile(
    r"\b(?P<fn>__|_x|esc_html__|esc_html_x|esc_attr__|esc_attr_x|_e|esc_html_e)\(\s*"
    r"(?P<args>'(?:[^'\\]|\\.)*'(?:\s*,\s*'(?:[^'\\]|\\.)*')*)\s*\)")
PHP_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'")
PLACEHOLDER = re.compile(r"%(?:\d+\$)?[sd]")


def php_files() -> list[Path]:
    return sorted([*PLUGIN.rglob("*.php"), *PHP_TESTS.rglob("*.php")])


@needs_php
@pytest.mark.parametrize("path", php_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_php_lint(path: Path) -> None:
    assert PHP is not None
    done = subprocess.run([PHP, "-l", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No syntax errors detected" in done.stdout


@needs_php
def test_phpunit_suite_passes(tmp_path: Path) -> None:
    phpunit = shutil.which("phpunit")
    assert phpunit is not None, "php is installed but phpunit is not: apt-get install phpunit (.ci/run installs it)"
    junit = tmp_path / "junit.xml"
    done = subprocess.run([phpunit, "-c", str(PHP_TESTS / "phpunit.xml"), "--log-junit", str(junit)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert int(suite.get("failures", "1")) == 0 and int(suite.get("errors", "1")) == 0
    assert int(suite.get("skipped", "0")) == 0
    assert int(suite.get("tests", "0")) >= 30


def php_literal(text: str) -> str:
    """The value of a single-quoted PHP string literal's body."""
    return text.replace("\\'", "'").replace("\\\\", "\\")


def source_strings() -> set[tuple[str | None, str]]:
    """(context, msgid) of every translatable string in the plugin's PHP."""
    found: set[tuple[str | None, str]] = set()
    for path in PLUGIN.rglob("*.php"):
        for call in GETTEXT_CALL.finditer(path.read_text(encoding="utf-8")):
            args = [php_literal(a) for a in PHP_STRING.findall(call.group("args"))]
            has_context = call.group("fn").endswith("_x")
            assert args[-1] == DOMAIN, f"{path.name}: {call.group(0)} does not use the text domain {DOMAIN}"
            assert len(args) == (3 if has_context else 2), f"{path.name}: {call.group(0)}"
            found.add((args[1] if has_context else None, args[0]))
    return found


def plugin_header() -> dict[str, str]:
    header = re.search(r"/\*\*(.*?)\*/", (PLUGIN / f"{DOMAIN}.php").read_text(encoding="utf-8"), re.DOTALL)
    assert header
    fields = {}
    for line in header.group(1).splitlines():
        match = re.match(r"\s*\*\s*([A-Za-z][A-Za-z ]+?):\s+(.+)", line)
        if match:
            fields[match.group(1)] = match.group(2).strip()
    return fields


def read_po(path: Path) -> dict[tuple[str | None, str], str]:
    """(context, msgid) -> msgstr of a .po or .pot file, without the header entry."""
    entries: dict[tuple[str | None, str], str] = {}
    current: dict[str, str] = {}
    field = ""

    def flush() -> None:
        if "msgid" in current and current["msgid"] != "":
            entries[(current.get("msgctxt"), current["msgid"])] = current.get("msgstr", "")
        current.clear()

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            flush()
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'(msgctxt|msgid|msgstr)\s+(".*")$', line)
        if match:
            if match.group(1) in current and match.group(1) != "msgstr":
                flush()
            field = match.group(1)
            current[field] = ast.literal_eval(match.group(2))
        elif line.startswith('"'):
            current[field] += ast.literal_eval(line)
    return entries


def test_the_pot_holds_exactly_the_plugins_strings() -> None:
    header = plugin_header()
    expected = source_strings() | {(None, header[name]) for name in ("Plugin Name", "Description", "Author")}
    pot = read_po(LANGUAGES / f"{DOMAIN}.pot")
    assert set(pot) == expected
    assert all(value == "" for value in pot.values())
    assert len(source_strings()) >= 9


def test_the_german_translation_is_complete_and_compiled() -> None:
    pot = read_po(LANGUAGES / f"{DOMAIN}.pot")
    po = read_po(LANGUAGES / f"{DOMAIN}-de_DE.po")
    assert set(po) == set(pot)
    for (_context, msgid), msgstr in po.items():
        assert msgstr, f"untranslated: {msgid}"
        assert sorted(PLACEHOLDER.findall(msgstr)) == sorted(PLACEHOLDER.findall(msgid)), msgid
    with (LANGUAGES / f"{DOMAIN}-de_DE.mo").open("rb") as handle:
        mo = gettext.GNUTranslations(handle)
    for (context, msgid), msgstr in po.items():
        compiled = mo.pgettext(context, msgid) if context else mo.gettext(msgid)
        assert compiled == msgstr, f"the .mo is out of date for {msgid!r} (msgfmt -o ... {DOMAIN}-de_DE.po)"


def test_plugin_header() -> None:
    header = plugin_header()
    assert header["Text Domain"] == DOMAIN == PLUGIN.name
    assert header["Domain Path"] == "/languages" and LANGUAGES.is_dir()
    assert header["Requires Plugins"] == "woocommerce"
    assert header["Version"] in (PLUGIN / "readme.txt").read_text(encoding="utf-8")
    for path in PLUGIN.rglob("*.php"):
        source = path.read_text(encoding="utf-8")
        assert "defined( 'ABSPATH' ) || exit;" in source, f"{path.name} can be loaded directly"


def test_the_plugin_reads_the_same_keys_as_woocommerce_meta() -> None:
    source = (PLUGIN / "includes" / "class-backorder-eta.php").read_text(encoding="utf-8")
    constants = dict(re.findall(r"const (META_\w+)\s*= '([^']+)';", source))
    assert sorted(constants.values()) == sorted([META_ETA, META_EARLIEST, META_LATEST, META_TEXT])  # what the connector writes
    readme = (PLUGIN / "readme.txt").read_text(encoding="utf-8")
    for key in constants.values():
        assert f"`{key}`" in readme, f"{key} is not documented in readme.txt"
