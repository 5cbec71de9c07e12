"""The inbox keeps customers' data sealed at rest, empties settled deliveries past retention,
and forgets a customer on request, on SQLite and PostgreSQL; an inbox made before any of this
keeps working."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import starter
from inbox.database import engine_for
from inbox.store import TABLE, Inbox, InboxStatus
from infra.keyring import Keyring, KeyringError, new_key_line
from infra.settings import Settings

ADA: dict[str, Any] = {"email": "Ada.Lovelace@example.com", "customer": {"first_name": "Ada"}}
GRACE: dict[str, Any] = {"email": "grace@example.com", "customer": {"first_name": "Grace"}}


def keys(*lines: str) -> Keyring:
    return Keyring.parse("\n".join(lines), "test")


def body(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def stored_bodies(inbox: Inbox) -> list[bytes]:
    with inbox.engine.connect() as connection:
        return [row.body for row in connection.execute(select(TABLE.c.body))]


def test_bodies_are_sealed_at_rest_and_open_after_a_key_rotation(database_url: str) -> None:
    old = new_key_line("k1")
    inbox = Inbox(engine_for(database_url), keys(old))
    entry, new = inbox.add("shopify", "orders/create", "w-1", {}, body(ADA))
    assert new and entry.body == body(ADA)
    assert all(b"Ada" not in raw for raw in stored_bodies(inbox))
    rotated = Inbox(inbox.engine, keys(new_key_line("k2"), old))
    found = rotated.find("shopify", "w-1")
    assert found is not None and found.body == body(ADA) and found.body_key == "k1"
    assert found.body_sha256 == hashlib.sha256(body(ADA)).hexdigest()
    again, new = rotated.add("shopify", "orders/create", "w-1", {}, body(ADA))
    assert not new and again.body == body(ADA)  # a redelivery answers with the first entry
    with pytest.raises(KeyringError, match="'k1', which is not configured"):
        Inbox(inbox.engine, keys(new_key_line("k3"))).get(entry.id or 0)


def test_settled_deliveries_past_retention_are_emptied(database_url: str) -> None:
    inbox = Inbox(engine_for(database_url), keys(new_key_line()))
    done, _ = inbox.add("shopify", "orders/create", "w-1", {"X-Shopify-Topic": "o"}, body(ADA))
    failed, _ = inbox.add("shopify", "orders/create", "w-2", {}, body(GRACE))
    inbox.record(done.id or 0, InboxStatus.ACCEPTED, workflow_id="order:shopify:1")
    inbox.record(failed.id or 0, InboxStatus.FAILED, error="boom")
    assert inbox.purge(datetime.now(UTC) - timedelta(days=1)) == 0  # not old enough
    assert inbox.purge(datetime.now(UTC) + timedelta(seconds=1)) == 1
    emptied, kept = inbox.get(done.id or 0), inbox.get(failed.id or 0)
    assert emptied is not None and kept is not None
    assert (emptied.body, emptied.headers, emptied.emptied_at is not None) == (b"", "{}", True)
    assert emptied.status is InboxStatus.ACCEPTED and emptied.workflow_id == "order:shopify:1"
    assert emptied.body_sha256 == hashlib.sha256(body(ADA)).hexdigest()
    assert kept.body == body(GRACE)  # a failed delivery may still be replayed: kept
    assert inbox.purge(datetime.now(UTC) + timedelta(seconds=1)) == 0  # once


def test_a_customer_is_forgotten_on_request(database_url: str) -> None:
    inbox = Inbox(engine_for(database_url), keys(new_key_line()))
    first, _ = inbox.add("shopify", "orders/create", "w-1", {}, body(ADA))
    inbox.add("shopify", "orders/create", "w-2", {}, body(GRACE))
    refund, _ = inbox.add("shopify", "refunds/create", "w-3", {}, body({"order": ADA}))
    assert inbox.erase("ada.lovelace@EXAMPLE.com") == [first.id, refund.id]
    assert [e.body for e in inbox.latest()] == [b"", body(GRACE), b""]
    assert inbox.erase("ada.lovelace@example.com") == []


def test_an_inbox_made_before_encryption_keeps_working(tmp_path: Path) -> None:
    """Its table gains the new columns; its plain bodies still read."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE inbox (id INTEGER PRIMARY KEY, source VARCHAR NOT NULL, "
            "topic VARCHAR NOT NULL, dedupe_key VARCHAR NOT NULL, received_at DATETIME NOT NULL,"
            " headers VARCHAR NOT NULL, body BLOB NOT NULL, status VARCHAR(8) NOT NULL, "
            "error VARCHAR, workflow_id VARCHAR, attempts INTEGER NOT NULL, "
            "updated_at DATETIME NOT NULL, UNIQUE (source, dedupe_key))"
        )
        db.execute(
            "INSERT INTO inbox VALUES (1, 'shopify', 'orders/create', 'w-0', "
            "'2026-01-01 00:00:00', '{}', ?, 'ACCEPTED', NULL, NULL, 1, '2026-01-01 00:00:00')",
            (body(ADA),),
        )
    inbox = Inbox(engine_for(f"sqlite:///{path}"), keys(new_key_line()))
    old = inbox.get(1)
    assert old is not None and old.body == body(ADA) and old.body_key is None
    inbox.add("shopify", "orders/create", "w-1", {}, body(GRACE))
    assert [e.body for e in inbox.latest()] == [body(GRACE), body(ADA)]
    assert inbox.erase(ADA["email"]) == [1]


def test_support_purges_and_erases_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'inbox.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    inbox = Inbox.of(Settings.from_env({"DATABASE_URL": url}))
    entry, _ = inbox.add("shopify", "orders/create", "w-1", {}, body(ADA))
    inbox.record(entry.id or 0, InboxStatus.ACCEPTED)

    assert starter.main(["inbox", "erase", "--email", "nobody"]) == 1
    assert "'nobody' is not an e-mail address." in capsys.readouterr().err
    assert starter.main(["inbox", "erase", "--email", "ada.lovelace@example.com"]) == 0
    assert "Emptied 1 delivery naming ada.lovelace@example.com (ids: 1)" in " ".join(
        capsys.readouterr().out.split()
    )
    assert starter.main(["inbox", "purge", "--older-than-days", "-1"]) == 2
    assert "'-1' is not a number of days ≥ 0" in capsys.readouterr().err
    assert starter.main(["inbox", "purge", "--older-than-days", "0"]) == 0
    assert "Emptied 0 settled deliveries" in capsys.readouterr().out  # erased already
