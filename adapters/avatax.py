"""Tax port over AvaTax REST v2.

The quote is a stored, uncommitted `SalesInvoice` whose document code is the order key, made
with `createoradjust` so retries adjust instead of duplicating; commit on invoice, void on
cancel; returned units are a committed `ReturnInvoice` of their own code."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import httpx
from pydantic import Field

from adapters.config import PartnerSettings
from adapters.errors import BusinessError, TransientError
from adapters.http import PartnerHttp
from canonical import Address, ExceptionCode, Money, Order, TaxLine, TaxQuote
from canonical.returns import TaxRefund


class AvaTaxSettings(PartnerSettings):
    """AvaTax REST v2: AVATAX_*."""

    secret_fields: ClassVar[tuple[str, ...]] = ("license_key",)
    sandbox_path: ClassVar[str] = "/avatax"
    configured_url: str | None = Field(None, validation_alias="AVATAX_BASE_URL")
    account_id: str = Field("1100000000", validation_alias="AVATAX_ACCOUNT_ID")
    license_key: str = Field("sandbox-license", validation_alias="AVATAX_LICENSE_KEY")
    company_code: str = Field("NORTHWICK", validation_alias="AVATAX_COMPANY_CODE")
    ship_from: str = Field("75 Grove St|Worcester|MA|01605|US", validation_alias="AVATAX_SHIP_FROM")


SYSTEM = "avatax"
ADDRESS_ERRORS = {
    "AddressRangeError",
    "AddressNotGeocoded",
    "AddressUnknownStreet",
    "InvalidAddress",
    "InvalidPostalCode",
    "InvalidZipForStateError",
    "MissingAddress",
}
SHIPPING_ITEM = "SHIPPING"


def avatax_address(address: Address) -> dict[str, Any]:
    fields = {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "region": address.region,
        "country": address.country,
        "postalCode": address.postal_code,
    }
    return {k: v for k, v in fields.items() if v}


def parse_ship_from(spec: str) -> Address:
    """`line1|city|region|postal|country`, the form `AVATAX_SHIP_FROM` takes."""
    line1, city, region, postal, country = (part.strip() for part in spec.split("|"))
    return Address(line1=line1, city=city, region=region, postal_code=postal, country=country)


def transaction_model(order: Order, company_code: str, ship_from: Address) -> dict[str, Any]:
    if order.ship_to is None:
        raise BusinessError(SYSTEM, ExceptionCode.ADDRESS_REJECTED, "order has no ship-to address")
    # Marketplace facilitator sales are recorded, but the marketplace remits their tax.
    liability = (
        {"marketplaceLiabilityType": "Marketplace"} if order.tax_collected_by_channel else {}
    )
    lines: list[dict[str, Any]] = [
        {
            "number": line.line_id,
            "quantity": line.quantity,
            "amount": str(line.net.rounded().amount),
            "itemCode": line.sku,
            "taxCode": "P0000000",
            "description": line.title,
            "ref1": line.line_id,
            **liability,
        }
        for line in order.lines
    ]
    if not order.shipping.is_zero():
        lines.append(
            {
                "number": SHIPPING_ITEM,
                "quantity": 1,
                "amount": str(order.shipping.rounded().amount),
                "itemCode": SHIPPING_ITEM,
                "taxCode": "FR020100",
                "description": "Shipping",
            }
        )
    return {
        "type": "SalesInvoice",
        "code": order.key,
        "companyCode": company_code,
        "date": order.placed_at.date().isoformat(),
        "customerCode": order.customer.external_id or order.customer.email or order.key,
        "purchaseOrderNo": order.order_number,
        "currencyCode": order.currency,
        "commit": False,
        "description": f"{order.channel.value} order {order.order_number}",
        "addresses": {
            "shipFrom": avatax_address(ship_from),
            "shipTo": avatax_address(order.ship_to),
        },
        "lines": lines,
    }


def tax_quote(transaction: dict[str, Any], currency: str) -> TaxQuote:
    def money(value: Any) -> Money:
        return Money(amount=Decimal(str(value or 0)), currency=currency)

    return TaxQuote(
        document_code=transaction["code"],
        remitted_by_channel=any(
            line.get("marketplaceLiabilityType") == "Marketplace"
            for line in transaction.get("lines", [])
        ),
        total_taxable=money(transaction.get("totalTaxable")),
        total_tax=money(transaction.get("totalTax")),
        lines=[
            TaxLine(
                line_id=str(line["lineNumber"]),
                taxable=money(line.get("taxableAmount")),
                tax=money(line.get("tax")),
                rate=str((line.get("details") or [{}])[0].get("rate", "")) or None,
            )
            for line in transaction.get("lines", [])
            if line.get("lineNumber") != SHIPPING_ITEM
        ],
    )


def _error(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return "", response.text[:200]
    return error.get("code", ""), error.get("message", "")


class AvaTax:
    def __init__(
        self,
        base_url: str,
        account_id: str,
        license_key: str,
        *,
        company_code: str,
        ship_from: Address,
    ) -> None:
        self._http = PartnerHttp(
            SYSTEM,
            base_url,
            auth=(account_id, license_key),
            headers={"X-Avalara-Client": "retail-orchestrator; 0.1.0; Python; 2; worker"},
        )
        self._company = company_code
        self._ship_from = ship_from

    def _raise_for_error(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        code, message = _error(response)
        if response.status_code in (401, 403):
            raise TransientError(SYSTEM, f"{response.status_code} {code}: {message}")
        kind = (
            ExceptionCode.ADDRESS_REJECTED if code in ADDRESS_ERRORS else ExceptionCode.TAX_REJECTED
        )
        raise BusinessError(SYSTEM, kind, f"{code}: {message}")

    async def quote(self, order: Order) -> TaxQuote:
        model = transaction_model(order, self._company, self._ship_from)
        response = await self._http.request(
            "POST",
            "/api/v2/transactions/createoradjust",
            params={"$include": "Lines"},
            json={"adjustmentReason": "Other", "createTransactionModel": model},
        )
        self._raise_for_error(response)
        return tax_quote(response.json(), order.currency)

    def _path(self, code: str, action: str) -> str:
        return f"/api/v2/companies/{self._company}/transactions/{code}/{action}"

    async def commit(self, document_code: str) -> None:
        response = await self._http.request(
            "POST",
            self._path(document_code, "commit"),
            params={"documentType": "SalesInvoice"},
            json={"commit": True},
        )
        self._raise_for_error(response)

    async def void(self, document_code: str) -> None:
        response = await self._http.request(
            "POST",
            self._path(document_code, "void"),
            params={"documentType": "SalesInvoice"},
            json={"code": "DocVoided"},
        )
        if response.status_code == 404:
            return
        self._raise_for_error(response)

    async def refund(self, refund: TaxRefund) -> None:
        """A committed `ReturnInvoice` for the returned share of each line, dated like the
        sale (`taxOverride` TaxDate). `createoradjust` on the refund code keeps a retry single;
        once committed, a retry is refused as locked and the document is read back."""
        order = refund.order
        model = transaction_model(order.keeping(refund.lines), self._company, self._ship_from)
        for line in model["lines"]:
            line["amount"] = str(-Decimal(line["amount"]))
        model["lines"] = [line for line in model["lines"] if line["number"] in refund.lines]
        model |= {
            "type": "ReturnInvoice",
            "code": refund.refund_code,
            "date": refund.refund_date.isoformat(),
            "commit": True,
            "referenceCode": refund.document_code,
            "taxOverride": {
                "type": "TaxDate",
                "taxDate": order.placed_at.date().isoformat(),
                "reason": "Return",
            },
            "description": f"return on {order.channel.value} order {order.order_number}",
        }
        response = await self._http.request(
            "POST",
            "/api/v2/transactions/createoradjust",
            json={"adjustmentReason": "Other", "createTransactionModel": model},
        )
        if response.status_code == 400 and _error(response)[0] == "CannotModifyLockedTransaction":
            return  # committed by an earlier attempt
        self._raise_for_error(response)

    async def aclose(self) -> None:
        await self._http.aclose()
