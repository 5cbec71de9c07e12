"""Alembic environment of the inventory store: run by `inventory.database.migrate`, or by
`alembic -x url=… -c inventory/alembic.ini upgrade head`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from infra.database import create_engine_for
from inventory.tables import METADATA

VERSION_TABLE = "inventory_alembic_version"


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database: alembic -x url=<DATABASE_URL> …")
    with create_engine_for(url).connect() as opened:
        run(opened)
