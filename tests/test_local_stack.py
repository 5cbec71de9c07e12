"""Two local stacks with their own DATA_DIR and ports run side by side, each starting its own
Temporal dev server on its local TEMPORAL_ADDRESS; a stack never uses a port or a data
directory that is another's, and says so in one sentence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cli.stack import LocalStack, StackRefused
from infra.build import PROJECT_ROOT
from infra.processes import free_port
from infra.settings import Settings


def own_ports(data_dir: Path) -> dict[str, str]:
    return {
        "DATA_DIR": str(data_dir),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "TEMPORAL_UI_PORT": str(free_port()),
        "SANDBOX_URL": f"http://127.0.0.1:{free_port()}",
        "WEBHOOKS_PORT": str(free_port()),
        "CODEC_PORT": str(free_port()),
        "WORKER_METRICS_PORT": str(free_port()),
        "WALMART_POLL_SECONDS": "0",
    }


def stack(env: dict[str, str]) -> LocalStack:
    return LocalStack(Settings.from_env(env))


def test_two_stacks_side_by_side_and_nothing_of_theirs_reused(tmp_path: Path) -> None:
    first, second = stack(own_ports(tmp_path / "a")), stack(own_ports(tmp_path / "b"))
    try:
        first.start()
        second.start()
        for running in (first, second):
            assert running.started_temporal  # its own dev server, on its local address
            webhooks = f"http://127.0.0.1:{running.settings.webhooks_port}"
            ready = httpx.get(f"{webhooks}/readyz", timeout=10).json()
            assert (ready["temporal"], ready["database"]) == ("ok", "ok")
        assert (tmp_path / "a" / "temporal.db").exists() and (
            tmp_path / "b" / "temporal.db"
        ).exists()

        sandbox_port = first.settings.sandbox_url.rpartition(":")[2]
        taken = {**own_ports(tmp_path / "c"), "SANDBOX_URL": first.settings.sandbox_url}
        refused = stack(taken)
        with pytest.raises(StackRefused) as said:
            refused.start()
        assert str(said.value) == (
            f"Port {sandbox_port} (SANDBOX_URL) in use by another program: stop it, or set "
            "SANDBOX_URL to free ports for this stack."
        )
        assert refused.services == []  # nothing of its own was started

        with pytest.raises(StackRefused, match=r"Another local stack \(pid \d+\) is running on"):
            stack(own_ports(tmp_path / "a")).start()
        not_temporal = {
            **own_ports(tmp_path / "d"),
            "TEMPORAL_ADDRESS": f"127.0.0.1:{sandbox_port}",
        }
        with pytest.raises(StackRefused, match="answers, but not as a Temporal server"):
            stack(not_temporal).start()

        # The command says it in one sentence, exit 1, before starting anything.
        result = subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "starter.py"), "run"],
            env={"PATH": "/usr/bin:/bin", **taken},
            capture_output=True,
            text=True,
            timeout=60,
            cwd=PROJECT_ROOT,
        )
        assert result.returncode == 1
        assert result.stderr.splitlines()[0].startswith(f"Port {sandbox_port} (SANDBOX_URL) in use")
        assert "Traceback" not in result.stderr
    finally:
        second.stop()
        first.stop()
    again = stack(own_ports(tmp_path / "a"))  # stopped: its DATA_DIR is free again
    again._claim_data_dir()
    again.stop()


def test_a_stacks_processes_seal_with_its_keys(tmp_path: Path) -> None:
    """Its clients (the bench's, the demo's) and its services read customers' data keys from
    one store: a payload sealed by one opens in the other."""
    keys = f"sqlite:///{tmp_path / 'customer-keys.db'}"
    local = stack({**own_ports(tmp_path / "a"), "CUSTOMER_KEYS_DATABASE_URL": keys})
    children = Settings.from_env(local._env())
    assert children.customer_keys_url == keys == local.settings.customer_keys_url
    assert children.keyring.keys == local.settings.keyring.keys
