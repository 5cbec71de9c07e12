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
        return self in GROSS or self is AmountKind.REFUND


CHARGES = (AmountKind.FEE, AmountKind.COMMISSION)  # what the channel took for its service
GROSS = (AmountKind.PRINCIPAL, AmountKind.TAX, AmountKind.SHIPPING)  # what customers paid


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

    @property
    def is_refund(self) -> bool:
        """A line paying a customer back (or the channel's charges on that refund)."""
        return self.kind is AmountKind.REFUND or self.refund_id is not None


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


class SettlementState(StrEnum):
    """Where an order's or a return's settlement stands: its `SettlementState` search
    attribute, so ops can list the runs waiting for cash, short-paid, overdue, …"""

    AWAITING = "awaiting"
    PAID = "paid"
    SHORT_PAID = "short_paid"
    OVER_PAID = "over_paid"
    CURRENCY_MISMATCH = "currency_mismatch"
    OVERDUE = "overdue"
    ACCEPTED = "accepted"  # support accepted a difference


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
    settled = customer_paid(lines, currency)
    charges = Money.zero(currency)
    for line in lines:
        if line.amount.currency == currency and line.kind in CHARGES:
            charges += line.amount
    difference = (settled - due).rounded()
    if foreign:
        outcome = SettlementOutcome.CURRENCY_MISMATCH
        reason = f"due in {currency}, settled in {', '.join(foreign)}"
    elif _within(difference, tolerance_minor_units):
        outcome, reason = SettlementOutcome.SETTLED, f"{settled} settled for {due} due"
    elif difference.amount < 0:
        outcome, reason = SettlementOutcome.SHORT_PAID, f"{-difference} short of {due} due"
    else:
        outcome, reason = SettlementOutcome.OVER_PAID, f"{difference} more than {due} due"
    return OrderSettlement(
        outcome=outcome, due=due, settled=settled, charges=charges, difference=difference,
        reason=reason,
    )  # fmt: skip


def _within(difference: Money, tolerance_minor_units: int) -> bool:
    tolerance = Decimal(tolerance_minor_units).scaleb(-minor_units(difference.currency))
    return abs(difference.amount) <= tolerance


def customer_paid(lines: list[SettlementLine], currency: str) -> Money:
    """What the lines say the customer paid us, net of refunds, in `currency`."""
    paid = Money.zero(currency)
    for line in lines:
        if line.kind.paid_by_customer and line.amount.currency == currency:
            paid += line.amount
    return paid


class RefundClaimant(BaseModel):
    """A return of an order, as the refund lines of the order's settlements are shared out:
    its refund's id on the channel when known, and what it refunded (negative) once it did."""

    workflow_id: str
    refund_id: str | None = None
    refunded: Money | None = None


def _bare(refund_id: str) -> str:
    """A refund's id however the channel writes it (`gid://shopify/Refund/7` or `7`)."""
    return refund_id.rsplit("/", 1)[-1]


def allocate_refunds(
    returns: list[RefundClaimant], lines: list[SettlementLine], tolerance_minor_units: int = 1
) -> tuple[dict[str, list[SettlementLine]], list[SettlementLine]]:
    """Which return each of an order's refund lines belongs to (workflow id -> lines), and the
    lines no return takes (the order's own: cancelled units it refunded). A line naming a
    return's refund is that return's. The others, grouped by the refund they name: the only
    return that refunded and took nothing by name takes them all; several such returns each
    take the group that refunded what they did."""
    taken: dict[str, list[SettlementLine]] = {r.workflow_id: [] for r in returns}
    named = {_bare(r.refund_id): r.workflow_id for r in returns if r.refund_id}
    rest: list[SettlementLine] = []
    for line in lines:
        owner = named.get(_bare(line.refund_id)) if line.refund_id else None
        (taken[owner] if owner else rest).append(line)
    unpaid = [r for r in returns if r.refunded is not None and not taken[r.workflow_id]]
    if len(unpaid) == 1:
        taken[unpaid[0].workflow_id] += rest
        rest = []
    elif unpaid:
        groups: dict[str, list[SettlementLine]] = {}
        for line in rest:
            groups.setdefault(line.refund_id or line.line_id, []).append(line)
        for claimant in unpaid:
            assert claimant.refunded is not None
            for key, group in groups.items():
                paid = customer_paid(group, claimant.refunded.currency)
                if _within(paid - claimant.refunded, tolerance_minor_units):
                    taken[claimant.workflow_id] = groups.pop(key)
                    break
        rest = [line for group in groups.values() for line in group]
    return {owner: mine for owner, mine in taken.items() if mine}, rest


class SettlementStatus(StrEnum):
    PENDING = "pending"  # imported; its journal not posted yet
    REFUSED = "refused"  # the ERP refused its journal: it waits for support
    POSTED = "posted"  # posted, and no line is unmatched
    UNMATCHED = "unmatched"  # posted, with lines no order or return of ours takes


class SettlementSummary(BaseModel):
    """A settlement at a glance (`settlement show`, `settlement list`)."""

    channel: Channel
    settlement_id: str
    deposit_date: date | None
    total: Money = Field(description="The net deposit the channel reported")
    by_kind: dict[AmountKind, Money] = Field(description="The lines' sum per kind")
    lines: int
    matched: int = Field(0, description="Lines given to an order or a return of ours")
    account: int = Field(0, description="Lines of the account as a whole (fees, reversals)")
    unmatched: dict[str, str] = Field(
        default_factory=dict, description="line id -> why no order of ours takes it"
    )
    journal: str | None = Field(None, description="The ERP journal it was posted as")
    refused: str | None = Field(None, description="Why the ERP refused its journal")

    @property
    def status(self) -> SettlementStatus:
        if self.journal is None:
            return SettlementStatus.REFUSED if self.refused else SettlementStatus.PENDING
        return SettlementStatus.UNMATCHED if self.unmatched else SettlementStatus.POSTED

    def total_of(self, *kinds: AmountKind) -> Money:
        """The lines' sum over these kinds (in the settlement's currency)."""
        amount = Money.zero(self.total.currency)
        for kind in kinds:
            if kind in self.by_kind and self.by_kind[kind].currency == amount.currency:
                amount += self.by_kind[kind]
        return amount

    @property
    def workflow_id(self) -> str:
        return settlement_workflow_id(self.channel, self.settlement_id)
