"""The payload codec every client and worker of the project uses: each payload (workflow and
activity inputs and results, signals, updates, queries, memos) is stored in Temporal sealed
with AES-256-GCM, its metadata naming the key (`encryption-key-id`). Search attributes are not
payloads: they stay plain and carry no personal data.

With the customers' data keys (`infra/customer_keys.py`), a payload that concerns a customer is
sealed twice: first with that customer's key, then with the payload keys. A payload concerns a
customer when it names them (`"customer_ref"`) or belongs to a workflow whose earlier payload
did (the serialization context gives the workflow). Once the customer's key is destroyed, such
a payload opens to nothing: the worker fails to read it, and the codec server (for the Web UI)
shows that it was erased."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from infra.customer_keys import CustomerErased, CustomerKeys, remember
from infra.keyring import NONCE_BYTES, Keyring, KeyringError

ENCODING = b"binary/encrypted"
CUSTOMER_ENCODING = b"binary/customer-encrypted"
KEY_ID = "encryption-key-id"
CUSTOMER_REF = "customer-ref"
KEY_GENERATION = "customer-key-generation"
# How a canonical customer names themselves in a JSON payload (a digest, no personal data).
NAMED = re.compile(rb'"customer_ref":"(cust-[0-9a-f]{24})"')
UNKNOWN_FOR = 30.0  # seconds a workflow without a known customer is not looked up again


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """`erased_as_notice`: a payload of an erased customer decodes to a notice saying so (the
    codec server, for people) instead of failing (workers, which must not read on)."""

    def __init__(
        self,
        keyring: Keyring,
        customers: CustomerKeys | None = None,
        *,
        erased_as_notice: bool = False,
        workflow_id: str | None = None,
        _unknown: OrderedDict[str, float] | None = None,
    ) -> None:
        self._keyring = keyring
        self._customers = customers
        self._erased_as_notice = erased_as_notice
        self._workflow_id = workflow_id
        # Workflows found to concern no customer, shared by the context copies.
        self._unknown = OrderedDict() if _unknown is None else _unknown

    def with_context(self, context: SerializationContext) -> Self:
        workflow_id = None
        if isinstance(context, WorkflowSerializationContext | ActivitySerializationContext):
            workflow_id = context.workflow_id
        return type(self)(
            self._keyring,
            self._customers,
            erased_as_notice=self._erased_as_notice,
            workflow_id=workflow_id,
            _unknown=self._unknown,
        )

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._seal(await self._for_customer(p)) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Sealed payloads opened; others (written before encryption) as they are."""
        opened = [self._open(p) if p.metadata.get("encoding") == ENCODING else p for p in payloads]
        return [await self._of_customer(p) for p in opened]

    def _seal(self, payload: Payload) -> Payload:
        key_id, sealed = self._keyring.seal(payload.SerializeToString())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=sealed)

    def _open(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        return Payload.FromString(self._keyring.open(key_id, payload.data))

    async def _for_customer(self, payload: Payload) -> Payload:
        """The payload sealed with its customer's key, when it concerns one."""
        customer_ref = await self._subject(payload)
        if customer_ref is None:
            return payload
        assert self._customers is not None
        found = self._customers.cached_key(customer_ref, None)
        if found is None:
            found = await asyncio.to_thread(self._customers.key, customer_ref)
        generation, key = found
        sealed = _seal_with(key, payload.SerializeToString(), customer_ref)
        metadata = {
            "encoding": CUSTOMER_ENCODING,
            CUSTOMER_REF: customer_ref.encode(),
            KEY_GENERATION: str(generation).encode(),
        }
        return Payload(metadata=metadata, data=sealed)

    async def _of_customer(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != CUSTOMER_ENCODING:
            return payload
        customer_ref = payload.metadata[CUSTOMER_REF].decode()
        generation = int(payload.metadata[KEY_GENERATION])
        if self._customers is None:
            raise KeyringError(f"sealed with customer {customer_ref}'s key; no key store here")
        cached = self._customers.cached_key(customer_ref, generation)
        try:
            key = (
                cached[1]
                if cached
                else await asyncio.to_thread(self._customers.existing_key, customer_ref, generation)
            )
        except CustomerErased as erased:
            if not self._erased_as_notice:
                raise
            notice = {"erased": str(erased), "customer_ref": customer_ref}
            return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(notice).encode())
        return Payload.FromString(_open_with(key, payload.data, customer_ref))

    async def _subject(self, payload: Payload) -> str | None:
        """The customer the payload concerns: the one it names, else its workflow's. What the
        process knows already is answered on the loop; the store is asked in a thread."""
        customers = self._customers
        if customers is None:
            return None
        named = NAMED.search(payload.data)
        workflow_id = self._workflow_id
        if named is not None:
            customer_ref = named.group(1).decode()
            if workflow_id and customers.known_subject(workflow_id) is None:
                await asyncio.to_thread(customers.assign, workflow_id, customer_ref)
                self._unknown.pop(workflow_id, None)
            return customer_ref
        if not workflow_id:
            return None
        known = customers.known_subject(workflow_id)
        if known is not None:
            return known
        if time.monotonic() - self._unknown.get(workflow_id, -UNKNOWN_FOR) < UNKNOWN_FOR:
            return None
        found = await asyncio.to_thread(customers.subject, workflow_id)
        if found is None:
            remember(self._unknown, workflow_id, time.monotonic())
        return found


def _seal_with(key: bytes, plaintext: bytes, customer_ref: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, customer_ref.encode())


def _open_with(key: bytes, sealed: bytes, customer_ref: str) -> bytes:
    try:
        return AESGCM(key).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], customer_ref.encode()
        )
    except InvalidTag:
        raise KeyringError(
            f"a value sealed with customer {customer_ref}'s key does not open"
        ) from None


def encrypted_converter(keyring: Keyring, customers: CustomerKeys | None = None) -> DataConverter:
    """Pydantic models in, sealed payloads out."""
    codec = EncryptionCodec(keyring, customers)
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)
