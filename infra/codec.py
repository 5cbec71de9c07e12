"""The payload codec every client and worker of the project uses: each payload (workflow and
activity inputs and results, signals, updates, queries, memos) is stored in Temporal sealed
with AES-256-GCM, its metadata naming the key (`encryption-key-id`). Search attributes are not
payloads: they stay plain and carry no personal data."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

from infra.keyring import Keyring

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"


class EncryptionCodec(PayloadCodec):
    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Sealed payloads opened; others (written before encryption) as they are."""
        return [self._open(p) if p.metadata.get("encoding") == ENCODING else p for p in payloads]

    def _seal(self, payload: Payload) -> Payload:
        key_id, sealed = self._keyring.seal(payload.SerializeToString())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=sealed)

    def _open(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        return Payload.FromString(self._keyring.open(key_id, payload.data))


def encrypted_converter(keyring: Keyring) -> DataConverter:
    """Pydantic models in, sealed payloads out."""
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(keyring))
