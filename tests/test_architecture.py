"""The import graph: the contracts in pyproject.toml ([tool.importlinter]) hold, and would catch an upward arrow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint_imports(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([LINT_IMPORTS, "--no-cache", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_every_import_contract_is_kept():
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_arrow_breaks_the_layers(tmp_path):
    # The same checker with two layers swapped: app.models imports app.control, which would then point up.
    config = tmp_path / "upside-down.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "app"\n\n'
        '[[tool.importlinter.contracts]]\nname = "control above models"\ntype = "layers"\n'
        'layers = ["app.control", "app.models"]\n'
    )
    result = lint_imports("--config", str(config))
    assert result.returncode == 1
    assert "app.models is not allowed to import app.control" in result.stdout


def test_the_dedupe_key_column_fits_every_key_the_parsers_make():
    from app.ingest.dedupe import DEDUPE_KEY_LENGTH
    from app.models import SpendRecord

    assert SpendRecord.__table__.c.dedupe_key.type.length == DEDUPE_KEY_LENGTH
