"""The inventory store's engine, migrated to the latest schema with alembic on first use."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from infra.database import create_engine_for

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Upgrade to head: a no-op on a current schema; safe when several processes start at once
    (PostgreSQL: the migration runs under an advisory lock)."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(4247)")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def inventory_engine(url: str, pool_size: int = 5) -> Engine:
    engine = create_engine_for(url, immediate=True, pool_size=pool_size)
    migrate(engine)
    return engine
