"""`POST /webhooks/pos`: a store's sales, in a batch (a store offline for hours sends them
late). Authenticated with the store API key; each valid sale is signalled, with start, to its
store's business-day workflow, which posts it to the ERP once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from canonical.pos import PosSale
from inbox.store import InboxEntry, InboxStatus
from infra.settings import Settings
from webhooks.dispatcher import Dispatcher, keyed
from webhooks.outcome import Outcome, rejected, temporal_call
from webhooks.temporal_link import TemporalLink
from webhooks.token import token_valid
from workflows.pos_day import PosDayInput, PosDayWorkflow, pos_day_workflow_id

SOURCE = "pos"


class PosBatch(BaseModel):
    store_id: str = Field(min_length=1)
    batch_id: str = Field(min_length=1)
    sales: list[dict[str, Any]] = Field(min_length=1)


class PosSales:
    def __init__(self, temporal: TemporalLink, settings: Settings) -> None:
        self._temporal = temporal
        self._settings = settings

    async def handle(self, entry: InboxEntry) -> Outcome:
        try:
            batch = PosBatch.model_validate_json(entry.body)
        except ValidationError as exc:
            return rejected(
                422, f"not a POS batch: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}"
            )
        sales, problems = [], []
        for raw in batch.sales:
            try:
                sales.append(PosSale.model_validate({**raw, "store_id": batch.store_id}))
            except ValidationError as exc:
                problems.append(f"{raw.get('transaction_id', '?')}: {exc.errors()[0]['msg']}")
        if not sales:
            return rejected(422, "; ".join(problems))
        client = await self._temporal.client()
        days = set()
        for sale in sales:
            workflow_id = pos_day_workflow_id(sale.store_id, sale.business_day)
            with temporal_call():
                await client.start_workflow(
                    PosDayWorkflow.run,
                    PosDayInput(store_id=sale.store_id, business_day=sale.business_day),
                    id=workflow_id,
                    task_queue=self._settings.task_queue,
                    start_signal="sale_recorded",
                    start_signal_args=[sale],
                )
            days.add(workflow_id)
        detail = f"{len(sales)} sale(s)" + (f"; rejected {'; '.join(problems)}" if problems else "")
        return Outcome(InboxStatus.ACCEPTED, 202, ", ".join(sorted(days)), detail)


def router(dispatcher: Dispatcher, api_key: str) -> APIRouter:
    api = APIRouter(tags=["pos"])

    @api.post("/webhooks/pos", status_code=202)
    async def pos_sales(request: Request) -> JSONResponse:
        """A batch of store sales: `{"store_id", "batch_id", "sales": [...]}`,
        `Authorization: Bearer <POS_API_KEY>`."""
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not token_valid(given, api_key):
            return JSONResponse({"detail": "bad or missing API key"}, status_code=401)
        raw = await request.body()
        _, key = keyed(raw, lambda body: ("sales", f"{body['store_id']}:{body['batch_id']}"))
        return await dispatcher.receive(SOURCE, "sales", key, {}, raw)

    return api
