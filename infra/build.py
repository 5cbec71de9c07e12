"""Which build of the code this process runs: the Worker Deployment Version's build id."""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    run = subprocess.run(
        ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10
    )
    return run.stdout.strip() if run.returncode == 0 else ""


@functools.cache
def build_id() -> str:
    """`{package version}+{git revision}`, `.dirty` after it while tracked files have
    uncommitted changes; `+unknown` outside a git checkout (an image sets WORKER_BUILD_ID)."""
    try:
        version = metadata.version("retail-orchestrator")
    except metadata.PackageNotFoundError:
        version = "0"
    try:
        revision = _git("rev-parse", "--short=12", "HEAD") or "unknown"
        dirty = revision != "unknown" and bool(
            _git("status", "--porcelain", "--untracked-files=no")
        )
    except (OSError, subprocess.SubprocessError):
        revision, dirty = "unknown", False
    return f"{version}+{revision}{'.dirty' if dirty else ''}"
