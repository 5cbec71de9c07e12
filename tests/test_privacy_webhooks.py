"""Shopify's mandatory privacy webhooks against the real dev server, the sandbox NetSuite and
the inbox: a data request reports what we hold; a redaction empties every delivery naming the
customer, anonymizes their ERP record and destroys their data key, after which their order's
history opens neither for a worker nor in the Web UI (through the codec server); each request
leaves an audit record without the data; a redelivery changes nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.testing import WorkflowEnvironment

import starter
from canonical import OrderStatus
from canonical.address import Customer
from canonical.privacy import PrivacyOutcome
from codec_server.app import create_app as create_codec
from inbox.store import Inbox
from infra.customer_keys import CustomerErased, customer_keys_at
from privacy.log import PrivacyLog
from sandbox.shipstation import AutoShip
from services.orders import result_once_started
from testing.harness import Harness, order_harness
from tests.signing import shopify_headers
from tests.support_cli import cli_env

SECRET = "privacy-test-secret"
SHOP = "northwick-test.myshopify.com"


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with order_harness(
        dev_env.client, autoship=AutoShip(after_seconds=0.2), SHOPIFY_WEBHOOK_SECRET=SECRET
    ) as harness:
        yield harness


async def deliver(
    h: Harness, topic: str, body: dict[str, Any], webhook_id: str | None = None
) -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = shopify_headers(raw, SECRET, topic, webhook_id)
    headers["X-Shopify-Shop-Domain"] = SHOP
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(
            f"http://127.0.0.1:{h.settings.webhooks_port}/webhooks/shopify",
            content=raw,
            headers=headers,
        )


async def outcome_of(h: Harness, answer: httpx.Response) -> PrivacyOutcome:
    assert answer.status_code in (200, 202), answer.text
    return await result_once_started(h.client, answer.json()["workflow_id"], PrivacyOutcome)


async def test_a_customer_is_reported_on_then_forgotten_everywhere(
    stack: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    order = httpx.post(
        f"{stack.settings.sandbox_url}/_sandbox/shopify/orders", json={"count": 1}
    ).json()[0]
    email = order["customer"]["email"]
    started = await deliver(stack, "orders/create", order)
    order_workflow = started.json()["workflow_id"]
    assert (await result_once_started(stack.client, order_workflow)).status is (
        OrderStatus.COMPLETED
    )
    customer = {"id": order["customer"]["id"], "email": email.upper(), "phone": None}
    customer_ref = Customer(email=email).customer_ref
    inbox, log = Inbox.of(stack.settings), PrivacyLog.open(stack.settings.database_url)
    order_entries = inbox.naming(email)
    assert order_entries

    # What we hold: the order's delivery, its workflow, the ERP customer.
    asked = await deliver(
        stack,
        "customers/data_request",
        {"shop_id": 1, "shop_domain": SHOP, "customer": customer,
         "orders_requested": [order["id"]], "data_request": {"id": 9999}},
    )  # fmt: skip
    report = await outcome_of(stack, asked)
    assert report.found is not None and report.found.erp_reference
    assert set(order_entries) <= set(report.found.inbox_entries)
    assert order_workflow in report.found.workflows and not report.found.key_destroyed

    # Forget them; Shopify's retry of the same delivery is a duplicate.
    redact = {"shop_id": 1, "shop_domain": SHOP, "customer": customer,
              "orders_to_redact": [order["id"]]}  # fmt: skip
    first = await deliver(stack, "customers/redact", redact, webhook_id="redact-1")
    again = await deliver(stack, "customers/redact", redact, webhook_id="redact-1")
    assert first.status_code == 202 and again.json()["status"] == "duplicate"
    forgotten = await outcome_of(stack, first)
    assert forgotten.entries_erased >= len(order_entries) + 2  # with both requests
    assert forgotten.erp_anonymized == report.found.erp_reference
    assert forgotten.keys_destroyed == 1

    # The inbox: nothing names them any more.
    assert inbox.naming(email) == [] and inbox.naming(email.upper()) == []
    assert all(inbox.get(entry_id).emptied_at for entry_id in order_entries)  # type: ignore[union-attr]
    # The ERP: the record is kept for its orders, who they were is not.
    (erp,) = [
        c
        for c in httpx.get(f"{stack.settings.sandbox_url}/_sandbox/netsuite/customers").json()
        if c["externalId"] == customer_ref
    ]
    assert erp["firstName"] == "Erased" and erp["email"] == "" and erp["isInactive"]
    assert email not in json.dumps(erp)
    # Temporal: a worker cannot read the order any more...
    with pytest.raises(CustomerErased):
        await stack.client.get_workflow_handle(order_workflow).result()
    # ...nor can the Web UI, which decodes through the codec server.
    history = await stack.client.get_workflow_handle(order_workflow).fetch_history()
    started_input = history.events[0].workflow_execution_started_event_attributes.input
    keys = stack.settings
    codec = create_codec(
        keys.keyring, [], customers=customer_keys_at(keys.customer_keys_url, keys.keyring, 0)
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=codec), base_url="http://codec"
    ) as http:
        decoded = await http.post("/decode", content=json_format.MessageToJson(started_input))
    assert decoded.status_code == 200
    shown = json_format.Parse(decoded.text, Payloads())
    assert b"erased at their request" in shown.payloads[0].data
    assert email.encode() not in shown.payloads[0].data

    # The audit log: both requests, by reference only.
    recorded = {o.request.kind.value: o for o in log.latest()}
    assert recorded["customer_redact"].keys_destroyed == 1
    assert recorded["data_request"].found == report.found
    assert email not in json.dumps([o.model_dump(mode="json") for o in log.latest()])

    # Support: the report and the audit log from the command line; the order, unreadable.
    cli_env(monkeypatch, stack.settings)
    capsys.readouterr()
    show = ["privacy", "show", report.request.workflow_id, "--json"]
    assert await asyncio.to_thread(starter.main, show) == 0
    assert json.loads(capsys.readouterr().out)["found"]["erp_reference"] == erp["id"]
    assert await asyncio.to_thread(starter.main, ["privacy", "list"]) == 0
    assert forgotten.request.workflow_id in capsys.readouterr().out.replace("\n", "")
    assert await asyncio.to_thread(starter.main, ["status", order_workflow]) == 1
    said = capsys.readouterr().err
    assert said.strip() == (
        f"The workflow could not answer: customer {customer_ref} was erased at their request"
    )

    # Shopify asking again (a new delivery) finds nothing more to do.
    repeat = await outcome_of(stack, await deliver(stack, "customers/redact", redact))
    assert repeat.keys_destroyed == 0 and repeat.entries_erased == 1  # its own delivery

    # They come back and order again: their ERP record is theirs again, under a new key.
    later = httpx.post(
        f"{stack.settings.sandbox_url}/_sandbox/shopify/orders", json={"count": 1}
    ).json()[0]
    back = await deliver(
        stack, "orders/create", {**later, "customer": order["customer"], "email": email}
    )
    assert (await result_once_started(stack.client, back.json()["workflow_id"])).status is (
        OrderStatus.COMPLETED
    )
    customers = httpx.get(f"{stack.settings.sandbox_url}/_sandbox/netsuite/customers").json()
    (again,) = [c for c in customers if c["externalId"] == customer_ref]
    assert again["email"] == email.lower() and not again["isInactive"]


async def test_a_shop_redaction_empties_what_the_shop_sent(stack: Harness) -> None:
    order = httpx.post(
        f"{stack.settings.sandbox_url}/_sandbox/shopify/orders", json={"count": 1}
    ).json()[0]
    started = await deliver(stack, "orders/create", order)
    await result_once_started(stack.client, started.json()["workflow_id"])
    gone = await outcome_of(
        stack, await deliver(stack, "shop/redact", {"shop_id": 1, "shop_domain": SHOP})
    )
    assert gone.entries_erased >= 2  # the order and the request itself
    assert Inbox.of(stack.settings).naming(order["customer"]["email"]) == []
