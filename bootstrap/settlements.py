"""The settlement account mapping a worker posts with: read and checked at start."""

from __future__ import annotations

from infra.settings import Settings
from settlements.accounts import AccountMap, account_map_path, load_account_map


def settlement_accounts(settings: Settings) -> AccountMap:
    """`SETTLEMENT_ACCOUNTS`, or the bundled mapping of the configured ERP; `AccountMapError`
    (one sentence) when it cannot be used."""
    return load_account_map(account_map_path(settings.settlement_accounts, settings.erp))
