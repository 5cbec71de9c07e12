"""Customer data is sealed before Temporal stores it: the keyring (rotation, the local key
file, production refusing to make one up), the payload codec, and the codec server the Web UI
decodes through."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from codec_server.app import create_app
from infra.codec import ENCODING, KEY_ID, EncryptionCodec, encrypted_converter
from infra.keyring import Keyring, KeyringError, load_keyring, new_key_line

EMAIL = b"ada.lovelace@example.com"
UI = "http://localhost:8233"


def ring(*lines: str) -> Keyring:
    return Keyring.parse("\n".join(lines), "test")


def test_a_rotated_keyring_still_opens_what_older_keys_sealed() -> None:
    old, new = new_key_line("k1"), new_key_line("k2")
    key_id, sealed = ring(old).seal(EMAIL)
    assert key_id == "k1" and EMAIL not in sealed
    rotated = ring(new, old)
    assert rotated.open("k1", sealed) == EMAIL
    assert rotated.seal(EMAIL)[0] == "k2"  # the first key seals from now on
    with pytest.raises(KeyringError, match="'k1', which is not configured"):
        ring(new).open("k1", sealed)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(KeyringError, match="does not open"):
        rotated.open("k1", tampered)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("k1=" + base64.b64encode(b"short").decode(), "5 bytes; AES-256 needs 32"),
        ("k1=not base64!", "not base64"),
        ("just-a-key", "expected id=base64key"),
        ("# only a comment\n", "no key in it"),
    ],
)
def test_unusable_keys_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(KeyringError, match=reason):
        Keyring.parse(text, "PAYLOAD_KEYS")


def test_the_local_stack_makes_its_key_once_and_production_never(tmp_path: Path) -> None:
    local = tmp_path / ".data" / "payload-keys"
    first = load_keyring({}, local)
    assert stat.S_IMODE(local.stat().st_mode) == 0o600
    assert load_keyring({}, local).keys == first.keys  # the same key on every start
    configured = new_key_line("ops-1")
    assert load_keyring({"PAYLOAD_KEYS": configured}, local).active == "ops-1"
    key_file = tmp_path / "keys"
    key_file.write_text(f"# rotated 2026-12\n{new_key_line('ops-2')}\n{configured}\n")
    from_file = load_keyring({"PAYLOAD_KEYS_FILE": str(key_file)}, local)
    assert list(from_file.keys) == ["ops-2", "ops-1"]
    with pytest.raises(KeyringError, match="APP_ENV=production needs PAYLOAD_KEYS"):
        load_keyring({"APP_ENV": "production"}, tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere").exists()
    with pytest.raises(KeyringError, match="No such file"):
        load_keyring({"PAYLOAD_KEYS_FILE": str(tmp_path / "missing")}, local)


async def test_every_payload_is_sealed_and_opens_again() -> None:
    codec = EncryptionCodec(ring(new_key_line("k1")))
    converter = encrypted_converter(ring(new_key_line("k1")))
    assert converter.payload_codec is not None
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"email": "%s"}' % EMAIL)
    (sealed,) = await codec.encode([plain])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k1"
    assert EMAIL not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [plain]
    assert await codec.decode([plain]) == [plain]  # stored before encryption: left as it is


def _body(payloads: list[Payload]) -> str:
    return json_format.MessageToJson(Payloads(payloads=payloads))


async def test_the_codec_server_decodes_for_the_web_ui() -> None:
    keyring = ring(new_key_line("k1"))
    app = create_app(keyring, [UI], token="s3cret")
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"%s"' % EMAIL)
    (sealed,) = await EncryptionCodec(keyring).encode([plain])
    auth = {"Authorization": "Bearer s3cret", "X-Namespace": "default"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://codec"
    ) as http:
        decoded = await http.post("/decode", content=_body([sealed]), headers=auth)
        assert decoded.status_code == 200
        assert list(json_format.Parse(decoded.text, Payloads()).payloads) == [plain]
        encoded = await http.post("/encode", content=_body([plain]), headers=auth)
        (again,) = json_format.Parse(encoded.text, Payloads()).payloads
        assert again.metadata[KEY_ID] == b"k1" and EMAIL not in again.data

        refused = await http.post("/decode", content=_body([sealed]))
        assert refused.status_code == 401
        garbage = await http.post("/decode", content="{not json", headers=auth)
        assert garbage.status_code == 400 and "not Payloads JSON" in garbage.text
        (foreign,) = await EncryptionCodec(ring(new_key_line("k9"))).encode([plain])
        unknown = await http.post("/decode", content=_body([foreign]), headers=auth)
        assert unknown.status_code == 422 and "'k9'" in unknown.text

        preflight = await http.options(
            "/decode",
            headers={
                "Origin": UI,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
            },
        )
        assert preflight.headers["access-control-allow-origin"] == UI
        stranger = await http.options(
            "/decode",
            headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in stranger.headers
