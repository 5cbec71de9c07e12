"""A customer across orders and channels: e-mail and phone normalized, a marketplace's relay
address never merged with a real one, marketing consent kept and replaced only by a newer
one — as the sandbox NetSuite's one customer record per identity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.netsuite import NetSuiteErp
from adapters.registry import build_adapters
from adapters.shopify import order_from_webhook
from canonical import Customer
from canonical.customer import (
    ConsentState,
    MarketingConsent,
    identity_key,
    normalized_email,
    normalized_phone,
    reference,
)
from tests.conftest import SandboxHandle
from tests.payloads import shopify_order_body


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("  Marisol.Okafor@Example.COM ", "marisol.okafor@example.com"),
        ("marisol.okafor@example.com", "marisol.okafor@example.com"),
        ("not an address", None),
        ("", None),
        (None, None),
    ],
)
def test_email_addresses_are_normalized(given: str | None, normalized: str | None) -> None:
    assert normalized_email(given) == normalized


@pytest.mark.parametrize(
    ("given", "e164"),
    [
        ("(508) 555-0147", "+15085550147"),
        ("+1 508-555-0147", "+15085550147"),
        ("+44 20 7946 0958", "+442079460958"),
        ("555-0147", None),  # not a whole number
        ("call me", None),
    ],
)
def test_phones_are_e164(given: str, e164: str | None) -> None:
    assert normalized_phone(given) == e164


def test_one_identity_per_person_and_relay_addresses_apart() -> None:
    assert identity_key("Marisol.Okafor@example.com", None) == (
        identity_key("marisol.okafor@example.com ", "+15085550147")
    ) == "email:marisol.okafor@example.com"  # fmt: skip
    assert identity_key(None, "(508) 555-0147") == "phone:+15085550147"
    relay = "5x7kq2mv9d3l4@marketplace.amazon.com"
    assert identity_key(relay, "+15085550147") == f"relay:{relay}"
    assert identity_key(None, None) is None
    ref = reference("email:marisol.okafor@example.com")
    assert ref.startswith("cust-") and "marisol" not in ref and len(ref) == 29


def test_shopify_consent_is_read_with_when_and_how() -> None:
    body = shopify_order_body()
    body["customer"]["email_marketing_consent"] = {
        "state": "subscribed", "opt_in_level": "confirmed_opt_in",
        "consent_updated_at": "2026-03-01T10:00:00-05:00",
    }  # fmt: skip
    body["customer"]["sms_marketing_consent"] = {
        "state": "redacted", "opt_in_level": None, "consent_updated_at": None,
        "consent_collected_from": "SHOPIFY",
    }  # fmt: skip
    customer = order_from_webhook(body).customer
    assert customer.email_consent is not None and customer.sms_consent is None
    assert customer.email_consent.state is ConsentState.SUBSCRIBED
    assert customer.email_consent.updated_at == datetime(2026, 3, 1, 15, tzinfo=UTC)


def consent(state: ConsentState, day: int) -> MarketingConsent:
    return MarketingConsent(state=state, updated_at=datetime(2026, 3, day, tzinfo=UTC),
                            source="shopify")  # fmt: skip


async def test_one_netsuite_customer_per_identity_its_consent_only_ever_newer(
    sandbox: SandboxHandle,
) -> None:
    adapters = build_adapters(sandbox.settings())
    erp = adapters.erp
    assert isinstance(erp, NetSuiteErp)

    async def upsert(**customer: Any) -> str | None:
        return await erp.upsert_customer(Customer(name="Marisol Okafor", **customer))

    first = await upsert(email="Marisol.Okafor@example.com",
                         email_consent=consent(ConsentState.SUBSCRIBED, 5))  # fmt: skip
    again = await upsert(
        email="marisol.okafor@example.com ",
        phone="(508) 555-0147",
        email_consent=consent(ConsentState.UNSUBSCRIBED, 2),
    )  # older order
    relay = await upsert(email="5x7kq2mv9d3l4@marketplace.amazon.com")
    later = await upsert(email="marisol.okafor@example.com",
                         email_consent=consent(ConsentState.UNSUBSCRIBED, 9))  # fmt: skip
    assert first and first == again == later and relay and relay != first
    assert await upsert() is None  # nobody to key by: the web customer
    customers = httpx.get(f"{sandbox.url}/_sandbox/netsuite/customers").json()
    assert len(customers) == 2
    (marisol,) = [c for c in customers if c["id"] == first]
    assert marisol["email"] == "marisol.okafor@example.com" and marisol["phone"] == "+15085550147"
    assert marisol["custentity_email_consent"] == "unsubscribed"  # the 9th's, not the 2nd's
    assert marisol["custentity_email_consent_at"].startswith("2026-03-09")
    assert marisol["globalSubscriptionStatus"] == {"id": "4"}
    assert "marisol" not in marisol["externalId"]
    order = order_from_webhook(sandbox.shopify_orders()[0])
    await erp.upsert_sales_order(order, await erp.resolve_items(order.skus()))
    (record,) = httpx.get(f"{sandbox.url}/_sandbox/netsuite/salesOrders").json()
    owner = await erp.upsert_customer(order.customer)
    assert record["entity"] == {"id": owner}
    await adapters.aclose()
