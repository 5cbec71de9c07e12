"""Catalogue publication on the dev server with the real worker, from the sandbox NetSuite's
item master (read page by page) to the sandbox channels: what changed only, a product with
all its variants in one Shopify `productSet` upsert, an item that cannot be listed kept as a
listing exception until it is fixed in the ERP, a repeated publication making no call;
Amazon's listings previewed then put and answered later, Walmart's in one feed."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from activities.catalog import PriceChange, PublicationRequest, price_change_workflow_id
from canonical import Channel
from canonical.catalog import ListingState
from catalog.mapping import BUNDLED
from catalog.store import ListingStore
from testing.harness import Harness, order_harness
from tests.support_cli import cli_env
from tests.test_settlement_flow import cli
from workflows.catalog_publish import (
    CatalogPublication,
    CatalogPublishWorkflow,
    PublicationSummary,
)

ITEMS_IN_THE_MASTER = 8  # sandbox/catalog.py: the six sold, the slate mug, the diffuser


async def publish(h: Harness, *skus: str, channel: Channel = Channel.SHOPIFY) -> PublicationSummary:
    request = PublicationRequest(channel=channel, skus=list(skus) or None)
    return await h.client.execute_workflow(
        CatalogPublishWorkflow.run,
        CatalogPublication(request=request, first_check=timedelta(seconds=0.3)),
        id=f"catalog-publish-test-{uuid.uuid4().hex[:8]}",
        task_queue=h.settings.task_queue,
    )


async def shop(h: Harness) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
        listed: dict[str, Any] = (await http.get("/_sandbox/shopify/products")).json()
    return listed


async def change_item(h: Harness, sku: str, **change: object) -> None:
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
        (await http.patch(f"/_sandbox/netsuite/items/{sku}", json=change)).raise_for_status()


async def test_the_catalogue_is_published_once_and_then_only_what_changed(
    shipping_stack: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    h = shipping_stack
    cli_env(monkeypatch, h.settings)
    first = await publish(h)
    assert (first.sent, first.published, first.failed) == (ITEMS_IN_THE_MASTER - 1, 7, 1)
    assert first.exceptions == {"DIFFUSER-REED-100": "GTIN 0850012345740 has a wrong check digit"}
    listed = await shop(h)
    assert listed["calls"] == 6  # one productSet per product: the two mugs are one
    (mug,) = [p for p in listed["products"] if p["title"] == "Stoneware Mug"]
    assert sorted(v["sku"] for v in mug["variants"]) == ["MUG-STONE-350", "MUG-STONE-350-SLATE"]
    assert [o["name"] for o in mug["options"]] == ["Color"]

    code, out, _ = await cli(capsys, "catalog", "status", "--failed", "--json")
    (exception,) = json.loads(out)
    assert code == 0 and exception["sku"] == "DIFFUSER-REED-100"
    assert exception["message"] == "GTIN 0850012345740 has a wrong check digit"

    again = await publish(h)
    assert (again.sent, again.unchanged, again.failed) == (0, 7, 0)
    assert (await shop(h))["calls"] == 6  # nothing changed: no call

    await change_item(h, "DIFFUSER-REED-100", fields={"upccode": "0850012345749"})
    await change_item(h, "MUG-STONE-350-SLATE", fields={}, base_price="19.50")
    fixed = await publish(h)
    assert (fixed.sent, fixed.published, fixed.failed) == (3, 3, 0)  # both mugs, the diffuser
    listed = await shop(h)
    assert listed["calls"] == 8
    (mug_after,) = [p for p in listed["products"] if p["title"] == "Stoneware Mug"]
    ids = {v["sku"]: v["id"] for v in mug["variants"]}
    assert {v["sku"]: v["id"] for v in mug_after["variants"]} == ids  # matched by SKU
    assert {v["sku"]: v["price"] for v in mug_after["variants"]}["MUG-STONE-350-SLATE"] == "19.50"
    code, out, _ = await cli(capsys, "catalog", "status", "--failed", "--json")
    assert (code, json.loads(out)) == (0, [])
    code, out, _ = await cli(
        capsys, "catalog", "publish", "shopify", "--sku", "WICK-TRIM-01", "--now"
    )
    assert (code, out.splitlines()[0]) == (
        0,
        "shopify: 0 sent, 0 published, 0 failed, 0 pending, 1 unchanged",
    )
    code, _, err = await cli(capsys, "catalog", "publish", "pos", "--now")
    assert (code, err.strip()) == (1, "pos is not in CATALOG_CHANNELS (amazon, shopify, walmart)")


async def test_amazon_validates_first_and_answers_later(
    dev_env: WorkflowEnvironment,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each listing is previewed (nothing saved), then put; "ACCEPTED" is not done: the
    workflow asks again until Amazon shows it live, or shows the issue it found later."""
    async with order_harness(dev_env.client, CATALOG_CHANNELS="shopify,amazon") as h:
        cli_env(monkeypatch, h.settings)
        first = await publish(h, channel=Channel.AMAZON)
        assert (first.sent, first.published, first.failed, first.pending) == (7, 7, 1, 0)
        async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
            calls = (await http.get("/_sandbox/amazon/listings")).json()["calls"]
        assert calls["validationPreview"] == calls["putListingsItem"] == 7
        assert calls["getListingsItem"] >= 7

        await change_item(h, "WICK-TRIM-01", fields={"custitem_brand": "Acme Unbranded"})
        later = await publish(h, channel=Channel.AMAZON)
        assert (later.sent, later.published, later.failed, later.unchanged) == (1, 0, 1, 6)
        assert later.exceptions == {
            "WICK-TRIM-01": "The brand 'Acme Unbranded' is not approved for your account."
        }
        code, out, _ = await cli(capsys, "catalog", "status", "--channel", "amazon", "--failed",
                                 "--json")  # fmt: skip
        exceptions = {e["sku"]: e["message"] for e in json.loads(out)}
        assert code == 0 and exceptions == {
            "DIFFUSER-REED-100": "GTIN 0850012345740 has a wrong check digit",
            "WICK-TRIM-01": "The brand 'Acme Unbranded' is not approved for your account.",
        }


