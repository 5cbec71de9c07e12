"""Probes say what an orchestrator (a load balancer, Kubernetes) needs to know: the webhooks
service is alive, and ready only while Temporal answers and its database takes writes; the
worker is ready while its workers poll and Temporal answers."""

from __future__ import annotations

from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from bootstrap.probe import worker_probe
from infra.processes import free_port
from infra.settings import Settings
from webhooks.app import create_app


async def ready(settings: Settings) -> tuple[int, dict[str, str]]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://webhooks") as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        answer = await http.get("/readyz")
    return answer.status_code, answer.json()


async def test_the_webhooks_service_is_ready_only_when_it_can_act(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    database = tmp_path / "inbox.db"
    env = {"DATABASE_URL": f"sqlite:///{database}"}
    target = dev_env.client.service_client.config.target_host
    assert await ready(Settings.from_env({**env, "TEMPORAL_ADDRESS": target})) == (
        200,
        {"status": "ready", "temporal": "ok", "database": "ok"},
    )
    status, down = await ready(Settings.from_env({**env, "TEMPORAL_ADDRESS": "127.0.0.1:9"}))
    assert status == 503 and down["temporal"].startswith("unreachable")
    assert down["database"] == "ok"

    # The disk went read-only under it (the same database, opened read-only).
    read_only = {
        "DATABASE_URL": f"sqlite:///file:{database}?mode=ro&uri=true",
        "INVENTORY_DATABASE_URL": f"sqlite:///{tmp_path / 'inventory.db'}",
    }
    status, full = await ready(Settings.from_env({**read_only, "TEMPORAL_ADDRESS": target}))
    assert status == 503 and full["database"].startswith("not writable"), full


async def test_the_worker_probe_answers_while_its_workers_run(
    dev_env: WorkflowEnvironment,
) -> None:
    port = free_port()
    async with (
        worker_probe(dev_env.client, "127.0.0.1", port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        answer = await http.get("/readyz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ready", "temporal": "ok"})
    async with httpx.AsyncClient() as http:
        try:
            await http.get(f"http://127.0.0.1:{port}/healthz")
            raise AssertionError("the probe still answers after its block")
        except httpx.ConnectError:
            pass
