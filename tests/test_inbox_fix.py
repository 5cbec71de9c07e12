"""A delivery rejected for a reason support can fix (a Shopify order without a shipping
address) is corrected and admitted with `inbox fix`; the correction stays in the entry's
history, its body before sealed and emptied with the entry."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

import starter
from adapters.payload import PayloadError
from adapters.shopify import corrected_order
from adapters.walmart import corrected_po
from canonical.address import Address
from canonical.correction import OrderCorrection
from inbox.database import engine_for
from inbox.store import Inbox, InboxStatus
from infra.keyring import Keyring, new_key_line
from services.orders import result_once_started
from testing.harness import Harness
from tests.signing import deliver_shopify
from tests.support_cli import cli_env

SHIP_TO = {
    "name": "Ana Souza", "line1": "12 Harbor Way", "city": "Boston", "region": "MA",
    "postal_code": "02110", "country": "US",
}  # fmt: skip


@pytest.fixture
def stack(shipping_stack: Harness) -> Harness:
    return shipping_stack


async def test_support_corrects_a_rejected_order_and_admits_it(
    stack: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env(monkeypatch, stack.settings)
    body = httpx.post(
        f"{stack.settings.sandbox_url}/_sandbox/shopify/orders", json={"count": 1}
    ).json()[0]
    body["shipping_address"] = None  # as a draft order converted without one arrives
    answer = await deliver_shopify(stack.settings, body)
    assert answer.status_code == 422, answer.text
    entry_id = answer.json()["inbox_id"]
    assert "ship-to address" in answer.json()["detail"]

    async def run(*argv: str) -> int:
        return await asyncio.to_thread(starter.main, list(argv))

    assert await run("inbox", "replay", str(entry_id)) == 1  # as it is, it is rejected again
    assert "rejected" in capsys.readouterr().err
    (line_id,) = [str(item["id"]) for item in body["line_items"]][:1]
    wrong = ["inbox", "fix", str(entry_id), "--sku", "no-such-line=MUG-STONE-350"]
    assert await run(*wrong) == 1
    assert "not corrected: the order has no line no-such-line" in capsys.readouterr().err
    assert await run("inbox", "fix", str(entry_id)) == 2  # nothing to correct
    assert "give --ship-to or --sku" in capsys.readouterr().err
    assert await run("inbox", "fix", str(entry_id), "--ship-to", '{"city": "Boston"}') == 2
    assert "not an address (line1: Field required" in capsys.readouterr().err

    fix = ["inbox", "fix", str(entry_id), "--ship-to", json.dumps(SHIP_TO), "--note", "phoned"]
    assert await run(*fix) == 0
    workflow_id = f"order:shopify:{body['id']}"
    assert f"accepted → {workflow_id}" in capsys.readouterr().out
    result = await result_once_started(stack.client, workflow_id)
    assert result.status.value == "COMPLETED", result.timeline
    key = f"shopify-{body['id']}"
    wms = httpx.get(f"{stack.settings.sandbox_url}/_sandbox/shipstation/orders/{key}").json()
    assert wms["shipTo"]["postalCode"] == "02110" and wms["shipTo"]["name"] == "Ana Souza"

    assert await run("inbox", "show", str(entry_id), "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "accepted" and shown["workflow_id"] == workflow_id
    (history,) = shown["corrections"]
    assert history["summary"] == "ship-to address set" and history["note"] == "phoned"
    assert "Harbor" not in json.dumps(shown)  # the history names no customer data
    again = ["inbox", "fix", str(entry_id), "--sku", f"{line_id}=MUG-STONE-350"]
    assert await run(*again) == 1
    assert f"Inbox {entry_id} was accepted (→ {workflow_id}); nothing to redo." in (
        capsys.readouterr().err
    )


def test_the_body_before_a_correction_is_sealed_kept_and_emptied_with_the_entry(
    tmp_path: Path,
) -> None:
    inbox = Inbox(
        engine_for(f"sqlite:///{tmp_path / 'inbox.db'}"), Keyring.parse(new_key_line(), "test")
    )
    before = json.dumps({"id": 7, "email": "ana@example.com", "line_items": [{"id": 1}]})
    entry, _ = inbox.add("shopify", "orders/create", "w-7", {}, before.encode())
    inbox.record(entry.id or 0, InboxStatus.REJECTED, error="no ship-to address")
    correction = OrderCorrection(skus={"1": "MUG-STONE-350"})
    after = json.dumps(corrected_order(json.loads(before), correction)).encode()
    inbox.correct(entry, after, correction.summary(), "typo", "ops")
    (history,) = inbox.corrections(entry)
    assert (history.summary, history.by, history.body_before) == (
        "line 1 SKU set to MUG-STONE-350",
        "ops",
        before.encode(),
    )
    corrected = inbox.get(entry.id or 0)
    assert corrected is not None and corrected.status is InboxStatus.RECEIVED
    assert json.loads(corrected.body)["line_items"][0]["sku"] == "MUG-STONE-350"
    with inbox.engine.connect() as connection:  # sealed at rest
        stored = connection.exec_driver_sql("SELECT body_before FROM inbox_correction").scalar()
    assert isinstance(stored, bytes) and b"ana@example.com" not in stored
    assert inbox.erase("ana@example.com") == [entry.id]
    (emptied,) = inbox.corrections(entry)
    assert emptied.body_before == b""


def test_a_shopify_order_takes_the_corrected_address() -> None:
    body = {"shipping_address": None, "line_items": [{"id": 5, "sku": ""}]}
    correction = OrderCorrection(ship_to=Address(**SHIP_TO), skus={"5": "MUG-STONE-350"})
    fixed = corrected_order(body, correction)
    assert fixed["shipping_address"]["zip"] == "02110"
    assert fixed["line_items"][0]["sku"] == "MUG-STONE-350"
    assert body["shipping_address"] is None  # the delivery as it came is not touched


def test_a_walmart_po_takes_the_corrected_address_and_sku() -> None:
    line = {"lineNumber": "1", "item": {"sku": "MUG-STONE-35O", "productName": "Mug"}}
    po = {"purchaseOrderId": "17", "shippingInfo": {"postalAddress": {}}, "orderLines": {
        "orderLine": [line, {**line, "lineNumber": "2"}]}}  # fmt: skip
    correction = OrderCorrection(
        ship_to=Address(**SHIP_TO), skus={"MUG-STONE-35O": "MUG-STONE-350"}
    )
    fixed = corrected_po(po, correction)
    address = fixed["shippingInfo"]["postalAddress"]
    assert (address["postalCode"], address["state"], address["country"]) == ("02110", "MA", "US")
    assert [x["item"]["sku"] for x in fixed["orderLines"]["orderLine"]] == ["MUG-STONE-350"] * 2
    with pytest.raises(PayloadError, match="has no line NOPE"):
        corrected_po(po, OrderCorrection(skus={"NOPE": "MUG-STONE-350"}))
