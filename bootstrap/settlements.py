"""The settlement settings a worker runs with — the account mapping it posts with, the channels
whose orders wait for their settlement — read and checked at start."""

from __future__ import annotations

from bootstrap.channels import unknown_channels
from canonical.settlement import PAYOUT_CHANNELS
from infra.settings import Settings
from settlements.accounts import AccountMap, AccountMapError, account_map_path, load_account_map


def settlement_accounts(settings: Settings) -> AccountMap:
    """`SETTLEMENT_ACCOUNTS`, or the bundled mapping of the configured ERP; `AccountMapError`
    (one sentence) when it cannot be used, or when `SETTLEMENT_CHANNELS` names a channel that
    does not pay out."""
    names = settings.settlement_channels
    if why := unknown_channels("SETTLEMENT_CHANNELS", names, PAYOUT_CHANNELS, "payouts"):
        raise AccountMapError(why)
    return _account_map(settings)


def _account_map(settings: Settings) -> AccountMap:
    return load_account_map(account_map_path(settings.settlement_accounts, settings.erp))
