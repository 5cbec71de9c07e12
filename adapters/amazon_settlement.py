"""Amazon's settlement report (`GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2`, tab-separated) read
into a canonical `Settlement`. The first data row carries the settlement's totals with every
other column empty. Real files have traps, each handled here: FBA fee rows whose `order-id`
holds an FBA shipment id, reversal rows with no `order-id`, an empty `marketplace-name`,
amounts in the marketplace's number format (`95,00`, `1.234,56`) and `posted-date` as MM/DD/YY."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from adapters.amazon import SYSTEM, SpApiClient
from adapters.errors import BusinessError
from canonical import Channel, ExceptionCode, Money
from canonical.money import minor_units
from canonical.settlement import AmountKind, Settlement, SettlementLine

ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")  # an Amazon order id; anything else is not one
REFUNDS = {"Refund", "Chargeback Refund", "A-to-z Guarantee Claim"}


class SettlementReportError(ValueError):
    """Not a settlement report we can read, with why."""


def parse_amount(text: str, currency: str) -> Decimal:
    """An amount as the marketplace writes it: `95,00` and `1.234,56` (decimal comma),
    `1,234.56` and `-12.3` (decimal point), `1,234` in yen (grouping). With both marks, the
    last is the decimal one; with one mark used once, it is the decimal mark unless three
    digits follow it in a currency without three decimals (then it groups thousands)."""
    raw = text.strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        return Decimal(0)
    marks = [m for m in ",." if m in raw]
    if len(marks) == 2:
        decimal_mark = "," if raw.rfind(",") > raw.rfind(".") else "."
    elif marks and raw.count(marks[0]) == 1:
        fraction = raw.rpartition(marks[0])[2]
        grouping = len(fraction) == 3 and minor_units(currency) != 3
        decimal_mark = "" if grouping else marks[0]
    else:
        decimal_mark = ""  # none, or one mark used again and again: thousands
    whole, _, fraction = raw.rpartition(decimal_mark) if decimal_mark else (raw, "", "")
    digits = re.sub(r"[.,]", "", whole) + ("." + fraction if decimal_mark else "")
    try:
        return Decimal(digits)
    except InvalidOperation as exc:
        raise SettlementReportError(f"{text!r} is not an amount") from exc


def parse_posted(posted_date: str, posted_date_time: str) -> datetime | None:
    """`posted-date-time` (UTC) when there, else `posted-date` as MM/DD/YY."""
    if posted_date_time.strip():
        text = posted_date_time.strip().removesuffix(" UTC").replace("T", " ")
        try:
            return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)
        except ValueError:
            pass
    if not posted_date.strip():
        return None
    try:
        return datetime.strptime(posted_date.strip(), "%m/%d/%y").replace(tzinfo=UTC)
    except ValueError as exc:
        raise SettlementReportError(f"posted-date {posted_date!r} is not MM/DD/YY") from exc


def _date(text: str) -> datetime | None:
    """The header's dates: `2026-03-01 00:00:00 UTC`, ISO 8601, or `01.03.2026` (EU files)."""
    value = text.strip().removesuffix(" UTC")
    if not value:
        return None
    for parse in (
        lambda v: datetime.fromisoformat(v.replace("T", " ")[:19]),
        lambda v: datetime.strptime(v[:10], "%d.%m.%Y"),
        lambda v: datetime.strptime(v[:8], "%m/%d/%y"),
    ):
        try:
            return parse(value).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise SettlementReportError(f"{text!r} is not a date")


def amount_kind(transaction_type: str, amount_type: str, description: str) -> AmountKind:
    """The canonical kind of one row, from Amazon's transaction type, amount type and
    description."""
    refund = transaction_type in REFUNDS
    if amount_type == "ItemWithheldTax" or description.startswith("MarketplaceFacilitator"):
        return AmountKind.WITHHELD_TAX
    if amount_type in ("ItemPrice", "Promotion"):
        if refund:
            return AmountKind.REFUND
        if "Tax" in description:
            return AmountKind.TAX
        if description.startswith("Shipping"):
            return AmountKind.SHIPPING
        return AmountKind.PRINCIPAL
    if amount_type == "ItemFees":
        return AmountKind.COMMISSION if "Commission" in description else AmountKind.FEE
    if "Reserve" in description:
        return AmountKind.RESERVE
    if any(word in description for word in ("Fee", "Subscription", "Storage", "Inbound")):
        return AmountKind.FEE
    return AmountKind.ADJUSTMENT


def settlement_from_report(text: str) -> Settlement:
    """The report's rows as one settlement; its lines' ids are `{settlement}:{row}`, the same
    however often the report is read."""
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter="\t"))
    if not rows or "settlement-id" not in rows[0] or "amount-type" not in rows[0]:
        raise SettlementReportError("not a V2 settlement flat file: no settlement-id column")
    head = rows[0]
    settlement_id, currency = head["settlement-id"].strip(), head.get("currency", "").strip()
    if not settlement_id or not re.fullmatch(r"[A-Z]{3}", currency):
        raise SettlementReportError("the first row names no settlement id and currency")
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        if not (row.get("amount-type") or row.get("amount") or "").strip():
            continue  # a totals row repeated, or a blank one
        order_id = (row.get("order-id") or "").strip()
        kind = amount_kind(
            (row.get("transaction-type") or "").strip(),
            (row.get("amount-type") or "").strip(),
            (row.get("amount-description") or "").strip(),
        )
        lines.append(
            SettlementLine(
                line_id=f"{settlement_id}:{number}",
                kind=kind,
                amount=Money(
                    amount=parse_amount(row.get("amount") or "", currency), currency=currency
                ),
                # An FBA fee row may carry an inbound shipment's id there: not an order.
                order_id=order_id if ORDER_ID.match(order_id) else None,
                refund_id=(row.get("adjustment-id") or "").strip() or None,
                description=(row.get("amount-description") or "").strip(),
                sku=(row.get("sku") or "").strip() or None,
                posted_at=parse_posted(
                    row.get("posted-date") or "", row.get("posted-date-time") or ""
                ),
                reference=order_id if order_id and not ORDER_ID.match(order_id) else None,
            )
        )
    deposit = _date(head.get("deposit-date") or "")
    return Settlement(
        channel=Channel.AMAZON,
        settlement_id=settlement_id,
        period_start=_date(head.get("settlement-start-date") or ""),
        period_end=_date(head.get("settlement-end-date") or ""),
        deposit_date=deposit.date() if deposit else None,
        total=Money(
            amount=parse_amount(head.get("total-amount") or "", currency), currency=currency
        ),
        lines=lines,
    )


class AmazonSettlements:
    """Amazon's settlement reports, found with getReports and read as settlements."""

    def __init__(self, sp_api: SpApiClient) -> None:
        self._sp_api = sp_api

    async def settlements(self, since: datetime) -> list[Settlement]:
        texts = await self._sp_api.settlement_reports(since)
        try:
            return [settlement_from_report(text) for text in texts]
        except SettlementReportError as exc:
            raise BusinessError(SYSTEM, ExceptionCode.CHANNEL_REJECTED, str(exc)) from exc
