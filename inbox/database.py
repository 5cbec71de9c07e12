"""The inbox's engine: its tables are created (and indexes added since) on first use."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from infra.database import create_engine_for


def engine_for(url: str) -> Engine:
    engine = create_engine_for(url)
    SQLModel.metadata.create_all(engine)
    for table in SQLModel.metadata.tables.values():  # indexes added since a table was created
        for index in table.indexes:
            index.create(engine, checkfirst=True)
    return engine
