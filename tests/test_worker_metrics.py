"""The worker's Prometheus endpoint: the SDK's own metrics; one count per saga reaching a
status, by kind, channel, status and exception code (emitted from the workflow through the
SDK's meter, so a replay never counts twice); partner calls by system and outcome with their
latency; inventory push lag by channel; the ERP queue's backlog."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from infra.logs import sdk_runtime
from infra.processes import free_port
from sandbox.shipstation import AutoShip
from testing.harness import completed_sandbox_order, order_harness
from tests.conftest import CONVERTER


def samples(text: str, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    """The series `name` from the scraped text, summed by the values of `labels`."""
    found: dict[tuple[str, ...], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                key = tuple(s.labels[label] for label in labels)
                found[key] = found.get(key, 0.0) + s.value
    return found


async def test_the_worker_counts_sagas_for_prometheus(dev_env: WorkflowEnvironment) -> None:
    port = free_port()
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=dev_env.client.namespace,
        data_converter=CONVERTER,
        runtime=sdk_runtime(f"127.0.0.1:{port}"),
    )
    async with order_harness(client, autoship=AutoShip(after_seconds=0.2)) as h:
        await completed_sandbox_order(h)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    sagas = samples(text, "orchestrator_sagas_total", "kind", "channel", "status")
    assert sagas[("OrderToCashWorkflow", "shopify", "RECEIVED")] == 1
    assert sagas[("OrderToCashWorkflow", "shopify", "COMPLETED")] == 1
    assert "temporal_workflow_completed" in text  # the SDK's own metrics beside ours

    calls = samples(text, "orchestrator_partner_calls_total", "system", "outcome")
    for system in ("shopify", "netsuite", "avatax", "shipstation"):
        assert calls[(system, "ok")] >= 1, calls
    timed = samples(text, "orchestrator_partner_call_seconds_count", "system")
    assert timed[("netsuite",)] == sum(n for (s, _), n in calls.items() if s == "netsuite")
    # The order took stock: its channels were told, and how long that took is measured.
    lag = samples(text, "orchestrator_inventory_push_lag_seconds_count", "channel")
    assert lag[("shopify",)] >= 1
    assert "orchestrator_erp_queue_depth" in text
