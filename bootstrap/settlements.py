"""The settlement settings a worker runs with — the account mapping it posts with, the channels
whose orders wait for their settlement — read and checked at start."""

from __future__ import annotations

from canonical.settlement import PAYOUT_CHANNELS
from infra.settings import Settings
from settlements.accounts import AccountMap, AccountMapError, account_map_path, load_account_map


def settlement_accounts(settings: Settings) -> AccountMap:
    """`SETTLEMENT_ACCOUNTS`, or the bundled mapping of the configured ERP; `AccountMapError`
    (one sentence) when it cannot be used, or when `SETTLEMENT_CHANNELS` names a channel that
    does not pay out."""
    payout = {channel.value for channel in PAYOUT_CHANNELS}
    unknown = sorted(set(settings.settlement_channels) - payout)
    if unknown:
        raise AccountMapError(
            f"SETTLEMENT_CHANNELS: {', '.join(unknown)} pay(s) nothing out; "
            f"choose among {', '.join(sorted(payout))}"
        )
    return _account_map(settings)


def _account_map(settings: Settings) -> AccountMap:
    return load_account_map(account_map_path(settings.settlement_accounts, settings.erp))
