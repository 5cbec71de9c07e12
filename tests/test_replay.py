"""Every recorded history replays against today's workflow code: the current set, and the set
kept from before each patch still in the code (README "Changing a workflow")."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.common import VersioningBehavior

from tests.histories_catalog import (
    HISTORIES,
    behaviour,
    file_prefix,
    kept_sets,
    patch_ids_in_code,
    recorded,
    replay,
    workflow_type,
)
from workflows.all import WORKFLOWS


def test_every_workflow_type_has_recorded_histories() -> None:
    current = {workflow_type(path) for path in recorded(recursive=False)}
    assert current == {file_prefix(cls) for cls in WORKFLOWS}


def test_every_workflow_type_says_how_it_is_versioned() -> None:
    behaviours = {cls.__name__: behaviour(cls) for cls in WORKFLOWS}
    unset = [name for name, b in behaviours.items() if b is VersioningBehavior.UNSPECIFIED]
    assert unset == []


def test_every_patch_keeps_the_histories_from_before_it() -> None:
    """A patch guards runs that took the old path: their histories stay replayed while the old
    branch is there, and go with it (deprecate_patch)."""
    patches, kept = patch_ids_in_code(), set(kept_sets())
    assert patches - kept == set(), "record with KEEP=<patch id> (make record-histories)"
    assert kept - patches == set(), "the old branch is gone: delete tests/histories/before-<id>/"


@pytest.mark.parametrize(
    "path", recorded(), ids=lambda p: str(p.relative_to(HISTORIES).with_suffix(""))
)
async def test_history_replays(path: Path) -> None:
    result = await replay(path)
    assert result.replay_failure is None, result.replay_failure
