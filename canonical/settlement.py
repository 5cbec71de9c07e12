"""A channel's settlement (an Amazon settlement report, a Shopify Payments payout, a Walmart
reconciliation period): what the channel paid out, line by line, each line an amount of one
kind for one order, one return, or the account as a whole."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from canonical.money import Money, minor_units
from canonical.order import Channel

# The marketplaces that pay out (POS takings are the store's; web orders are the ERP's own).
PAYOUT_CHANNELS = (Channel.AMAZON, Channel.SHOPIFY, Channel.WALMART)


class AmountKind(StrEnum):
    PRINCIPAL = "principal"  # what the customer paid for the goods (discounts negative)
    TAX = "tax"  # tax the customer paid, which the channel passes on to us
    WITHHELD_TAX = "withheld_tax"  # tax the marketplace collected and remits itself
    SHIPPING = "shipping"  # shipping the customer paid
    FEE = "fee"  # the channel's fees (fulfilment, subscription, payment processing)
    COMMISSION = "commission"  # the channel's referral commission
    REFUND = "refund"  # paid back to a customer (negative)
    RESERVE = "reserve"  # held back by the channel, or released from its reserve
    ADJUSTMENT = "adjustment"  # reimbursements, reversals, chargebacks, corrections

    @property
    def paid_by_customer(self) -> bool:
        """Kinds that make up what an order's customer paid, net of refunds: what is compared
        with what we invoiced."""
        return self in (
            AmountKind.PRINCIPAL,
            AmountKind.TAX,
            AmountKind.SHIPPING,
            AmountKind.REFUND,
        )


class SettlementLine(BaseModel):
    line_id: str = Field(min_length=1, description="Stable within its settlement")
    kind: AmountKind
    amount: Money = Field(description="Signed: positive is paid to us, negative is taken")
    order_id: str | None = Field(
        None, description="The channel's order id (our order's external id); None for the account"
    )
    refund_id: str | None = Field(None, description="The channel's refund or adjustment id")
    description: str = Field("", description="The channel's own words for the amount")
    sku: str | None = None
    posted_at: datetime | None = None
    reference: str | None = Field(
        None, description="Another id the channel gave it (e.g. an FBA shipment's)"
    )


class Settlement(BaseModel):
    channel: Channel
    settlement_id: str = Field(min_length=1)
    period_start: datetime | None = None
    period_end: datetime | None = None
    deposit_date: date | None = None
    total: Money = Field(description="What the channel deposits (or withdraws, when negative)")
    lines: list[SettlementLine]

    @property
    def workflow_id(self) -> str:
        """One workflow per settlement: an import repeated or overlapping books it once."""
        return settlement_workflow_id(self.channel, self.settlement_id)

    def lines_total(self) -> Money:
        total = Money.zero(self.total.currency)
        for line in self.lines:
            if line.amount.currency == total.currency:
                total += line.amount
        return total


class SettlementLines(BaseModel):
    """An order's lines of one settlement, as its settlement's workflow tells the order."""

    settlement_id: str
    lines: list[SettlementLine]


SETTLEMENT_SIGNAL = "settlement_received"  # the order workflow's signal taking them


def settlement_workflow_id(channel: Channel | str, settlement_id: str) -> str:
    return f"settlement:{Channel(channel).value}:{settlement_id}"


class SettlementOutcome(StrEnum):
    SETTLED = "settled"
    SHORT_PAID = "short_paid"
    OVER_PAID = "over_paid"
    UNMATCHED = "unmatched"  # a line no order of ours can take
    CURRENCY_MISMATCH = "currency_mismatch"


class OrderSettlement(BaseModel):
    """An order's settlement so far: what it was due, what its lines paid, and the verdict."""

    outcome: SettlementOutcome
    due: Money = Field(description="What we invoiced, minus what we refunded")
    settled: Money = Field(description="What the customer paid net of refunds, as settled")
    charges: Money = Field(description="Fees and commissions the channel took for it")
    difference: Money = Field(description="settled - due: negative is short-paid")
    reason: str


def order_outcome(
    due: Money, lines: list[SettlementLine], tolerance_minor_units: int = 0
) -> OrderSettlement:
    """Compare what an order was due with every settlement line seen for it (over one or more
    settlements), within `tolerance_minor_units` of its currency (cents, yen, fils). Fees and
    commissions are the channel's charges, not a short payment; tax the marketplace withheld
    to remit itself is not the customer's payment to us either."""
    currency = due.currency
    foreign = sorted({line.amount.currency for line in lines} - {currency})
    settled = charges = Money.zero(currency)
    for line in lines:
        if line.amount.currency != currency:
            continue
        if line.kind.paid_by_customer:
            settled += line.amount
        elif line.kind in (AmountKind.FEE, AmountKind.COMMISSION):
            charges += line.amount
    difference = (settled - due).rounded()
    tolerance = Decimal(tolerance_minor_units).scaleb(-minor_units(currency))
    if foreign:
        outcome = SettlementOutcome.CURRENCY_MISMATCH
        reason = f"invoiced in {currency}, settled in {', '.join(foreign)}"
    elif abs(difference.amount) <= tolerance:
        outcome, reason = SettlementOutcome.SETTLED, f"{settled} settled for {due} due"
    elif difference.amount < 0:
        outcome, reason = SettlementOutcome.SHORT_PAID, f"{-difference} short of {due} due"
    else:
        outcome, reason = SettlementOutcome.OVER_PAID, f"{difference} more than {due} due"
    return OrderSettlement(
        outcome=outcome, due=due, settled=settled, charges=charges, difference=difference,
        reason=reason,
    )  # fmt: skip


class SettlementSummary(BaseModel):
    """A settlement at a glance (`settlement show`, `settlement list`)."""

    channel: Channel
    settlement_id: str
    deposit_date: date | None
    total: Money = Field(description="The net deposit the channel reported")
    by_kind: dict[AmountKind, Money] = Field(description="The lines' sum per kind")
    lines: int
    unmatched: dict[str, str] = Field(
        default_factory=dict, description="line id -> why no order of ours takes it"
    )
    journal: str | None = Field(None, description="The ERP journal it was posted as")

    @property
    def workflow_id(self) -> str:
        return settlement_workflow_id(self.channel, self.settlement_id)
