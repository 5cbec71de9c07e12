"""`make tryton` says what it is doing: a long step (creating the database, ~70 s on a first
run) reports that it goes on, and a failed step stops with its exit status."""

from __future__ import annotations

import subprocess

import pytest

from tryton_local import instance
from tryton_local.instance import run_step


def test_a_long_step_says_it_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instance, "TICK", 0.05)
    said: list[str] = []
    run_step(["sleep", "0.3"], "creating the database", said.append)
    assert said and all(line.startswith("  … creating the database: ") for line in said)


def test_a_failed_step_stops_with_its_status() -> None:
    with pytest.raises(subprocess.CalledProcessError):
        run_step(["false"], "seeding", lambda _: None)
