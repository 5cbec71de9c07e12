"""Which ERP account each settlement amount goes to, per channel and amount kind: a TOML file
(`SETTLEMENT_ACCOUNTS`, or the bundled one of the configured ERP), read and checked when the
worker starts, so a missing account refuses the start instead of failing a posting later."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from canonical import Channel
from canonical.journal import SettlementAccounts
from canonical.settlement import AmountKind

BUNDLED = Path(__file__).parent / "accounts"


class AccountMapError(ValueError):
    """An account mapping that cannot be used, with why."""


class AccountMap(BaseModel):
    default: dict[str, str] = Field(default_factory=dict)
    channels: dict[Channel, dict[str, str]] = Field(default_factory=dict)

    def accounts(self, channel: Channel) -> SettlementAccounts:
        merged = {**self.default, **self.channels.get(channel, {})}
        return SettlementAccounts(
            bank=merged["bank"], kinds={kind: merged[kind.value] for kind in AmountKind}
        )


def account_map_path(configured: Path | None, erp: str) -> Path:
    return configured or BUNDLED / f"{erp}.toml"


def load_account_map(path: Path) -> AccountMap:
    """The mapping, checked: every channel resolves `bank` and every amount kind to a
    non-empty account, and names nothing else."""
    try:
        mapping = AccountMap.model_validate(tomllib.loads(path.read_text()))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AccountMapError(f"settlement accounts {path}: {exc}") from None
    except ValidationError as exc:
        raise AccountMapError(f"settlement accounts {path}: {exc.errors()[0]['msg']}") from None
    wanted = {"bank", *(kind.value for kind in AmountKind)}
    for channel in Channel:
        merged = {**mapping.default, **mapping.channels.get(channel, {})}
        unknown = sorted(set(merged) - wanted)
        missing = sorted(k for k in wanted if not str(merged.get(k, "")).strip())
        problems = [f"no account for {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        if problems:
            what = "; ".join(problems)
            raise AccountMapError(f"settlement accounts {path}, {channel.value}: {what}")
    return mapping
