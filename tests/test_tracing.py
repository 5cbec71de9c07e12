"""One order, one trace: the Shopify delivery's request to the webhooks service → the workflow
it starts → its activities → their HTTP calls to the partners, each Temporal span naming the
order. Traced into an in-memory exporter; the settings that turn tracing on are checked too."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from adapters.shopify import order_from_webhook
from canonical.order import order_key_of_workflow
from infra.tracing import (
    ORDER_KEY,
    WORKFLOW_ID,
    TracingSettingsError,
    exporter_from_env,
    start_tracing,
    stop_tracing,
    temporal_interceptors,
)
from sandbox.shipstation import AutoShip
from services.orders import result_once_started
from testing.harness import order_harness
from tests.conftest import CONVERTER
from tests.signing import deliver_shopify


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    start_tracing("test", SimpleSpanProcessor(exporter), order_key_of_workflow)
    try:
        yield exporter
    finally:
        stop_tracing()
    assert temporal_interceptors() == []  # off again for the tests after this one


def ancestry(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    """The names from `span` up to its trace's root."""
    names = []
    current: ReadableSpan | None = span
    while current is not None:
        names.append(current.name)
        parent = current.parent
        current = by_id.get(parent.span_id) if parent is not None else None
    return names


async def test_one_order_is_one_trace_from_webhook_to_partner_http(
    dev_env: WorkflowEnvironment, spans: InMemorySpanExporter
) -> None:
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=dev_env.client.namespace,
        data_converter=CONVERTER,
        interceptors=temporal_interceptors(),
    )
    async with order_harness(client, autoship=AutoShip(after_seconds=0.2)) as h:
        body = httpx.post(f"{h.settings.sandbox_url}/_sandbox/shopify/orders", json={"count": 1})
        delivery = body.json()[0]
        order = order_from_webhook(delivery)
        answer = await deliver_shopify(h.settings, delivery)
        assert answer.status_code == 202, answer.text
        await result_once_started(client, order.workflow_id)  # 202: started behind the answer

    finished = spans.get_finished_spans()
    (request,) = [s for s in finished if s.name == "POST /webhooks/shopify"]
    assert request.attributes is not None and request.attributes[ORDER_KEY] == order.key
    trace = [s for s in finished if s.context.trace_id == request.context.trace_id]
    by_id = {s.context.span_id: s for s in trace}
    names = {s.name for s in trace}
    for expected in (
        "StartWorkflow:OrderToCashWorkflow",
        "RunWorkflow:OrderToCashWorkflow",
        "RunActivity:create_sales_order",
        "RunActivity:quote_tax",
        "RunActivity:request_fulfillment",
        "HandleSignal:shipment_received",
        "RunActivity:invoice_sales_order",
    ):
        assert expected in names, sorted(names)
    of_the_order = [s for s in trace if (s.attributes or {}).get(WORKFLOW_ID) == order.workflow_id]
    assert len(of_the_order) > 20
    assert all((s.attributes or {}).get(ORDER_KEY) == order.key for s in of_the_order)
    # The ERP's sales order: an HTTP call inside its activity, inside the workflow the
    # delivery's request started.
    erp_calls = [
        s
        for s in trace
        if s.kind.name == "CLIENT"
        and "/_sandbox/" not in str((s.attributes or {}).get("url.full", ""))
        and "RunActivity:create_sales_order" in ancestry(s, by_id)
    ]
    assert erp_calls, "no HTTP call traced inside create_sales_order"
    path = ancestry(erp_calls[0], by_id)
    assert path[1:5] == [
        "RunActivity:create_sales_order",
        "StartActivity:create_sales_order",
        "StartWorkflow:OrderToCashWorkflow",  # the workflow's spans hang from its start
        "POST /webhooks/shopify",
    ], path
    (run,) = [s for s in trace if s.name == "RunWorkflow:OrderToCashWorkflow"]
    assert ancestry(run, by_id)[1:3] == [
        "StartWorkflow:OrderToCashWorkflow",
        "POST /webhooks/shopify",
    ]


def test_tracing_is_off_unless_the_otel_variables_ask_for_it() -> None:
    assert exporter_from_env({}) is None
    assert exporter_from_env({"OTEL_TRACES_EXPORTER": "none"}) is None
    assert isinstance(exporter_from_env({"OTEL_TRACES_EXPORTER": "console"}), ConsoleSpanExporter)
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert isinstance(exporter_from_env(endpoint), OTLPSpanExporter)
    assert exporter_from_env({**endpoint, "OTEL_SDK_DISABLED": "true"}) is None
    with pytest.raises(TracingSettingsError, match="OTEL_EXPORTER_OTLP_PROTOCOL=grpc"):
        exporter_from_env({**endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    with pytest.raises(TracingSettingsError, match="OTEL_TRACES_EXPORTER=zipkin"):
        exporter_from_env({"OTEL_TRACES_EXPORTER": "zipkin"})


def test_the_order_key_of_every_workflow_an_order_runs() -> None:
    assert order_key_of_workflow("order:shopify:5001") == "shopify-5001"
    assert (
        order_key_of_workflow("order:amazon:112-1234567-7654321~g2") == "amazon-112-1234567-7654321"
    )
    assert order_key_of_workflow("return:walmart:PO-9:CS-ab12cd34") == "walmart-PO-9"
    assert order_key_of_workflow("inventory-publisher:orders:shopify") is None
