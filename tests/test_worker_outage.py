"""A worker started while Temporal is down waits for it instead of exiting, connects once the
server is up, and stops on SIGTERM with exit 0 (no interpreter abort at exit)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

from cli.stack import dev_server_args
from infra.processes import Service, free_port
from infra.settings import PROJECT_ROOT
from testing.eventually import eventually


async def test_a_worker_started_before_temporal_waits_and_then_serves(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'orchestrator.db'}",
        "ORDER_TASK_QUEUE": f"outage-{uuid.uuid4().hex[:8]}",
        "WORKER_DEPLOYMENT_NAME": f"outage-{uuid.uuid4().hex[:8]}",
        "PYTHONUNBUFFERED": "1",
    }
    worker = Service("worker", [sys.executable, str(PROJECT_ROOT / "worker.py")], env, tmp_path)
    temporal: Service | None = None
    try:
        await eventually(
            lambda: worker.log_path.read_text(), lambda log: "not reachable" in log, what="wait"
        )
        assert worker.alive(), worker.tail()
        server = dev_server_args("127.0.0.1", port, free_port(), "default", None)
        temporal = Service("temporal", server, {}, tmp_path)
        await eventually(
            lambda: worker.log_path.read_text(),
            lambda log: "connected to Temporal" in log,
            what="connected",
            timeout=60,
        )
        worker.stop()
        assert worker.process.returncode == 0, worker.tail()
        assert "Fatal Python error" not in worker.log_path.read_text()
    finally:
        worker.stop()
        if temporal is not None:
            temporal.stop()
