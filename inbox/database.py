"""The inbox's engine: its tables are created (and the columns and indexes added since) on
first use."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from infra.database import create_engine_for


def engine_for(url: str) -> Engine:
    engine = create_engine_for(url)
    SQLModel.metadata.create_all(engine)
    _add_new_columns(engine)
    for table in SQLModel.metadata.tables.values():  # indexes added since a table was created
        for index in table.indexes:
            index.create(engine, checkfirst=True)
    return engine


def _add_new_columns(engine: Engine) -> None:
    """Nullable columns added to a model since its table was created (e.g. the inbox's
    `body_key`), added to the table: an existing database keeps working."""
    inspector = inspect(engine)
    for table in SQLModel.metadata.tables.values():
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable:
                kind = column.type.compile(engine.dialect)
                with engine.begin() as connection:
                    connection.execute(
                        text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')
                    )
