"""The catalog demo's last step: a Shopify customer orders, then Shopify asks — as its
mandatory privacy webhooks do — what we hold on them, and to forget them. The demo then checks
that nothing readable of them is left: no delivery in the inbox names them, the ERP's record of
them is anonymized, and the Web UI (through the codec server) shows their order as erased."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from google.protobuf import json_format
from rich.console import Console
from temporalio.api.common.v1 import Payloads
from temporalio.client import Client

from canonical.address import Customer
from canonical.privacy import PrivacyOutcome
from cli.demo_traffic import DemoTraffic
from inbox.store import Inbox
from infra.settings import Settings
from services.orders import result_once_started

SHOP = "northwick-candle-co.myshopify.com"


async def forget_a_customer(
    client: Client, settings: Settings, traffic: DemoTraffic, console: Console
) -> bool:
    """Whether the customer was reported on, then left no readable trace."""
    (order,) = await traffic.storefront_orders(1)
    email = order["customer"]["email"]
    order_workflow = await traffic.deliver("orders/create", order)
    asker = {"id": order["customer"]["id"], "email": email, "phone": None}
    console.print(
        f"A Shopify customer ({Customer(email=email).customer_ref}) orders: {order_workflow}. "
        "Once it is paid, Shopify asks what we hold on them, and to forget them…"
    )
    view = await result_once_started(client, order_workflow, timeout=180)
    console.print(f"{order_workflow}: {view.status.value}")
    report = await _asked(
        traffic, client, "customers/data_request",
        {"customer": asker, "orders_requested": [order["id"]], "data_request": {"id": 1}},
    )  # fmt: skip
    found = report.found
    assert found is not None
    console.print(
        f"customers/data_request ({report.request.workflow_id}): "
        f"{len(found.inbox_entries)} deliveries, workflows {', '.join(found.workflows)}, "
        f"ERP record {found.erp_reference}"
    )
    forgotten = await _asked(
        traffic, client, "customers/redact", {"customer": asker, "orders_to_redact": [order["id"]]}
    )
    console.print(
        f"customers/redact ({forgotten.request.workflow_id}): {forgotten.entries_erased} "
        f"deliveries emptied, ERP record {forgotten.erp_anonymized} anonymized, "
        f"{forgotten.keys_destroyed} data key destroyed"
    )
    in_inbox = Inbox.of(settings).naming(email)
    in_ui = await _as_the_web_ui_shows(client, settings, order_workflow)
    checks = {
        "inbox": not in_inbox,
        "ERP record": forgotten.erp_anonymized is not None
        and forgotten.erp_anonymized == found.erp_reference,
        "Web UI": email not in in_ui and "erased at their request" in in_ui,
    }
    left = [
        f"{where} {'nothing readable' if ok else '[red]STILL THERE[/red]'}"
        for where, ok in checks.items()
    ]
    console.print(f"Left of them: {', '.join(left)}. The Web UI shows their order's input as:")
    console.print(in_ui, markup=False)
    return all(checks.values())


async def _asked(
    traffic: DemoTraffic, client: Client, topic: str, body: dict[str, Any]
) -> PrivacyOutcome:
    """Shopify's request delivered; what it did once done."""
    raw = json.dumps({"shop_id": 1, "shop_domain": SHOP, **body}).encode()
    response = await traffic.post_shopify(topic, raw, str(uuid.uuid4()))
    response.raise_for_status()
    workflow_id = response.json()["workflow_id"]
    return await result_once_started(client, workflow_id, PrivacyOutcome, timeout=180)


async def _as_the_web_ui_shows(client: Client, settings: Settings, workflow_id: str) -> str:
    """The workflow's input as the Web UI shows it: decoded by the codec server."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    sealed = history.events[0].workflow_execution_started_event_attributes.input
    async with httpx.AsyncClient(timeout=10) as http:
        decoded = await http.post(
            f"{settings.codec_endpoint}/decode", content=json_format.MessageToJson(sealed)
        )
    decoded.raise_for_status()
    shown = json_format.Parse(decoded.text, Payloads())
    return shown.payloads[0].data.decode(errors="replace")
