"""The layering of pyproject.toml's import contracts holds: `make test` fails on an import that
crosses a layer upward, makes a cycle between top-level packages, or reaches I/O from the
canonical model or the workflows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_nothing_reads_outside_the_repository() -> None:
    """A clone alone passes `make test`: no tracked file names the folder beside it."""
    beside = "../" + "shared"
    tracked = subprocess.run(
        ["git", "grep", "-l", "-F", beside], cwd=ROOT, capture_output=True, text=True
    )
    assert tracked.stdout == "", f"files that reach outside the repository:\n{tracked.stdout}"
