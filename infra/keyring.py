"""Keys that encrypt customer data at rest (Temporal payloads, the inbox's raw bodies) with
AES-256-GCM. Every sealed value names the key that sealed it, so keys rotate: put a new key
first and it seals from then on, while values sealed by the older keys still open.

Keys come from `PAYLOAD_KEYS` (`id=base64key`, comma separated, the first seals) or from the
file `PAYLOAD_KEYS_FILE` (one `id=base64key` a line, `#` comments, the first seals); never from
the repository. The local stack, with neither set, keeps its keys in `.data/payload-keys`,
made on first use."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12


class KeyringError(ValueError):
    """Keys that cannot be used, or a value no configured key opens; the message says which."""


def new_key_line(key_id: str | None = None) -> str:
    """`id=base64key` for a fresh random key (the id defaults to today's date)."""
    key_id = key_id or datetime.now(UTC).strftime("key-%Y%m%d")
    return f"{key_id}={base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]  # in order: the first seals
    _ciphers: dict[str, AESGCM] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("no encryption key configured")
        for key_id, key in self.keys.items():
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key {key_id!r} is {len(key)} bytes; AES-256 needs 32")
        ciphers = {key_id: AESGCM(key) for key_id, key in self.keys.items()}
        object.__setattr__(self, "_ciphers", ciphers)

    @classmethod
    def parse(cls, text: str, source: str) -> Keyring:
        """Keys from `id=base64key` entries, one per line or comma separated."""
        keys: dict[str, bytes] = {}
        entries = [e.strip() for line in text.splitlines() for e in line.split(",")]
        for entry in entries:
            if not entry or entry.startswith("#"):
                continue
            key_id, sep, encoded = entry.partition("=")
            if not sep or not key_id.strip():
                raise KeyringError(f"{source}: expected id=base64key, got {entry[:12]!r}…")
            try:
                keys[key_id.strip()] = base64.b64decode(encoded.strip(), validate=True)
            except binascii.Error:
                raise KeyringError(f"{source}: key {key_id.strip()!r} is not base64") from None
        if not keys:
            raise KeyringError(f"{source}: no key in it")
        return cls(keys)

    def config(self) -> str:
        """The keys as `PAYLOAD_KEYS` takes them (to hand to a child process)."""
        return ",".join(f"{i}={base64.b64encode(k).decode()}" for i, k in self.keys.items())

    @property
    def active(self) -> str:
        """The id of the key that seals."""
        return next(iter(self.keys))

    def seal(self, plaintext: bytes, associated: bytes = b"") -> tuple[str, bytes]:
        """(key id, nonce + ciphertext) under the active key."""
        nonce = os.urandom(NONCE_BYTES)
        return self.active, nonce + self._ciphers[self.active].encrypt(nonce, plaintext, associated)

    def open(self, key_id: str, sealed: bytes, associated: bytes = b"") -> bytes:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise KeyringError(
                f"sealed with key {key_id!r}, which is not configured (PAYLOAD_KEYS / "
                "PAYLOAD_KEYS_FILE): add it back to read this value"
            )
        try:
            return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
        except InvalidTag:
            raise KeyringError(f"a value sealed with key {key_id!r} does not open") from None


def load_keyring(env: Mapping[str, str], local_file: Path) -> Keyring:
    """`PAYLOAD_KEYS`, else `PAYLOAD_KEYS_FILE`, else (the local stack only) `local_file`,
    written with a new key when missing."""
    if env.get("PAYLOAD_KEYS"):
        return Keyring.parse(env["PAYLOAD_KEYS"], "PAYLOAD_KEYS")
    path = Path(env["PAYLOAD_KEYS_FILE"]) if env.get("PAYLOAD_KEYS_FILE") else None
    if path is None:
        if env.get("APP_ENV", "local") == "production":
            raise KeyringError("APP_ENV=production needs PAYLOAD_KEYS or PAYLOAD_KEYS_FILE")
        path = local_file
        if not path.exists():
            _write_once(path, f"# The local stack's keys; the first seals.\n{new_key_line()}\n")
    try:
        text = path.read_text()
    except OSError as exc:
        raise KeyringError(f"PAYLOAD_KEYS_FILE {path}: {exc.strerror}") from None
    return Keyring.parse(text, str(path))


def _write_once(path: Path, text: str) -> None:
    """Create `path` whole, or leave the one another process created first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