async def test_walmart_takes_a_feed_and_answers_per_item_when_processed(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """One MP_ITEM feed for the batch, its status read until each item is ingested (here the
    mapping requires no brand, so Walmart's own check refuses the item without one); a price
    change alone goes as a PRICE_AND_PROMOTION feed."""
    mappings = tmp_path / "mappings"
    shutil.copytree(BUNDLED, mappings)
    lax = (mappings / "walmart.toml").read_text().replace('["brand", "color"]', '["color"]')
    (mappings / "walmart.toml").write_text(lax)
    async with order_harness(
        dev_env.client, CATALOG_CHANNELS="walmart", CATALOG_MAPPINGS=str(mappings)
    ) as h:
        await change_item(h, "WICK-TRIM-01", fields={"custitem_brand": ""})
        done = await publish(h, channel=Channel.WALMART)
        assert (done.sent, done.published, done.failed, done.pending) == (7, 6, 2, 0)
        async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
            walmart = (await http.get("/_sandbox/walmart/items")).json()
        assert walmart["feeds"] == 1 and len(walmart["items"]) == 6
        failed = {s.sku: s.message for s in ListingStore.open(h.settings.database_url).status(
            Channel.WALMART, ListingState.FAILED)}  # fmt: skip
        assert failed == {
            "DIFFUSER-REED-100": "GTIN 0850012345740 has a wrong check digit",  # ours, unsent
            "WICK-TRIM-01": "Brand is required.",  # Walmart's, from the feed
        }
        await change_item(h, "TRAY-BRASS-S", fields={}, base_price="36.00")
        repriced = await publish(h, channel=Channel.WALMART)
        assert (repriced.sent, repriced.published) == (1, 1)
        async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
            walmart = (await http.get("/_sandbox/walmart/items")).json()
        assert walmart["feeds"] == 2  # the price alone: a PRICE_AND_PROMOTION feed
        assert walmart["prices"]["TRAY-BRASS-S"]["amount"] == 37.8  # Marketplace: +5 %


async def test_a_sale_in_the_price_list_starts_and_ends_on_the_channel(
    shipping_stack: Harness,
) -> None:
    """A scheduled price for the wick trimmer in Shopify's price list: the publication finds
    its two moments; at each, the listing is published again at the price then in force."""
    h = shipping_stack
    await publish(h)
    now = datetime.now(UTC).replace(microsecond=0)
    start, end = now + timedelta(seconds=3), now + timedelta(seconds=6)
    sale = {"sku": "WICK-TRIM-01", "price_level": "Base Price", "price": "9.95",
            "start": start.isoformat(), "end": end.isoformat()}  # fmt: skip
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
        (await http.post("/_sandbox/netsuite/items/schedules", json=sale)).raise_for_status()
    await publish(h)
    await publish(h)  # found again: each moment's workflow is started once
    moments = [PriceChange(sku="WICK-TRIM-01", at=at) for at in (start, end)]
    prices = []
    for change in moments:
        workflow_id = price_change_workflow_id(Channel.SHOPIFY, change)
        handle = h.client.get_workflow_handle(workflow_id, result_type=PublicationSummary)
        assert (await handle.result()).published == 1
        (wick,) = [p for p in (await shop(h))["products"] if p["title"] == "Wick Trimmer"]
        prices.append(wick["variants"][0]["price"])
    assert prices == ["9.95", "14.95"]


async def test_many_amazon_listings_go_as_one_listings_feed(
    dev_env: WorkflowEnvironment,
) -> None:
    """Beyond a handful, Amazon's listings go as one JSON_LISTINGS_FEED (the same payloads),
    answered by the feed's processing report: no call per SKU."""
    async with order_harness(dev_env.client, CATALOG_CHANNELS="amazon") as h:
        async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
            added = (await http.post("/_sandbox/netsuite/items", json={"count": 30})).json()
        done = await publish(h, channel=Channel.AMAZON)
        assert (done.sent, done.published, done.failed, done.pending) == (37, 37, 1, 0)
        async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
            amazon = (await http.get("/_sandbox/amazon/listings")).json()
        assert amazon["calls"].get("putListingsItem", 0) == 0  # no call per SKU
        assert amazon["calls"].get("validationPreview", 0) == 0
        assert set(added) <= set(amazon["listings"])
