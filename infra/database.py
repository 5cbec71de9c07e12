"""Engines for a database URL: SQLite (the embedded default, WAL) or PostgreSQL through psycopg."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, ClassVar, Self

from sqlalchemy import Table, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel, create_engine


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


def create_tables(engine: Engine, tables: list[Table] | None = None) -> None:
    """The tables (all of the models' by default) created when missing, and the columns and
    indexes added to their models since created: an existing database keeps working. A new
    column must be nullable or have a plain default."""
    chosen = tables if tables is not None else list(SQLModel.metadata.tables.values())
    SQLModel.metadata.create_all(engine, tables=chosen)
    inspector = inspect(engine)
    for table in chosen:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(engine.dialect)
            default = getattr(column.default, "arg", None)
            if not column.nullable and default is None:
                raise RuntimeError(f"{table.name}.{column.name} is new: it needs a default")
            clause = "" if default is None else f" NOT NULL DEFAULT {_literal(default)}"
            with engine.begin() as connection:
                connection.execute(
                    text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{clause}')
                )
        for index in table.indexes:
            index.create(engine, checkfirst=True)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


class TableStore:
    """A store of our own tables (`tables`, created when missing): its writers queue on the
    process's lock on SQLite, and its upserts use the engine's dialect."""

    tables: ClassVar[list[Table]] = []

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = write_lock(engine)
        self._dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        create_tables(engine, self.tables)

    @classmethod
    def open(cls, url: str) -> Self:
        return cls(create_engine_for(url, immediate=True))
