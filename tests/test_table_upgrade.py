"""A database made by an earlier version keeps working: the columns added to a store's model
since are added to its table on open (a nullable one as it is, another with its default)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from canonical import Channel
from catalog.store import ListingStore


def test_an_older_listings_table_gets_the_columns_added_since(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the table as the first catalogue release made it
        db.execute(
            "CREATE TABLE listings (channel VARCHAR NOT NULL, sku VARCHAR NOT NULL, "
            "content_hash VARCHAR NOT NULL, state VARCHAR NOT NULL, message VARCHAR NOT NULL, "
            "reference VARCHAR NOT NULL, updated_at DATETIME NOT NULL, PRIMARY KEY (channel, sku))"
        )
        db.execute(
            "INSERT INTO listings VALUES ('shopify', 'MUG-1', 'h1', 'published', '', 'gid', "
            "'2026-12-01 10:00:00')"
        )
    store = ListingStore.open(f"sqlite:///{path}")
    assert store.changed(Channel.SHOPIFY, {"MUG-1": "h1", "MUG-2": "h2"}) == ["MUG-2"]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT shape_hash FROM listings").fetchall() == [("",)]
