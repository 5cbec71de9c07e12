"""The Shopify webhook endpoint over real HTTP: signatures, dedupe, topics, the inbox."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

import starter
from adapters.shopify import sign
from canonical import OrderStatus, ReturnView
from inbox.store import Inbox, InboxEntry, InboxStatus
from infra.processes import binary, bound_socket, free_port, port_of
from sandbox.shipstation import AutoShip
from services.orders import result_once_started
from testing.eventually import eventually
from testing.harness import Harness, UvicornThread, harness_settings, order_harness
from tests.conftest import CONVERTER
from tests.payloads import fixture_bytes, payload
from tests.signing import shopify_headers
from tests.support_cli import cli_env
from webhooks.app import create_app
from workflows.order_to_cash import OrderToCashWorkflow
from workflows.search_attributes import ALL

VECTOR = payload("shopify_hmac_vector")
SECRET = VECTOR["secret"]
CREATE = fixture_bytes("shopify_order")
CREATE_HEADERS = shopify_headers(
    CREATE, SECRET, "orders/create", "5f0c2a7e-1d4b-4c8e-9a36-b2e71d04c5f9"
)
ORDER_ID = "order:shopify:5903317770561"
OLD_SECRET = "shpss_previous_secret_still_signing"


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with order_harness(
        dev_env.client,
        autoship=AutoShip(after_seconds=0.3),
        SHOPIFY_WEBHOOK_SECRET=SECRET,
        SHOPIFY_WEBHOOK_SECRET_PREVIOUS=OLD_SECRET,
        INBOX_REDRIVE_SECONDS="0.3",
    ) as harness:
        yield harness


def url(h: Harness) -> str:
    return f"http://127.0.0.1:{h.settings.webhooks_port}/webhooks/shopify"


def inbox(h: Harness) -> Inbox:
    return Inbox.of(h.settings)


async def post(h: Harness, raw: bytes, headers: dict[str, str]) -> httpx.Response:
    """Asynchronously: the worker runs on this event loop and must keep running."""
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url(h), content=raw, headers=headers)


def new_order_body(h: Harness) -> dict[str, Any]:
    body: dict[str, Any] = httpx.post(
        f"{h.settings.sandbox_url}/_sandbox/shopify/orders", json={"count": 1}
    ).json()[0]
    return body


def signed(
    body: dict[str, Any] | bytes, topic: str = "orders/create", **kw: str
) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return raw, shopify_headers(raw, kw.get("secret", SECRET), topic, kw.get("webhook_id"))


async def settled(h: Harness, inbox_id: int) -> InboxEntry:
    """The inbox entry once its background processing recorded an outcome."""
    entry = await eventually(
        lambda: inbox(h).get(inbox_id),
        lambda entry: entry is not None and entry.status is not InboxStatus.RECEIVED,
        what=f"inbox entry {inbox_id} settled",
    )
    assert entry is not None
    return entry


async def test_contract_delivery_starts_one_workflow_however_often_delivered(
    stack: Harness,
) -> None:
    body = CREATE
    httpx.post(
        f"{stack.settings.sandbox_url}/_sandbox/shopify/orders/import", json=json.loads(body)
    )
    first = await post(stack, body, CREATE_HEADERS)
    assert first.status_code == 202, first.text
    assert first.json()["workflow_id"] == ORDER_ID
    again = await post(stack, body, CREATE_HEADERS)  # the same delivery retried at once
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["workflow_id"] == ORDER_ID  # named even while the first is starting
    other = await post(
        stack, body, shopify_headers(body, SECRET, "orders/create")
    )  # a new delivery id
    assert (
        other.status_code in (200, 202)
        and other.json()["workflow_id"] == first.json()["workflow_id"]
    )
    result = await result_once_started(stack.client, ORDER_ID)
    assert result.status is OrderStatus.COMPLETED
    late = await post(
        stack, body, shopify_headers(body, SECRET, "orders/create")
    )  # after it closed
    assert late.status_code == 200 and late.json()["detail"] == "order already processed"
    runs = [w async for w in stack.client.list_workflows(f"WorkflowId = '{ORDER_ID}'")]
    assert len(runs) == 1
    statuses = [e.status for e in inbox(stack).latest(source="shopify")]
    assert statuses.count(InboxStatus.ACCEPTED) == 3 and len(statuses) == 3


async def test_signatures_are_checked_before_anything_is_stored(stack: Harness) -> None:
    assert CREATE_HEADERS["X-Shopify-Hmac-Sha256"] == VECTOR["hmac_sha256_base64"]  # openssl's
    good = CREATE_HEADERS["X-Shopify-Hmac-Sha256"]
    digest = base64.b64decode(good)
    cases = {  # body, signature header
        "tampered value, original header kept": (CREATE.replace(b"USD", b"CAD", 1), good),
        "one whitespace byte added": (CREATE + b" ", good),
        "hex digest instead of base64": (CREATE, digest.hex()),
        "truncated digest": (CREATE, base64.b64encode(digest[:16]).decode()),
        "empty header": (CREATE, ""),
        "another app's secret": (CREATE, sign(CREATE, "not-the-secret")),
    }
    for case, (body, signature) in cases.items():
        headers = {**CREATE_HEADERS, "X-Shopify-Hmac-Sha256": signature}
        assert (await post(stack, body, headers)).status_code == 401, case
    unsigned = {k: v for k, v in CREATE_HEADERS.items() if k != "X-Shopify-Hmac-Sha256"}
    assert (await post(stack, CREATE, unsigned)).status_code == 401
    assert inbox(stack).latest() == []


async def test_previous_secret_and_header_spelling_are_accepted(stack: Harness) -> None:
    body = new_order_body(stack)
    raw, headers = signed(body, secret=OLD_SECRET)
    lower = {name.lower(): value for name, value in headers.items()}
    assert (await post(stack, raw, lower)).status_code == 202
    raw2, headers2 = signed(new_order_body(stack))
    events_style = {name.removeprefix("X-"): value for name, value in headers2.items()}
    assert (await post(stack, raw2, events_style)).status_code == 202


async def test_malformed_and_invalid_payloads_get_a_reason_and_are_kept(stack: Harness) -> None:
    response = await post(stack, *signed(b'{"id": 1, "line_items": ['))
    assert response.status_code == 400 and "malformed JSON" in response.json()["detail"]
    body = new_order_body(stack)
    del body["line_items"]
    invalid = await post(stack, *signed(body))
    assert invalid.status_code == 422 and "line_items" in invalid.json()["detail"]
    no_topic_raw, headers = signed(new_order_body(stack))
    del headers["X-Shopify-Topic"]
    assert (await post(stack, no_topic_raw, headers)).status_code == 400
    kept = inbox(stack).latest(status=InboxStatus.REJECTED)
    assert len(kept) == 3 and all(entry.body for entry in kept)


async def test_cancel_before_create_ends_cancelled(stack: Harness) -> None:
    cancelled = fixture_bytes("shopify_order_cancelled")
    httpx.post(
        f"{stack.settings.sandbox_url}/_sandbox/shopify/orders/import", json=json.loads(cancelled)
    )
    response = await post(stack, *signed(cancelled, topic="orders/cancelled"))
    assert response.status_code == 202, response.text
    workflow_id = response.json()["workflow_id"]
    result = await result_once_started(stack.client, workflow_id)
    assert result.status is OrderStatus.CANCELLED
    assert "cancel_channel_order" not in result.compensations_done  # Shopify cancelled it itself
    shop = httpx.get(f"{stack.settings.sandbox_url}/_sandbox/shopify/orders/5903317803329").json()
    assert shop["cancelledAt"] is None  # and we did not call orderCancel back
    body = json.loads(cancelled)
    body.update(cancelled_at=None, cancel_reason=None)
    create = await post(stack, *signed(body))
    assert create.status_code == 200 and create.json()["workflow_id"] == workflow_id
    runs = [w async for w in stack.client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    assert len(runs) == 1


async def test_cancel_after_shipment_is_refused_and_kept(stack: Harness) -> None:
    body = new_order_body(stack)
    created = await post(stack, *signed(body))
    workflow_id = created.json()["workflow_id"]
    assert (await result_once_started(stack.client, workflow_id)).status is OrderStatus.COMPLETED
    cancelled = {**body, "cancelled_at": "2026-03-14T13:15:29-04:00", "cancel_reason": "customer"}
    response = await post(stack, *signed(cancelled, topic="orders/cancelled"))
    assert response.status_code == 202
    entry = await settled(stack, response.json()["inbox_id"])
    assert entry.status is InboxStatus.REFUSED and "closed" in (entry.error or "")


async def test_refund_is_routed_to_the_order_and_an_orphan_can_be_replayed(
    stack: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = new_order_body(stack)
    refund = payload("shopify_refund")
    refund["order_id"] = body["id"]
    refund["refund_line_items"][0]["restock_type"] = "no_restock"  # money only: no return
    returned = payload("shopify_refund") | {
        "id": refund["id"] + 1,
        "order_id": body["id"],
    }
    orphans = [
        await post(stack, *signed(payload, topic="refunds/create"))  # before their order
        for payload in (refund, returned)
    ]
    for orphan in orphans:
        assert orphan.status_code == 202
        assert (await settled(stack, orphan.json()["inbox_id"])).status is InboxStatus.FAILED
    workflow_id = (await post(stack, *signed(body))).json()["workflow_id"]

    cli_env(monkeypatch, stack.settings)
    replay = ["inbox", "replay", str(orphans[0].json()["inbox_id"])]
    assert await asyncio.to_thread(starter.main, replay) == 0
    assert f"accepted → {workflow_id}" in capsys.readouterr().out.replace("\n", "")
    again = await post(stack, *signed(refund, topic="refunds/create"))  # a second delivery
    assert again.status_code == 202
    result = await result_once_started(stack.client, workflow_id)
    refunds = [change.note for change in result.timeline if "channel refund" in change.note]
    assert len(refunds) == 1 and "Handle cracked in transit" in refunds[0]  # recorded once

    # Goods sent back: a return of its own, refused here as the line is not on the order.
    replay = ["inbox", "replay", str(orphans[1].json()["inbox_id"])]
    assert await asyncio.to_thread(starter.main, replay) == 0
    return_id = f"return:shopify:{body['id']}:{returned['id']}"
    assert f"accepted → {return_id}" in capsys.readouterr().out.replace("\n", "")
    refused = await result_once_started(stack.client, return_id, ReturnView)
    assert refused.status is OrderStatus.REFUSED
    assert refused.return_details is not None
    assert "16204411252801" in refused.return_details.refused


async def test_temporal_down_answers_503_keeps_and_redrives(
    dev_env: WorkflowEnvironment,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:

    port = free_port()  # Temporal starts there later: down until then
    webhooks = bound_socket()
    settings = harness_settings(
        f"127.0.0.1:{port}",
        free_port(),  # no sandbox: the deliveries never reach a partner
        port_of(webhooks),
        SHOPIFY_WEBHOOK_SECRET=SECRET,
        INBOX_REDRIVE_SECONDS="0.3",
    )
    with UvicornThread(create_app(settings), webhooks):
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.post(
                f"http://127.0.0.1:{settings.webhooks_port}/webhooks/shopify",
                content=CREATE,
                headers=CREATE_HEADERS,
            )
        # The first finds Temporal down in the background; the next is answered 503 at once.
        store = Inbox.of(settings)
        await eventually(
            lambda: store.latest()[0].status is InboxStatus.DEFERRED, what="the delivery deferred"
        )
        assert response.status_code in (202, 503)
        other = CREATE
        async with httpx.AsyncClient(timeout=60) as client:
            second = await client.post(
                f"http://127.0.0.1:{settings.webhooks_port}/webhooks/shopify",
                content=other,
                headers=shopify_headers(other, SECRET, "orders/create"),
            )
        assert second.status_code == 503
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
        assert await asyncio.to_thread(starter.main, ["inbox", "list", "--status", "deferred"]) == 0
        listed = capsys.readouterr().out
        assert "2 deliveries." in listed and "deferred" in listed

        back = await WorkflowEnvironment.start_local(
            port=port,
            dev_server_existing_path=binary("temporal"),
            search_attributes=ALL,
            data_converter=CONVERTER,
            dev_server_log_level="error",
        )
        try:
            await eventually(
                lambda: store.latest()[0].status is InboxStatus.ACCEPTED,
                what="the deferred delivery re-driven",
            )
            description = await back.client.get_workflow_handle(ORDER_ID).describe()
            assert description.workflow_type == OrderToCashWorkflow.__name__
        finally:
            await back.shutdown()


def scraped(h: Harness) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The webhooks service's /metrics, as Prometheus scrapes it: (sample name, labels) -> value."""
    text = httpx.get(f"http://127.0.0.1:{h.settings.webhooks_port}/metrics").text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_deliveries_are_counted_for_prometheus(stack: Harness) -> None:
    def count(outcome: str) -> float:
        labels = {"source": "shopify", "topic": "orders/create", "outcome": outcome}
        return metrics.get(("orchestrator_deliveries_total", frozenset(labels.items())), 0.0)

    answered = ("orchestrator_delivery_ack_seconds_count", frozenset({("source", "shopify")}))
    metrics = scraped(stack)
    accepted, duplicates, acks = count("accepted"), count("duplicate"), metrics.get(answered, 0.0)
    raw, headers = signed(new_order_body(stack), "orders/create")
    assert (await post(stack, raw, headers)).status_code == 202
    assert (await post(stack, raw, headers)).json()["status"] == "duplicate"
    metrics = scraped(stack)
    assert (count("accepted"), count("duplicate")) == (accepted + 1, duplicates + 1)
    assert metrics[answered] == acks + 2
