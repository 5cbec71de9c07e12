"""Retention: settled deliveries' bodies are emptied once older than `INBOX_RETENTION_DAYS`
(their outcome and hash stay), by the webhooks service every hour."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from inbox.store import Inbox

log = logging.getLogger("inbox.retention")


async def purge_forever(inbox: Inbox, retention_days: float, every: float = 3600) -> None:
    while True:
        cutoff = datetime.now(UTC) - timedelta(days=retention_days)
        try:
            emptied = await asyncio.to_thread(inbox.purge, cutoff)
            if emptied:
                log.info("emptied %d settled deliveries received before %s", emptied, cutoff)
        except Exception:
            log.exception("inbox purge failed")
        await asyncio.sleep(every)
