"""POS batches: each sale posted to the ERP once, per store and business day."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from canonical.pos import ErpSaleRef, PosSale
from inbox.store import InboxStatus
from testing.eventually import eventually
from testing.harness import Harness, order_harness
from tests.replays import replay_latest
from workflows.pos_day import PosDayInput, PosDaySummary, PosDayWorkflow, pos_day_workflow_id
from workflows.task_queues import erp_task_queue

KEY = "pos-test-key"


def sale(
    txn: str, when: datetime, sku: str = "MUG-STONE-350", total: str = "19.13"
) -> dict[str, Any]:
    return {
        "transaction_id": txn,
        "occurred_at": when.isoformat(),
        "currency": "USD",
        "lines": [
            {"sku": sku, "quantity": 1, "unit_price": {"amount": "18.00", "currency": "USD"}}
        ],
        "tax": {"amount": "1.13", "currency": "USD"},
        "total": {"amount": total, "currency": "USD"},
    }


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with order_harness(dev_env.client, POS_API_KEY=KEY) as harness:
        yield harness


async def send(h: Harness, batch: dict[str, Any], key: str = KEY) -> httpx.Response:
    url = f"http://127.0.0.1:{h.settings.webhooks_port}/webhooks/pos"
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url, json=batch, headers={"Authorization": f"Bearer {key}"})


async def summary_when(h: Harness, workflow_id: str, posted: int, failed: int = 0) -> PosDaySummary:
    handle = h.client.get_workflow_handle(workflow_id)
    view: PosDaySummary = await eventually(
        lambda: handle.query(PosDayWorkflow.summary),
        lambda view: len(view.posted) == posted and len(view.failed) == failed,
        what=f"{workflow_id} with {posted} posted, {failed} failed",
    )
    return view


async def test_batches_post_each_sale_once_including_late_and_resent(stack: Harness) -> None:
    store = f"S{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    first = {"store_id": store, "batch_id": "b1", "sales": [sale("t1", now), sale("t2", now)]}
    response = await send(stack, first)
    assert response.status_code == 202, response.text
    today = pos_day_workflow_id(store, now.date())
    assert response.json()["workflow_id"] == today
    assert (await send(stack, first)).json()["status"] == "duplicate"

    yesterday = now - timedelta(days=1)
    late = {
        "store_id": store,
        "batch_id": "b2",
        "sales": [sale("t2", now), sale("t3", now), sale("t0", yesterday)],
    }
    assert (await send(stack, late)).status_code == 202
    view = await summary_when(stack, today, posted=3)
    assert set(view.posted) == {"t1", "t2", "t3"} and view.received == 3
    await summary_when(stack, pos_day_workflow_id(store, yesterday.date()), posted=1)

    async with httpx.AsyncClient(base_url=stack.settings.sandbox_url) as client:
        cash_sales = (await client.get("/_sandbox/netsuite/cashSales")).json()
    mine = sorted(
        s["externalId"] for s in cash_sales if s["externalId"].startswith(f"pos-{store}-")
    )
    assert mine == [f"pos-{store}-t0", f"pos-{store}-t1", f"pos-{store}-t2", f"pos-{store}-t3"]
    replayed = await replay_latest(stack, "pos", "sales")  # `inbox replay`: nothing posted twice
    assert replayed.status is InboxStatus.ACCEPTED and today in (replayed.workflow_id or "")


async def test_bad_sales_are_refused_with_reasons_and_the_rest_posted(stack: Harness) -> None:
    store = f"S{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    batch = {
        "store_id": store,
        "batch_id": "b1",
        "sales": [
            sale("ok", now),
            sale("bad-total", now, total="99.00"),
            sale("ghost", now, sku="NO-SUCH-SKU"),
        ],
    }
    response = await send(stack, batch)
    assert response.status_code == 202 and "bad-total" in response.json()["detail"]
    view = await summary_when(stack, pos_day_workflow_id(store, now.date()), posted=1, failed=1)
    assert "NO-SUCH-SKU" in view.failed["ghost"]
    assert (await send(stack, batch, key="wrong")).status_code == 401
    empty = await send(stack, {"store_id": store, "batch_id": "b2", "sales": []})
    assert empty.status_code == 422


@activity.defn(name="post_cash_sale")
async def fake_post(sale: PosSale) -> ErpSaleRef:
    return ErpSaleRef(external_id=sale.key, erp_id=f"CS-{sale.transaction_id}")


async def start_day(
    env: WorkflowEnvironment, queue: str, posting_budget: timedelta = timedelta(hours=1)
) -> tuple[WorkflowHandle, PosSale]:
    """A run for today on the server's clock (which earlier tests moved on), with one sale."""
    day = (await env.get_current_time()).date()
    first = PosSale.model_validate(
        {**sale("t1", datetime.combine(day, datetime.min.time(), UTC)), "store_id": "S01"}
    )
    handle = await env.client.start_workflow(
        PosDayWorkflow.run,
        PosDayInput(
            store_id="S01",
            business_day=day,
            late_grace=timedelta(hours=6),
            posting_budget=posting_budget,
        ),
        id=pos_day_workflow_id("S01", day) + f":{queue}",
        task_queue=queue,
        start_signal="sale_recorded",
        start_signal_args=[first],
    )
    return handle, first


async def test_day_closes_after_the_late_grace(time_env: WorkflowEnvironment) -> None:
    queue = f"pos-{uuid.uuid4()}"
    async with (
        Worker(time_env.client, task_queue=queue, workflows=[PosDayWorkflow]),
        Worker(time_env.client, task_queue=erp_task_queue(queue), activities=[fake_post]),
    ):
        handle, first = await start_day(time_env, queue)
        await handle.signal(PosDayWorkflow.sale_recorded, first)  # a resend: ignored
        before = await time_env.get_current_time()
        result = await handle.result()  # time skips to the end of the grace period
        closed_after = await time_env.get_current_time() - before
    assert result.posted == {"t1": "CS-t1"} and result.received == 1 and result.pending == 0
    assert closed_after >= timedelta(hours=6)


async def scheduled_again(handle: WorkflowHandle[Any, Any]) -> None:
    """The posting was scheduled a second time (the test server skips no time while a call
    waits in a queue: its budget runs out in real time)."""

    async def schedules() -> int:
        history = await handle.fetch_history()
        return sum(e.HasField("activity_task_scheduled_event_attributes") for e in history.events)

    await eventually(schedules, lambda n: n >= 2, what="the posting scheduled again")


async def test_a_sale_queued_behind_the_erp_past_its_budget_is_posted(
    time_env: WorkflowEnvironment,
) -> None:
    """Behind the ERP's quota (here: nobody serves its queue) for longer than the posting's
    budget, a sale waits on instead of failing."""
    queue = f"pos-{uuid.uuid4()}"
    async with Worker(time_env.client, task_queue=queue, workflows=[PosDayWorkflow]):
        handle, _ = await start_day(time_env, queue, posting_budget=timedelta(seconds=2))
        await scheduled_again(handle)  # the budget ran out in the queue (in real time)
        waiting = await handle.query(PosDayWorkflow.summary)
        assert waiting.received == 1 and not waiting.failed and not waiting.posted
        async with Worker(
            time_env.client, task_queue=erp_task_queue(queue), activities=[fake_post]
        ):
            result = await handle.result()
    assert result.posted == {"t1": "CS-t1"} and not result.failed
