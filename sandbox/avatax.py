"""AvaTax-shaped tax engine: createoradjust, commit, void and read of `SalesInvoice` documents,
with per-state US rates, non-taxable freight and address checks."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.vendor_errors import VendorError

STATE_RATES = {
    "MA": "0.0625",
    "RI": "0.07",
    "NY": "0.04",
    "CA": "0.0725",
    "TX": "0.0625",
    "WA": "0.065",
    "IL": "0.0625",
    "NJ": "0.06625",
    "PA": "0.06",
    "FL": "0.06",
    "OR": "0",
    "NH": "0",
    "DE": "0",
    "MT": "0",
}
FREIGHT = "FR020100"
CENT = Decimal("0.01")


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "code": code,
                "message": message,
                "target": "IncorrectData",
                "details": [{"code": code, "message": message, "severity": "Error"}],
            }
        },
        status_code=status,
    )


def _address_problem(address: dict[str, Any]) -> str | None:
    # Street or postal code: a marketplace may withhold the street (Amazon without an RDT).
    if not address or not address.get("country"):
        return "An address is incomplete."
    if not address.get("line1") and not address.get("postalCode"):
        return "An address needs a street or a postal code."
    if address["country"] == "US":
        if address.get("region") not in STATE_RATES:
            return f"The region '{address.get('region')}' is not a US state we can geocode."
        if not re.fullmatch(r"\d{5}(-\d{4})?", address.get("postalCode") or ""):
            return f"The postal code '{address.get('postalCode')}' is not valid."
    return None


def calculate(model: dict[str, Any], transaction_id: int) -> dict[str, Any]:
    ship_to = model["addresses"].get("shipTo") or model["addresses"].get("singleLocation") or {}
    region = ship_to.get("region", "")
    rate = Decimal(STATE_RATES.get(region, "0")) if ship_to.get("country") == "US" else Decimal(0)
    lines: list[dict[str, Any]] = []
    for line in model["lines"]:
        amount = Decimal(str(line["amount"]))
        taxable = Decimal(0) if line.get("taxCode") == FREIGHT else amount
        calculated = (taxable * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        marketplace = line.get("marketplaceLiabilityType") == "Marketplace"
        tax = Decimal(0) if marketplace else calculated
        lines.append(
            {
                "lineNumber": str(line.get("number", len(lines) + 1)),
                "itemCode": line.get("itemCode"),
                "quantity": line.get("quantity", 1),
                "lineAmount": float(amount),
                "taxableAmount": float(taxable),
                "exemptAmount": float(amount - taxable),
                "tax": float(tax),
                "taxCalculated": float(calculated),
                "marketplaceLiabilityType": line.get("marketplaceLiabilityType", "Seller"),
                "details": [
                    {
                        "rate": float(rate),
                        "tax": float(tax),
                        "region": region,
                        "taxName": f"{region} STATE TAX",
                    }
                ],
            }
        )
    total_amount = sum(Decimal(str(line["lineAmount"])) for line in lines)
    total_tax = sum(Decimal(str(line["tax"])) for line in lines)
    return {
        "id": transaction_id,
        "code": model["code"],
        "companyCode": model.get("companyCode"),
        "date": model.get("date"),
        "type": model.get("type", "SalesOrder"),
        "status": "Committed" if model.get("commit") else "Saved",
        "currencyCode": model.get("currencyCode", "USD"),
        "customerCode": model.get("customerCode"),
        "totalAmount": float(total_amount),
        "totalTaxable": float(sum(Decimal(str(x["taxableAmount"])) for x in lines)),
        "totalExempt": float(sum(Decimal(str(x["exemptAmount"])) for x in lines)),
        "totalTax": float(total_tax),
        "totalTaxCalculated": float(total_tax),
        "lines": lines,
    }


class AvaTaxState:
    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.next_id = 98234410000


def router(state: AvaTaxState) -> APIRouter:
    api = APIRouter(prefix="/avatax/api/v2")

    @api.post("/transactions/createoradjust")
    async def create_or_adjust(request: Request) -> Response:
        model = (await request.json()).get("createTransactionModel") or {}
        if not model.get("code") or not model.get("lines"):
            return error(400, "MissingRequiredField", "code and lines are required.")
        for key in ("shipFrom", "shipTo"):
            problem = _address_problem(model.get("addresses", {}).get(key, {}))
            if problem:
                return error(400, "AddressNotGeocoded", problem)
        existing = state.documents.get(model["code"])
        if existing and existing["status"] == "Committed":
            return error(400, "CannotModifyLockedTransaction", "The transaction is committed.")
        if existing:
            transaction_id = existing["id"]
        else:
            state.next_id += 1
            transaction_id = state.next_id
        state.documents[model["code"]] = calculate(model, transaction_id)
        return JSONResponse(state.documents[model["code"]], status_code=201)

    def existing(code: str) -> dict[str, Any]:
        document = state.documents.get(code)
        if document is None:
            raise VendorError(error(404, "EntityNotFoundError", "Document not found."))
        return document

    @api.get("/companies/{company}/transactions/{code}")
    async def read(company: str, code: str, request: Request) -> Response:
        document = existing(code)
        return JSONResponse(document)

    @api.post("/companies/{company}/transactions/{code}/commit")
    async def commit(company: str, code: str, request: Request) -> Response:
        document = existing(code)
        if document["status"] == "Cancelled":
            return error(400, "CannotModifyDeletedTransaction", "The transaction was voided.")
        document["status"] = "Committed"
        return JSONResponse(document)

    @api.post("/companies/{company}/transactions/{code}/void")
    async def void(company: str, code: str, request: Request) -> Response:
        document = existing(code)
        document["status"] = "Cancelled"
        return JSONResponse(document)

    return api
