"""The worker's Prometheus endpoint: the SDK's own metrics and one count per saga reaching a
status, by kind, channel, status and exception code (emitted from the workflow through the
SDK's meter, so a replay never counts twice)."""

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


def sagas(text: str) -> dict[tuple[str, str, str], float]:
    """(kind, channel, status) -> count, from the scraped text."""
    return {
        (s.labels["kind"], s.labels["channel"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "orchestrator_sagas_total"
    }


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
    counted = sagas(text)
    assert counted[("OrderToCashWorkflow", "shopify", "RECEIVED")] == 1
    assert counted[("OrderToCashWorkflow", "shopify", "COMPLETED")] == 1
    assert "temporal_workflow_completed" in text  # the SDK's own metrics beside ours
