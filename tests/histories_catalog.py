"""The recorded histories and how to replay them: the current set in tests/histories/ and, for
each patch not yet removed, the set recorded before it in tests/histories/before-<patch id>/."""

from __future__ import annotations

import json
import re
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.common import VersioningBehavior
from temporalio.worker import Replayer, WorkflowReplayResult

from infra.codec import encrypted_converter
from infra.keyring import Keyring
from workflows.all import RUNNER, WORKFLOWS

HISTORIES = Path(__file__).parent / "histories"
# The recorded histories' payloads are sealed as a deployment's are, with this test-only key
# (no running stack ever uses it); histories recorded before encryption replay as they are.
HISTORY_KEYS = Keyring.parse((HISTORIES / "payload-keys").read_text(), "histories/payload-keys")
HISTORY_CONVERTER = encrypted_converter(HISTORY_KEYS)
WORKFLOWS_DIR = Path(__file__).resolve().parents[1] / "workflows"
PATCHED = re.compile(r"workflow\.patched\(\s*[\"']([^\"']+)[\"']")


def workflow_type(path: Path) -> str:
    """`order_to_cash__completed.json` -> `order_to_cash`."""
    return path.stem.split("__", 1)[0]


def recorded(folder: Path = HISTORIES, recursive: bool = True) -> list[Path]:
    pattern = "**/*__*.json" if recursive else "*__*.json"
    return sorted(folder.glob(pattern))


def workflow_id(path: Path) -> str:
    """The id the history ran under (child workflow ids derive from it)."""
    ids: dict[str, str] = json.loads((path.parent / "workflow_ids.json").read_text())
    return ids[path.stem]


async def replay(path: Path) -> WorkflowReplayResult:
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=HISTORY_CONVERTER, workflow_runner=RUNNER
    )
    history = WorkflowHistory.from_json(workflow_id(path), path.read_text())
    return await replayer.replay_workflow(history, raise_on_replay_failure=False)


def patch_ids_in_code() -> set[str]:
    """Patch ids the workflows still branch on with `workflow.patched` (the old path kept)."""
    return {m for f in WORKFLOWS_DIR.glob("*.py") for m in PATCHED.findall(f.read_text())}


def kept_sets() -> dict[str, Path]:
    """patch id -> the folder of histories recorded before it."""
    return {d.name.removeprefix("before-"): d for d in HISTORIES.glob("before-*") if d.is_dir()}


def file_prefix(cls: type) -> str:
    """`OrderToCashWorkflow` -> `order_to_cash`: how its history files begin."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__.removesuffix("Workflow")).lower()


def behaviour(cls: type) -> VersioningBehavior:
    definition = getattr(cls, "__temporal_workflow_definition")
    behavior: VersioningBehavior = definition.versioning_behavior
    return behavior


AUTO_UPGRADE = {
    file_prefix(cls) for cls in WORKFLOWS if behaviour(cls) is VersioningBehavior.AUTO_UPGRADE
}
