"""Engines for a database URL: SQLite (the embedded default, WAL) or PostgreSQL through psycopg."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import create_engine


def create_engine_for(url: str, *, immediate: bool = False, pool_size: int = 5) -> Engine:
    """`immediate`: SQLite transactions take the write lock when they begin. A transaction
    that reads before it writes would otherwise fail at once with "database is locked" when
    another writer got there first, instead of waiting its turn."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            if immediate:
                connection.isolation_level = None  # pysqlite emits no BEGIN of its own

        if immediate:

            @event.listens_for(engine, "begin")
            def _begin(connection: Any) -> None:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


def write_lock(engine: Engine) -> AbstractContextManager[Any]:
    """SQLite has one writer at a time; concurrent writers wait in its busy handler, which
    sleeps in growing steps (tail latency). A process's writers queue on a lock instead."""
    return threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
