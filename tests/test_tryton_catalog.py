"""The item master and the customers against a real Tryton 8.2: products, their variants,
attributes, identifiers and cost, the channels' price lists and a dated sale read as the
catalogue publication needs them; the catalogue published from Tryton to the sandbox Shopify;
a customer's party anonymized."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from activities.catalog import PublicationRequest
from adapters.tryton import TrytonErp
from adapters.tryton_catalog import TrytonCatalog
from canonical import Channel, Money
from sandbox.shipstation import AutoShip
from testing.harness import order_harness
from tests.test_tryton_erp import WEB_SHOP, an_order, rpc_to
from tryton_local.instance import TrytonInstance
from workflows.catalog_publish import CatalogPublication, CatalogPublishWorkflow


@pytest.fixture
async def erp(tryton: TrytonInstance) -> AsyncIterator[TrytonErp]:
    adapter = TrytonErp(rpc_to(tryton.url), web_shop=WEB_SHOP)
    yield adapter
    await adapter.aclose()


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


async def test_the_item_master_is_read_with_variants_attributes_and_its_lists_prices(
    erp: TrytonErp,
) -> None:
    items = {i.sku: i for i in await TrytonCatalog(erp).items(["Base Price", "Marketplace"])}
    assert {"CANDLE-CEDAR-8OZ", "MUG-STONE-350-SLATE", "DIFFUSER-REED-100"} <= set(items)
    assert not {"SHIPPING", "DISCOUNT"} & set(items)  # services are not listed
    candle = items["CANDLE-CEDAR-8OZ"]
    assert candle.attributes == {"brand": "Northwick", "material": "Soy wax", "color": "Amber"}
    assert candle.gtin == "0850012345671" and candle.cost == usd("6.10")
    # The marketplaces' list is 5 % above the list price, rounded to the cent; no other list.
    assert candle.prices == {"Base Price": usd("22.50"), "Marketplace": usd("23.63")}
    sage, slate = items["MUG-STONE-350"], items["MUG-STONE-350-SLATE"]
    assert sage.product_id == slate.product_id != candle.product_id
    assert (sage.title, sage.options, slate.options) == (
        "Stoneware Mug", {"Color": "Sage"}, {"Color": "Slate"},
    )  # fmt: skip
    assert candle.options == {}
    # Typed as an EAN Tryton would refuse it: kept untyped, read as typed, for us to refuse.
    assert items["DIFFUSER-REED-100"].gtin == "0850012345740"
    only = await TrytonCatalog(erp).items(["Marketplace"], ["WICK-TRIM-01"])
    assert [i.sku for i in only] == ["WICK-TRIM-01"] and set(only[0].prices) == {"Marketplace"}


async def test_a_dated_line_of_a_price_list_is_a_scheduled_price_of_that_list_only(
    erp: TrytonErp,
) -> None:
    (marketplace,) = await erp.rpc.search_read(
        "product.price_list", [["name", "=", "Marketplace"]], ["id"]
    )
    (trimmer,) = await erp.rpc.search_read(
        "product.product", [["code", "=", "WICK-TRIM-01"]], ["id"]
    )
    today = date.today()
    line = {"price_list": marketplace["id"], "product": trimmer["id"], "formula": "9.95",
            "sequence": 1, "start_date": today, "end_date": today + timedelta(days=2)}  # fmt: skip
    (created,) = await erp.rpc.model("product.price_list.line", "create", [line])
    try:
        (item,) = await TrytonCatalog(erp).items(["Base Price", "Marketplace"], ["WICK-TRIM-01"])
    finally:
        await erp.rpc.model("product.price_list.line", "delete", [created])
    (sale,) = item.scheduled
    assert (sale.price_list, sale.price) == ("Marketplace", usd("9.95"))
    assert sale.start == datetime.combine(today, time.min, UTC)
    assert sale.end == datetime.combine(today + timedelta(days=3), time.min, UTC)
    now = datetime.now(UTC)
    assert item.price_at("Marketplace", now) == usd("9.95")
    assert item.price_at("Base Price", now) == usd("14.95")  # never another list's price
    assert item.price_at("Marketplace", sale.end) == usd("15.70")  # 14.95 * 1.05, after it


async def test_the_catalogue_is_published_from_tryton_to_shopify(
    dev_env: WorkflowEnvironment, tryton: TrytonInstance
) -> None:
    async with order_harness(
        dev_env.client, autoship=AutoShip(after_seconds=0.3), ERP="tryton", TRYTON_URL=tryton.url
    ) as stack:
        summary = await stack.client.execute_workflow(
            CatalogPublishWorkflow.run,
            CatalogPublication(request=PublicationRequest(channel=Channel.SHOPIFY)),
            id=f"catalog-publish-tryton-{uuid.uuid4().hex[:8]}",
            task_queue=stack.settings.task_queue,
        )
        async with httpx.AsyncClient(base_url=stack.settings.sandbox_url) as http:
            products = (await http.get("/_sandbox/shopify/products")).json()["products"]
    assert (summary.sent, summary.published, summary.failed) == (7, 7, 1)
    assert summary.exceptions == {"DIFFUSER-REED-100": "GTIN 0850012345740 has a wrong check digit"}
    (mug,) = [p for p in products if p["title"] == "Stoneware Mug"]
    assert sorted(v["sku"] for v in mug["variants"]) == ["MUG-STONE-350", "MUG-STONE-350-SLATE"]


async def test_a_customer_party_is_anonymized_and_kept(erp: TrytonErp) -> None:
    order = an_order()
    await erp.upsert_sales_order(order, await erp.resolve_items(order.skus()))
    ref = order.customer.customer_ref
    assert ref is not None
    party = await erp.customer_reference(ref)
    assert party is not None
    assert await erp.anonymize_customer(ref) == party
    assert await erp.anonymize_customer(ref) == party  # idempotent
    (row,) = await erp.rpc.search_read(
        "party.party", [["id", "=", int(party)], ["active", "in", [True, False]]],
        ["name", "code", "active", "contact_mechanisms", "addresses"],
    )  # fmt: skip
    assert (row["name"], row["active"], row["contact_mechanisms"]) == ("Erased customer", False, [])
    addresses = await erp.rpc.search_read(
        "party.address", [["party", "=", int(party)], ["active", "in", [True, False]]],
        ["street", "city", "postal_code", "party_name"],
    )  # fmt: skip
    assert addresses and all(not a["street"] and not a["city"] for a in addresses)
    assert str(order.customer.email) not in str(row) + str(addresses)

    # They come back: the same party, theirs again.
    again = an_order(external_id=f"T-{uuid.uuid4().hex[:10]}", customer=order.customer)
    await erp.upsert_sales_order(again, await erp.resolve_items(again.skus()))
    (back,) = await erp.rpc.search_read(
        "party.party", [["id", "=", int(party)]], ["name", "active", "contact_mechanisms"]
    )
    assert (back["name"], back["active"]) == ("Ann Buyer", True) and back["contact_mechanisms"]
