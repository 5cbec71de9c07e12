"""Pushing available-to-sell to each channel over HTTP (the sandbox plays the channels)."""

from __future__ import annotations

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.channel import ChannelActivities
from activities.models import ChannelAvailability
from adapters.errors import BusinessError
from adapters.registry import build_adapters
from canonical import Channel, ExceptionCode
from canonical.inventory import AvailableToSell
from tests.conftest import SandboxHandle


async def test_each_channel_receives_the_absolute_quantity(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    push = AvailableToSell(sku="CANDLE-CEDAR-8OZ", quantity=14, push_id="push-1")
    for channel in (Channel.SHOPIFY, Channel.AMAZON, Channel.WALMART):
        await adapters.marketplace(channel).set_available(push)
    shopify = httpx.get(f"{sandbox.url}/_sandbox/shopify/inventory").json()
    assert shopify["available"] == {"CANDLE-CEDAR-8OZ": 14}
    assert httpx.get(f"{sandbox.url}/_sandbox/amazon/inventory").json() == {"CANDLE-CEDAR-8OZ": 14}
    walmart = httpx.get(f"{sandbox.url}/_sandbox/walmart/inventory").json()
    assert walmart == {"721407": {"CANDLE-CEDAR-8OZ": 14}}
    await adapters.aclose()


async def test_shopify_push_is_idempotent_on_its_key(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    shopify = adapters.marketplace(Channel.SHOPIFY)
    await shopify.set_available(AvailableToSell(sku="MUG-STONE-350", quantity=5, push_id="k1"))
    await shopify.set_available(AvailableToSell(sku="MUG-STONE-350", quantity=5, push_id="k1"))
    await shopify.set_available(AvailableToSell(sku="MUG-STONE-350", quantity=3, push_id="k2"))
    state = httpx.get(f"{sandbox.url}/_sandbox/shopify/inventory").json()
    assert state == {"available": {"MUG-STONE-350": 3}, "pushes": 2}  # k1 applied once
    await adapters.aclose()


async def test_unknown_sku_is_refused_by_every_channel(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    ghost = AvailableToSell(sku="NO-SUCH-SKU", quantity=1, push_id="p")
    for channel in (Channel.SHOPIFY, Channel.AMAZON, Channel.WALMART):
        with pytest.raises(BusinessError) as refused:
            await adapters.marketplace(channel).set_available(ghost)
        assert refused.value.code in (ExceptionCode.UNKNOWN_SKU, ExceptionCode.CHANNEL_REJECTED)
    await adapters.aclose()


async def test_activity_classifies_a_throttled_push(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    activities = ChannelActivities(adapters.marketplace)
    request = ChannelAvailability(
        channel=Channel.AMAZON, update=AvailableToSell(sku="WICK-TRIM-01", quantity=2, push_id="p")
    )
    sandbox.faults("amazon", throttle_next=1, retry_after_s=3)
    with pytest.raises(ApplicationError) as throttled:
        await ActivityEnvironment().run(activities.publish_available, request)
    assert throttled.value.type == "RateLimited" and not throttled.value.non_retryable
    await ActivityEnvironment().run(activities.publish_available, request)
    assert httpx.get(f"{sandbox.url}/_sandbox/amazon/inventory").json() == {"WICK-TRIM-01": 2}
    await adapters.aclose()
