"""The layout is the architecture: no service imports another, the gateway imports no
service's internals, the shared plumbing depends on nothing above it (import-linter
contracts in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports() -> str:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is not installed"
    return exe


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        [_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


def test_a_forbidden_import_is_caught(tmp_path: Path) -> None:
    """The contract is not vacuous: a service importing another breaks it."""
    offender = ROOT / "services" / "catalog" / "_import_probe.py"
    offender.write_text("import services.clients.domain.model  # noqa: F401\n")
    try:
        result = subprocess.run(
            [_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
    finally:
        offender.unlink()
    assert result.returncode != 0
    assert "broken" in result.stdout
