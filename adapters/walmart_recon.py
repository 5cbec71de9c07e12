"""Walmart's reconciliation report v1 (`GET /v3/report/reconreport/reconFileJson?reportDate=…`)
read into a canonical `Settlement`: one settlement per report date. Each row names its
period, the period's total payable and currency, then one amount of one transaction, with
the purchase order it belongs to (our Walmart order's id) when it belongs to one."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.errors import BusinessError
from adapters.walmart import SYSTEM, WalmartClient
from canonical import Channel, ExceptionCode, Money
from canonical.settlement import AmountKind, Settlement, SettlementLine

REFUNDS = {"REFUND", "RETURN"}


class ReconReportError(ValueError):
    """Not a reconciliation report we can read, with why."""


def _rows(report: Any) -> list[dict[str, Any]]:
    """The rows, whether the report is a bare list or wraps them (`reconData`, `rows`)."""
    if isinstance(report, list):
        return report
    if isinstance(report, dict):
        for key in ("reconData", "rows", "items"):
            if isinstance(report.get(key), list):
                rows: list[dict[str, Any]] = report[key]
                return rows
    raise ReconReportError("no rows: not a reconciliation report")


def _decimal(value: Any, column: str) -> Decimal:
    try:
        return Decimal(str(value).replace(",", "").strip() or "0")
    except InvalidOperation as exc:
        raise ReconReportError(f"{column} {value!r} is not an amount") from exc


def _when(value: Any) -> datetime | None:
    """`03/15/2026`, `2026-03-15` or `2026-03-15T10:11:12Z`."""
    text = str(value or "").strip()
    if not text:
        return None
    for parse in (
        lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")),
        lambda t: datetime.strptime(t, "%m/%d/%Y"),
    ):
        try:
            moment = parse(text)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise ReconReportError(f"{text!r} is not a date")


def amount_kind(transaction_type: str, amount_type: str) -> AmountKind:
    kind = amount_type.lower()
    if "withheld" in kind:
        return AmountKind.WITHHELD_TAX
    if "commission" in kind:
        return AmountKind.COMMISSION
    if "reserve" in kind or "reserve" in transaction_type.lower():
        return AmountKind.RESERVE
    if kind.startswith(("product", "shipping")):
        if transaction_type.upper() in REFUNDS:
            return AmountKind.REFUND
        if "tax" in kind:
            return AmountKind.TAX
        return AmountKind.SHIPPING if kind.startswith("shipping") else AmountKind.PRINCIPAL
    if "fee" in kind:
        return AmountKind.FEE
    return AmountKind.ADJUSTMENT


def settlement_from_recon(report_date: str, report: Any) -> Settlement:
    """The report of `report_date` (YYYYMMDD, as `availableReconFiles` lists it)."""
    rows = _rows(report)
    if not rows:
        raise ReconReportError(f"the report of {report_date} has no rows")
    head = rows[0]
    currency = str(head.get("Currency") or "").strip()
    if len(currency) != 3:
        raise ReconReportError(f"the report of {report_date} names no currency")
    lines = []
    for number, row in enumerate(rows, start=1):
        if not str(row.get("Amount Type") or "").strip():
            continue  # a period summary row
        purchase_order = str(row.get("Purchase Order #") or "").strip()
        transaction_type = str(row.get("Transaction Type") or "")
        key = str(row.get("Transaction Key") or "").strip() or None
        refund = transaction_type.upper() in REFUNDS
        lines.append(
            SettlementLine(
                line_id=f"{report_date}:{number}",
                kind=amount_kind(transaction_type, str(row["Amount Type"])),
                amount=Money(amount=_decimal(row.get("Amount"), "Amount"), currency=currency),
                order_id=purchase_order or None,
                refund_id=key if refund else None,
                description=str(row.get("Transaction Description") or row["Amount Type"]),
                sku=str(row.get("Partner Item Id") or "").strip() or None,
                posted_at=_when(row.get("Transaction Posted Timestamp")),
                reference=key,
            )
        )
    start, end = _when(head.get("Period Start Date")), _when(head.get("Period End Date"))
    return Settlement(
        channel=Channel.WALMART,
        settlement_id=report_date,
        period_start=start,
        period_end=end,
        deposit_date=end.date() if end else None,
        total=Money(amount=_decimal(head.get("Total Payable"), "Total Payable"), currency=currency),
        lines=lines,
    )


def settlement_from_recon_file(text: str) -> Settlement:
    """A `reconFileJson` answer support saved by hand (it names its `reportDate`)."""
    try:
        report = json.loads(text)
    except ValueError as exc:
        raise ReconReportError(f"not JSON: {exc}") from None
    report_date = str(report.get("reportDate") or "") if isinstance(report, dict) else ""
    if not re.fullmatch(r"\d{8}", report_date):
        raise ReconReportError("no reportDate (YYYYMMDD): not a reconFileJson answer")
    return settlement_from_recon(report_date, report)


class WalmartRecon:
    """Walmart's reconciliation reports made since a date, as settlements."""

    def __init__(self, walmart: WalmartClient) -> None:
        self._walmart = walmart

    async def settlements(self, since: datetime) -> list[Settlement]:
        first = since.strftime("%Y%m%d")
        found = []
        for report_date in sorted(await self._walmart.recon_report_dates()):
            if report_date < first:
                continue
            report = await self._walmart.recon_report(report_date)
            try:
                found.append(settlement_from_recon(report_date, report))
            except ReconReportError as exc:
                raise BusinessError(SYSTEM, ExceptionCode.CHANNEL_REJECTED, str(exc)) from exc
        return found
