"""`make demo` as Prometheus sees it: while the demo's orders run, the worker's and the webhooks
service's endpoints carry the order, delivery, partner, ERP queue and inventory series with
values, and every series the Grafana dashboard plots is in one of them."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from infra.build import PROJECT_ROOT
from infra.processes import Service, free_port
from tests.demo_process import demo_process

DASHBOARD = PROJECT_ROOT / "deploy/grafana/dashboards/orchestrator.json"


def series(text: str) -> dict[str, float]:
    """Sample name -> the sum of its values."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name] = found.get(sample.name, 0.0) + sample.value
    return found


def saga_count(text: str, status: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "orchestrator_sagas_total"
        and s.labels["kind"] == "OrderToCashWorkflow"
        and s.labels["status"] == status
    )


def plotted() -> set[str]:
    """Every series name a panel of the dashboard queries."""
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    return {name for expr in exprs for name in re.findall(r"\b(?:orchestrator|temporal)_\w+", expr)}


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[Service, int, int]]:
    worker_port, webhooks_port = free_port(), free_port()
    async with demo_process(tmp_path, ["--orders", "4"], worker_port, webhooks_port) as starter:
        yield starter, worker_port, webhooks_port


async def test_a_demo_run_shows_in_both_metrics_endpoints(
    demo: tuple[Service, int, int],
) -> None:
    starter, worker_port, webhooks_port = demo
    deadline = time.monotonic() + 240
    worker = webhooks = ""
    while time.monotonic() < deadline:
        assert starter.alive(), f"the demo exited:\n{starter.tail(40)}"
        try:
            async with httpx.AsyncClient() as http:
                worker = (await http.get(f"http://127.0.0.1:{worker_port}/metrics")).text
                webhooks = (await http.get(f"http://127.0.0.1:{webhooks_port}/metrics")).text
        except httpx.TransportError:  # still starting
            await asyncio.sleep(0.5)
            continue
        if saga_count(worker, "COMPLETED") >= 1 and "orchestrator_inventory_push_lag" in worker:
            break
        await asyncio.sleep(0.5)
    assert saga_count(worker, "COMPLETED") >= 1, f"no order completed:\n{starter.tail(40)}"
    assert saga_count(worker, "RECEIVED") >= saga_count(worker, "COMPLETED")
    found = {**series(worker), **series(webhooks)}
    for name in (
        "orchestrator_deliveries_total",
        "orchestrator_delivery_ack_seconds_count",
        "orchestrator_partner_calls_total",
        "orchestrator_partner_call_seconds_count",
        "orchestrator_inventory_push_lag_seconds_count",
    ):
        assert found.get(name, 0) > 0, name
    assert "orchestrator_erp_queue_depth" in found
    assert plotted() - set(found) == set(), "the dashboard plots series nobody serves"
