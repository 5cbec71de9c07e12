"""The journal a settlement is posted to the ERP as: each amount kind credited to its account
(a negative amount — a fee, a refund, a reserve held back — is a debit), the net deposit
debited to the bank. One journal per settlement, keyed by the settlement's id."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from canonical.settlement import AmountKind, Settlement


class SettlementAccounts(BaseModel):
    """The ERP's accounts a channel's settlements go to (NetSuite internal ids, Tryton codes)."""

    bank: str = Field(min_length=1, description="Where the channel deposits")
    kinds: dict[AmountKind, str] = Field(description="Each amount kind's account")


class JournalLine(BaseModel):
    account: str
    debit: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)
    memo: str = ""


class Journal(BaseModel):
    journal_id: str = Field(min_length=1, description="The idempotency key: one journal per id")
    date: date
    currency: str
    memo: str
    lines: list[JournalLine]

    def balanced(self) -> bool:
        return sum(line.debit for line in self.lines) == sum(line.credit for line in self.lines)


class UnpostableSettlement(ValueError):
    """A settlement no balanced journal can be made of, with why."""


def settlement_journal(settlement: Settlement, accounts: SettlementAccounts) -> Journal:
    currency = settlement.total.currency
    per_kind: dict[AmountKind, Decimal] = {}
    for line in settlement.lines:
        if line.amount.currency != currency:
            raise UnpostableSettlement(
                f"line {line.line_id} is in {line.amount.currency}, the deposit in {currency}"
            )
        per_kind[line.kind] = per_kind.get(line.kind, Decimal(0)) + line.amount.amount
    lines_total = sum(per_kind.values(), Decimal(0))
    if lines_total != settlement.total.amount:
        raise UnpostableSettlement(
            f"the lines sum to {currency} {lines_total}, the deposit is {settlement.total}"
        )
    lines = [
        JournalLine(
            account=accounts.kinds[kind],
            credit=max(amount, Decimal(0)),
            debit=max(-amount, Decimal(0)),
            memo=kind.value,
        )
        for kind, amount in sorted(per_kind.items())
        if amount
    ]
    deposit = settlement.total.amount
    lines.append(
        JournalLine(
            account=accounts.bank,
            debit=max(deposit, Decimal(0)),
            credit=max(-deposit, Decimal(0)),
            memo="net deposit",
        )
    )
    day = settlement.deposit_date or (
        settlement.period_end.date() if settlement.period_end else None
    )
    if day is None:
        raise UnpostableSettlement(f"settlement {settlement.settlement_id} names no deposit date")
    return Journal(
        journal_id=f"settlement-{settlement.channel.value}-{settlement.settlement_id}",
        date=day,
        currency=currency,
        memo=f"{settlement.channel.value} settlement {settlement.settlement_id}",
        lines=lines,
    )
