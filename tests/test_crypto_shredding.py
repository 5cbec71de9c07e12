"""Crypto-shredding: a customer's payloads are sealed with their own key as well as the
payload keys; destroying the key leaves what Temporal stored unreadable, to workers and to
the Web UI's codec server alike, while other customers' payloads still open."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import ActivitySerializationContext, WorkflowSerializationContext

from canonical import Address, Customer
from infra import customer_keys
from infra.codec import CUSTOMER_ENCODING, EncryptionCodec, encrypted_converter
from infra.customer_keys import CustomerErased, CustomerKeys, customer_keys_at
from infra.keyring import Keyring, new_key_line

ADA = Customer(email="Ada.Lovelace@example.com", name="Ada Lovelace")
GRACE = Customer(phone="+1 508 555 0147", name="Grace Hopper")
ADDRESS = Address(name="Ada Lovelace", line1="12 St James's Square", city="London", country="GB")


@pytest.fixture
def keys(tmp_path: Path) -> CustomerKeys:
    ring = Keyring.parse(new_key_line("k1"), "test")
    return customer_keys_at(f"sqlite:///{tmp_path / 'keys.db'}", ring, cache_seconds=0)


def payload_of(value: object) -> Payload:
    return encrypted_converter(Keyring.parse(new_key_line("x"), "t")).payload_converter.to_payloads(
        [value]
    )[0]


def in_workflow(codec: EncryptionCodec, workflow_id: str) -> EncryptionCodec:
    return codec.with_context(
        WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)
    )


async def test_a_customers_payload_opens_until_their_key_is_destroyed(keys: CustomerKeys) -> None:
    codec = EncryptionCodec(keys.keyring, keys)
    assert (
        ADA.customer_ref
        and ADA.customer_ref == Customer(email="ada.lovelace@example.com ").customer_ref
    )
    ada, grace = payload_of(ADA), payload_of(GRACE)
    sealed = await codec.encode([ada, grace])
    assert all(b"Lovelace" not in p.data and b"Hopper" not in p.data for p in sealed)
    assert await codec.decode(sealed) == [ada, grace]

    assert keys.destroy(ADA.customer_ref) == 1 and keys.destroy(ADA.customer_ref) == 0
    assert keys.destroyed(ADA.customer_ref) and not keys.destroyed(GRACE.customer_ref or "")
    with pytest.raises(CustomerErased, match=f"customer {ADA.customer_ref} was erased"):
        await codec.decode(sealed[:1])
    assert await codec.decode(sealed[1:]) == [grace]  # another customer's still opens
    (notice,) = await EncryptionCodec(keys.keyring, keys, erased_as_notice=True).decode(sealed[:1])
    assert b"erased at their request" in notice.data and b"Lovelace" not in notice.data
    # A customer who comes back gets a new key, which opens none of what the old one sealed.
    again = await codec.encode([ada])
    assert await codec.decode(again) == [ada]
    with pytest.raises(CustomerErased):
        await codec.decode(sealed[:1])


async def test_a_workflows_later_payloads_take_the_key_of_the_customer_it_named(
    keys: CustomerKeys,
) -> None:
    codec = EncryptionCodec(keys.keyring, keys)
    order = in_workflow(codec, "order-shopify-1001")
    await order.encode([payload_of(ADA)])  # the order's input names its customer
    assert keys.workflows(ADA.customer_ref or "") == ["order-shopify-1001"]
    activity = codec.with_context(
        ActivitySerializationContext(
            namespace="default", activity_id="3", activity_type="create_shipment",
            activity_task_queue="q", workflow_id="order-shopify-1001~g1",
            workflow_type="ShipmentGroupWorkflow", is_local=False,
        )
    )  # fmt: skip
    (address,) = await activity.encode([payload_of(ADDRESS)])
    (other,) = await in_workflow(codec, "inventory-publisher").encode([payload_of(ADDRESS)])
    inner = [Payload.FromString(keys.keyring.open("k1", p.data)) for p in (address, other)]
    assert inner[0].metadata["encoding"] == CUSTOMER_ENCODING  # the child's address: Ada's key
    assert inner[1].metadata["encoding"] != CUSTOMER_ENCODING  # no customer: payload keys only

    keys.destroy(ADA.customer_ref or "")
    with pytest.raises(CustomerErased):
        await codec.decode([address])
    assert await codec.decode([other]) == [payload_of(ADDRESS)]


def test_a_process_keeps_only_so_many_workflows_customers(
    keys: CustomerKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(customer_keys, "CACHED_AT_MOST", 3)
    for n in range(5):
        keys.assign(f"order-shopify-{n}", ADA.customer_ref or "")
    assert list(keys._subjects) == ["order-shopify-2", "order-shopify-3", "order-shopify-4"]
    assert keys.subject("order-shopify-0~g1") == ADA.customer_ref  # read again from the table
