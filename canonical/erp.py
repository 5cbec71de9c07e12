"""References the ERP hands back; the ERP stays the system of record."""

from pydantic import BaseModel


class ItemRef(BaseModel):
    """A channel SKU resolved to the ERP item."""

    sku: str
    erp_item_id: str


class ErpOrderRef(BaseModel):
    external_id: str
    erp_id: str
    number: str | None = None
    status: str | None = None


class ErpInvoiceRef(BaseModel):
    erp_id: str
    order_erp_id: str
