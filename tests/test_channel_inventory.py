"""Pushing available-to-sell to each channel over HTTP (the sandbox plays the channels)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.inventory_push import InventoryPushActivities, PushRequest
from adapters.errors import RateLimitedError
from adapters.pacing import UsagePlan
from adapters.registry import build_adapters
from canonical import Channel
from canonical.inventory import AvailableToSell
from inventory.service import InventoryService
from sandbox.catalog import CATALOG
from testing.eventually import eventually
from tests.conftest import SandboxHandle
from tests.inventory_fixtures import new_store, receipt


async def test_each_channel_receives_the_absolute_quantity(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    push = AvailableToSell(sku="CANDLE-CEDAR-8OZ", quantity=14, push_id="push-1")
    for channel in (Channel.SHOPIFY, Channel.AMAZON, Channel.WALMART):
        assert await adapters.marketplace(channel).set_available([push]) == []
    shopify = httpx.get(f"{sandbox.url}/_sandbox/shopify/inventory").json()
    assert shopify["available"] == {"CANDLE-CEDAR-8OZ": 14}
    assert httpx.get(f"{sandbox.url}/_sandbox/amazon/inventory").json() == {"CANDLE-CEDAR-8OZ": 14}
    walmart = httpx.get(f"{sandbox.url}/_sandbox/walmart/inventory").json()
    assert walmart == {"721407": {"CANDLE-CEDAR-8OZ": 14}}
    await adapters.aclose()


async def test_shopify_push_is_idempotent_on_its_key(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    shopify = adapters.marketplace(Channel.SHOPIFY)
    await shopify.set_available([AvailableToSell(sku="MUG-STONE-350", quantity=5, push_id="k1")])
    await shopify.set_available([AvailableToSell(sku="MUG-STONE-350", quantity=5, push_id="k1")])
    batch = [
        AvailableToSell(sku="MUG-STONE-350", quantity=3, push_id="k2"),
        AvailableToSell(sku="WICK-TRIM-01", quantity=8, push_id="k2"),
    ]
    await shopify.set_available(batch)  # one mutation for both
    state = httpx.get(f"{sandbox.url}/_sandbox/shopify/inventory").json()
    assert state == {"available": {"MUG-STONE-350": 3, "WICK-TRIM-01": 8}, "pushes": 2}
    await adapters.aclose()


async def test_a_sku_a_channel_does_not_list_is_named_not_raised(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    batch = [
        AvailableToSell(sku="NO-SUCH-SKU", quantity=1, push_id="p"),
        AvailableToSell(sku="WICK-TRIM-01", quantity=4, push_id="p"),
    ]
    for channel in (Channel.SHOPIFY, Channel.AMAZON, Channel.WALMART):
        assert await adapters.marketplace(channel).set_available(batch) == ["NO-SUCH-SKU"]
    assert httpx.get(f"{sandbox.url}/_sandbox/amazon/inventory").json() == {"WICK-TRIM-01": 4}
    await adapters.aclose()


async def test_push_activity_sends_what_changed_and_classifies_throttling(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    adapters = build_adapters(sandbox.settings())
    store = new_store(f"sqlite:///{tmp_path / 'inventory.db'}")
    store.record([receipt("WICK-TRIM-01", "EAST", 10)])  # Amazon: 50 % of 10, less 1
    push = InventoryPushActivities(InventoryService(store), adapters.marketplace)
    request = PushRequest(channel=Channel.AMAZON, skus=["WICK-TRIM-01"])
    sandbox.faults("amazon", throttle_next=1, retry_after_s=3)
    with pytest.raises(ApplicationError) as throttled:
        await ActivityEnvironment().run(push.push_available, request)
    assert throttled.value.type == "RateLimited" and not throttled.value.non_retryable
    result = await ActivityEnvironment().run(push.push_available, request)
    assert result.pushed == ["WICK-TRIM-01"] and result.values == {"WICK-TRIM-01": 4}
    assert httpx.get(f"{sandbox.url}/_sandbox/amazon/inventory").json() == {"WICK-TRIM-01": 4}
    unchanged = request.model_copy(update={"last_pushed": {"WICK-TRIM-01": 4}})
    assert (await ActivityEnvironment().run(push.push_available, unchanged)).pushed == []
    assert len(httpx.get(f"{sandbox.url}/_sandbox/pushes/amazon").json()) == 1
    await adapters.aclose()


async def test_many_amazon_skus_at_once_go_as_one_feed_while_the_usage_plan_allows(
    sandbox: SandboxHandle,
) -> None:
    adapters = build_adapters(sandbox.settings())
    amazon = adapters.marketplace(Channel.AMAZON)
    feeds = sandbox.app.state.catalogs["amazon"]
    log = sandbox.app.state.partners["amazon"].push_log
    skus = [item.sku for item in CATALOG]
    assert amazon.inventory_bulk_from <= len(skus) * 2
    many = [
        AvailableToSell(sku=sku, quantity=n, push_id="bulk-1")
        for n, sku in enumerate(skus * 2)  # the later value of a SKU wins, as in a feed
    ][-amazon.inventory_bulk_from :]
    wanted = {update.sku: update.quantity for update in many}

    assert await amazon.set_available(many) == []  # a feed: applied when Amazon processes it
    assert feeds.calls == 2 and not log.entries  # createFeedDocument, createFeed
    inventory = f"{sandbox.url}/_sandbox/amazon/inventory"
    await eventually(lambda: httpx.get(inventory).json(), lambda held: held == wanted, what="feed")
    assert len(log.entries) == len(many)

    # No feed left in createFeed's usage plan: patched one by one (few), or waited for (many).
    adapters.amazon.feeds = UsagePlan(burst=0, per_second=1 / 120)
    again = [update.model_copy(update={"quantity": 7}) for update in many]
    assert await amazon.set_available(again) == [] and feeds.calls == 2
    assert set(httpx.get(inventory).json().values()) == {7}
    with pytest.raises(RateLimitedError, match=r"next feed in 1\d\d s") as waited:
        await amazon.set_available(again * 20)
    assert 100 < waited.value.retry_after <= 120
    await adapters.aclose()
