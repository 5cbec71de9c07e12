"""Tax engine answers, independent of the engine."""

from pydantic import BaseModel

from canonical.money import Money


class TaxLine(BaseModel):
    line_id: str
    taxable: Money
    tax: Money
    rate: str | None = None


class TaxQuote(BaseModel):
    """A stored, uncommitted tax document for the order; committed at invoice, voided on cancel."""

    document_code: str
    total_taxable: Money
    total_tax: Money
    lines: list[TaxLine] = []
    remitted_by_channel: bool = False
