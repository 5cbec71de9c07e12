"""The inbox's engine: its tables are created (and the columns and indexes added since) on
first use."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from infra.database import create_engine_for, create_tables


def engine_for(url: str) -> Engine:
    engine = create_engine_for(url)
    create_tables(engine)
    return engine
