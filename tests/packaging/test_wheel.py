"""The wheel merchants install holds the connector and the intake only: no sandbox store, no demo."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_has_no_sandbox_or_demo_code(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-qq", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                   check=True, timeout=240)
    [wheel] = tmp_path.glob("backorder_connector-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_levels = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert top_levels == {"connector", "webhooks"}
    assert not [name for name in names if "sandbox" in name.lower() or "demo" in Path(name).stem.lower()]
    assert "connector/cli.py" in names and "webhooks/shopify.py" in names
