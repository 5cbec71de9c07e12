"""`python -m bootstrap.migrate`: every database of ours at the current schema — the inventory
store's (alembic), the inbox's and the return ledger's (their tables and the columns added
since) — then exit. Run once before a new build's services start (compose does)."""

from __future__ import annotations

import logging

import returns.ledger  # noqa: F401 - its table is created with the inbox's
from inbox.database import engine_for
from infra.logs import configure_process_logging
from infra.processes import exit_process
from infra.settings import Settings
from inventory.database import inventory_engine

log = logging.getLogger("migrate")


def main() -> int:
    settings = Settings.from_env()
    configure_process_logging("migrate", settings.env)
    inventory_engine(settings.inventory_database_url).dispose()
    engine_for(settings.database_url).dispose()
    log.info("databases at the current schema")
    return 0


if __name__ == "__main__":
    exit_process(main())
