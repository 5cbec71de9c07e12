"""Tax activities: quote (stored, uncommitted), commit at invoice, void on cancel, refund on
return."""

from temporalio import activity

from activities.errors import partner_call
from adapters.ports import TaxPort
from canonical import Order, TaxQuote
from canonical.returns import TaxRefund


class TaxActivities:
    def __init__(self, tax: TaxPort) -> None:
        self._tax = tax

    @activity.defn
    async def quote_tax(self, order: Order) -> TaxQuote:
        with partner_call():
            return await self._tax.quote(order)

    @activity.defn
    async def commit_tax(self, document_code: str) -> None:
        with partner_call():
            await self._tax.commit(document_code)

    @activity.defn
    async def void_tax(self, document_code: str) -> None:
        with partner_call():
            await self._tax.void(document_code)

    @activity.defn
    async def refund_tax(self, refund: TaxRefund) -> None:
        with partner_call():
            await self._tax.refund(refund)
