"""Settlements on the dev server with the real worker: the sandbox closes a settlement
period over the orders it shipped, an import finds the report with getReports, keeps it and
starts its workflow once, however often imports repeat or overlap; the lines of an order we
never had are kept as unmatched, with why. Shopify payouts and Walmart reports likewise;
orders complete once paid, and a return's refund goes to the return."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

import starter
from adapters.shopify import order_from_webhook
from canonical import Channel, ExceptionCode, Money, OrderStatus, OrderView, ReturnView
from canonical.settlement import (
    AmountKind,
    SettlementLine,
    SettlementLines,
    SettlementSummary,
    settlement_workflow_id,
)
from sandbox.shipstation import AutoShip
from services.orders import result_once_started, start_order
from settlements.store import SettlementStore
from testing.eventually import eventually, reaches
from testing.harness import Harness, order_harness
from tests.signing import deliver_amazon, deliver_shopify
from tests.support_cli import cli_env
from workflows.order_to_cash import OrderToCashWorkflow
from workflows.settlement import SettlementWorkflow
from workflows.settlement_import import SettlementImportWorkflow
from workflows.walmart_poll import WalmartOrderPollWorkflow

SKU = "CANDLE-CEDAR-8OZ"


async def amazon_order_notified(h: Harness) -> str:
    """An Amazon order notified to the webhooks service (the sandbox warehouse ships it at
    once); its Amazon order id."""
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url, timeout=30) as http:
        sold = await http.post("/_sandbox/amazon/orders", json={"skus": [[SKU, 1]]})
    notification = sold.json()
    (await deliver_amazon(h.settings, notification)).raise_for_status()
    amazon_id: str = notification["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
    return amazon_id


async def amazon_order_shipped(h: Harness) -> str:
    """An Amazon order notified and run to its end; its Amazon order id."""
    amazon_id = await amazon_order_notified(h)
    view = await result_once_started(h.client, f"order:amazon:{amazon_id}")
    assert view.status is OrderStatus.COMPLETED, view.timeline
    return amazon_id


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`starter.py ARGV`: its exit code, stdout and stderr."""
    code = await asyncio.to_thread(starter.main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def run_import(h: Harness, channel: Channel = Channel.AMAZON) -> list[str]:
    """One import of the channel's settlements, as its schedule runs it: the ids started."""
    return await h.client.execute_workflow(
        SettlementImportWorkflow.run,
        channel,
        id=f"settlement-import-{channel.value}-{uuid.uuid4().hex[:8]}",
        task_queue=h.settings.task_queue,
    )


async def test_an_amazon_settlement_is_imported_once_and_matched(shipping_stack: Harness) -> None:
    h = shipping_stack
    ours = await amazon_order_shipped(h)
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
        # An order Amazon settles that never reached us (sold before we went live).
        stranger = (
            await http.post(
                "/_sandbox/amazon/orders", json={"skus": [[SKU, 1]], "status": "Shipped"}
            )
        ).json()
        closed = (
            await http.post("/_sandbox/amazon/settlements", json={"decimal_comma": True})
        ).json()
    stranger_id = stranger["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
    assert set(closed["orders"]) >= {ours, stranger_id}

    # Two imports at once, then one more: the settlement gets one workflow.
    first, second = await asyncio.gather(run_import(h), run_import(h))
    workflow_id = settlement_workflow_id(Channel.AMAZON, closed["settlement_id"])
    assert sorted(first + second) == [workflow_id]
    assert await run_import(h) == []
    handle = h.client.get_workflow_handle(workflow_id, result_type=SettlementSummary)
    summary = await handle.result()

    settlement = SettlementStore.open(h.settings.database_url).get(
        Channel.AMAZON, closed["settlement_id"]
    )
    assert settlement is not None and summary.lines == len(settlement.lines)
    assert settlement.lines_total() == summary.total  # read from the EU number format exactly
    stranger_lines = {line.line_id for line in settlement.lines if line.order_id == stranger_id}
    assert set(summary.unmatched) == stranger_lines and stranger_lines
    assert all("no order workflow order:amazon:" in why for why in summary.unmatched.values())
    for kind in (AmountKind.PRINCIPAL, AmountKind.WITHHELD_TAX, AmountKind.COMMISSION,
                 AmountKind.FEE, AmountKind.ADJUSTMENT):  # fmt: skip
        assert kind in summary.by_kind, kind
    fba = [line for line in settlement.lines if line.reference == "FBA15GX8K2LM"]
    assert [(line.kind, line.order_id) for line in fba] == [(AmountKind.FEE, None)]
    # One journal in the ERP, balanced, its deposit at the bank, however often imported.
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
        journals = (await http.get("/_sandbox/netsuite/journalEntries")).json()
    (journal,) = [
        j for j in journals if j["externalId"] == f"settlement-amazon-{closed['settlement_id']}"
    ]
    assert summary.journal == journal["id"]
    items = journal["line"]["items"]
    assert sum(i.get("debit", 0) for i in items) == pytest.approx(
        sum(i.get("credit", 0) for i in items)
    )
    (bank,) = [i for i in items if i["memo"] == "net deposit"]
    assert bank["account"]["id"] == "1" and bank["debit"] == float(summary.total.amount)
    assert journal["currency"] == {"id": "1"}  # the account's USD record


@pytest.fixture
async def settled(
    shipping_stack: Harness, monkeypatch: pytest.MonkeyPatch
) -> tuple[Harness, dict[str, Any]]:
    """The stack with the support CLI pointed at it, and a settlement Amazon closed over an
    order of ours it shipped."""
    cli_env(monkeypatch, shipping_stack.settings)
    await amazon_order_shipped(shipping_stack)
    async with httpx.AsyncClient(base_url=shipping_stack.settings.sandbox_url) as http:
        closed: dict[str, Any] = (await http.post("/_sandbox/amazon/settlements", json={})).json()
    return shipping_stack, closed


async def test_support_imports_shows_and_lists_settlements(
    settled: tuple[Harness, dict[str, Any]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    h, closed = settled
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
        by_hand = (await http.post("/_sandbox/amazon/settlements", json={})).json()
        text = (await http.get(f"/_sandbox/amazon/documents/{by_hand['document_id']}")).text

    # Support downloaded one report by hand: imported once, its workflow started once.
    report = tmp_path / "settlement.txt"
    report.write_text(text)
    by_hand_id = settlement_workflow_id(Channel.AMAZON, by_hand["settlement_id"])
    code, out, _ = await cli(capsys, "settlement", "import", "amazon", "--file", str(report))
    assert (code, out.split("\n")[0]) == (
        0,
        f"imported → {by_hand_id} ({text.count(chr(10)) - 2} lines)",
    )
    code, out, _ = await cli(capsys, "settlement", "import", "amazon", "--file", str(report))
    assert code == 0 and out.startswith(f"imported before → {by_hand_id}")
    await h.client.get_workflow_handle(by_hand_id).result()
    # The schedule's import, now: only the one not imported yet.
    code, out, _ = await cli(capsys, "settlement", "import", "amazon", "--now")
    workflow_id = settlement_workflow_id(Channel.AMAZON, closed["settlement_id"])
    assert (code, out.strip()) == (0, f"imported → {workflow_id}")
    await h.client.get_workflow_handle(workflow_id).result()
    code, out, _ = await cli(capsys, "settlement", "show", workflow_id, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["settlement_id"] == closed["settlement_id"]
    assert shown["total"]["currency"] == "USD" and shown["unmatched"] == {}
    code, out, _ = await cli(capsys, "settlement", "list", "--channel", "amazon", "--json")
    assert code == 0 and {by_hand_id, workflow_id} <= {
        f"settlement:amazon:{s['settlement_id']}" for s in json.loads(out)
    }
    code, out, _ = await cli(capsys, "settlement", "show", workflow_id)
    summary = SettlementStore.open(h.settings.database_url).summary(
        Channel.AMAZON, closed["settlement_id"]
    )
    assert summary is not None and summary.journal
    assert code == 0 and "net deposit" in out and f"ERP journal: {summary.journal}" in out
    # What cannot be: one sentence, exit 1.
    code, out, err = await cli(capsys, "settlement", "show", "settlement:amazon:404")
    assert (code, out, err.strip()) == (1, "", "No settlement 404 of amazon was imported.")
    report.write_text("order-id\tamount\n1\t2\n")
    code, _, err = await cli(capsys, "settlement", "import", "amazon", "--file", str(report))
    assert code == 1 and "is not a amazon settlement report: not a V2 settlement flat file" in err
    code, _, err = await cli(capsys, "settlement", "import", "shopify", "--file", str(report))
    assert (code, err.strip()) == (1, "shopify has no downloadable settlement report to import")
    code, _, err = await cli(capsys, "settlement", "import", "pos", "--now")
    assert (code, err.strip()) == (1, "pos has no payouts to import")


async def test_a_journal_the_erp_refuses_waits_for_support(
    settled: tuple[Harness, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    h, closed = settled
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
        refuse = {"reject_next": 1, "match": "journalEntry"}  # e.g. a period closed in the ERP
        (await http.put("/_sandbox/faults/netsuite", json=refuse)).raise_for_status()
    (workflow_id,) = await run_import(h)
    handle = h.client.get_workflow_handle(workflow_id, result_type=SettlementSummary)
    progress = await eventually(
        lambda: handle.query(SettlementWorkflow.progress), lambda p: p.problem, what="refused"
    )
    assert progress.journal is None and "INVALID_CONTENT" in (progress.problem or "")

    code, out, _ = await cli(capsys, "settlement", "show", workflow_id)
    assert code == 0 and "ERP journal: waiting for support:" in out.replace("\n", " ")
    code, out, _ = await cli(
        capsys, "settlement", "retry", workflow_id, "--note", "period reopened"
    )
    assert (code, out.strip()) == (0, f"{workflow_id}: posting again")
    summary = await handle.result()
    assert summary.journal
    code, _, err = await cli(capsys, "settlement", "retry", workflow_id)
    assert code == 1 and err.strip() == f"{workflow_id} is not running: nothing to retry"
    assert closed["settlement_id"] in workflow_id


async def test_a_shopify_payments_payout_is_imported_and_posted(shipping_stack: Harness) -> None:
    """A payout of an order's charge (less Shopify's fee), read through the GraphQL Admin API,
    posted with the fee on Shopify's own account, the order matched."""
    h = shipping_stack
    async with httpx.AsyncClient(timeout=30) as http:
        body = (
            await http.post(f"{h.settings.sandbox_url}/_sandbox/shopify/orders", json={"count": 1})
        ).json()[0]
        answer = await deliver_shopify(h.settings, body, "orders/create")
        view = await result_once_started(h.client, answer.json()["workflow_id"])
        assert view.status is OrderStatus.COMPLETED, view.timeline
        paid = (await http.post(f"{h.settings.sandbox_url}/_sandbox/shopify/payouts")).json()
    started = await run_import(h, Channel.SHOPIFY)
    payout_id = paid["payout"]["id"].rsplit("/", 1)[1]
    assert started == [settlement_workflow_id(Channel.SHOPIFY, payout_id)]
    handle = h.client.get_workflow_handle(started[0], result_type=SettlementSummary)
    summary = await handle.result()
    assert summary.unmatched == {} and summary.journal
    principal = summary.by_kind[AmountKind.PRINCIPAL]
    assert str(principal.amount) == body["total_price"] and principal.currency == body["currency"]
    assert summary.by_kind[AmountKind.FEE].amount < 0
    assert summary.total.amount == principal.amount + summary.by_kind[AmountKind.FEE].amount
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
        journals = (await http.get("/_sandbox/netsuite/journalEntries")).json()
    (journal,) = [j for j in journals if j["externalId"] == f"settlement-shopify-{payout_id}"]
    fee_lines = [i for i in journal["line"]["items"] if i["memo"] == "fee"]
    assert [i["account"]["id"] for i in fee_lines] == ["613"]  # payment processing fees


async def test_a_walmart_reconciliation_report_is_imported_and_posted(
    shipping_stack: Harness,
) -> None:
    """A Walmart PO shipped, Walmart's reconciliation report of the day read through
    availableReconFiles and reconFileJson, the PO's lines matched, the journal posted."""
    h = shipping_stack
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url, timeout=30) as http:
        po = (await http.post("/_sandbox/walmart/orders", json={"skus": [[SKU, 1]]})).json()
        await h.client.execute_workflow(
            WalmartOrderPollWorkflow.run,
            id=f"walmart-order-poll-{uuid.uuid4().hex[:8]}",
            task_queue=h.settings.task_queue,
        )
        view = await result_once_started(h.client, f"order:walmart:{po['purchaseOrderId']}")
        assert view.status is OrderStatus.COMPLETED, view.timeline
        closed = (await http.post("/_sandbox/walmart/recon")).json()
    started = await run_import(h, Channel.WALMART)
    assert started == [settlement_workflow_id(Channel.WALMART, closed["report_date"])]
    handle = h.client.get_workflow_handle(started[0], result_type=SettlementSummary)
    summary = await handle.result()
    assert summary.unmatched == {} and summary.journal
    assert str(summary.total.amount) == closed["total_payable"]
    assert (
        summary.by_kind[AmountKind.COMMISSION].amount
        < 0
        < summary.by_kind[AmountKind.PRINCIPAL].amount
    )


async def test_an_amazon_order_completes_when_amazon_paid_it(
    dev_env: WorkflowEnvironment,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SETTLEMENT_CHANNELS=amazon: the invoiced order waits for its settlement, and the
    settlement's workflow tells it its lines; paid, it completes. Short-paid, support accepts
    the difference."""
    async with order_harness(
        dev_env.client, autoship=AutoShip(after_seconds=0.2), SETTLEMENT_CHANNELS="amazon"
    ) as h:
        cli_env(monkeypatch, h.settings)
        amazon_id = await amazon_order_notified(h)
        handle = h.client.get_workflow_handle(f"order:amazon:{amazon_id}", result_type=OrderView)
        await reaches(handle, OrderToCashWorkflow.status, OrderStatus.AWAITING_SETTLEMENT)
        async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
            (await http.post("/_sandbox/amazon/settlements", json={})).raise_for_status()
        await run_import(h)
        result = await asyncio.wait_for(handle.result(), 60)
        assert result.status is OrderStatus.COMPLETED and result.exception is None
        assert result.timeline[-1].note.startswith("paid: ")
        code, out, _ = await cli(capsys, "settlement", "show", handle.id, "--json")
        shown = json.loads(out)
        assert code == 0 and shown["settlement"]["outcome"] == "settled"
        assert result.settlement_due is not None
        assert (
            shown["due"]
            == shown["settlement"]["settled"]
            == result.settlement_due.model_dump(mode="json")
        )
        assert {line["kind"] for line in shown["lines"]} >= {"principal", "commission"}
        code, out, _ = await cli(capsys, "settlement", "list", "--status", "posted", "--json")
        assert code == 0 and {s["status"] for s in json.loads(out)} == {"posted"}
        listed = f"SettlementState = 'paid' AND ExternalOrderId = '{amazon_id}'"
        assert await eventually(lambda: _ids(h.client, listed), what="listed") == [handle.id]
        code, _, err = await cli(capsys, "settlement", "list", "--status", "paid")
        assert code == 2 and "is not one of pending, refused, posted, unmatched" in err

        short_id = await amazon_order_notified(h)
        short = h.client.get_workflow_handle(f"order:amazon:{short_id}", result_type=OrderView)
        await reaches(short, OrderToCashWorkflow.status, OrderStatus.AWAITING_SETTLEMENT)
        paid = SettlementLine(
            line_id="by-hand:1", kind=AmountKind.PRINCIPAL, amount=Money.of("1.00", "USD"),
            order_id=short_id,
        )  # fmt: skip
        lines = SettlementLines(settlement_id="by-hand", lines=[paid])
        await short.signal(OrderToCashWorkflow.settlement_received, lines)
        view = await reaches(short, OrderToCashWorkflow.status, OrderStatus.NEEDS_ATTENTION)
        assert view.exception is not None and view.exception.code is ExceptionCode.SHORT_PAID
        query = f"SettlementState = 'short_paid' AND ExternalOrderId = '{short_id}'"
        short_paid = await eventually(lambda: _ids(h.client, query), what="listed as short-paid")
        assert short_paid == [short.id]
        code, out, _ = await cli(capsys, "settlement", "resolve", short.id, "--note", "agreed")
        assert code == 0 and "settlement resolved (agreed)" in out
        assert (await short.result()).status is OrderStatus.COMPLETED
        code, _, err = await cli(capsys, "settlement", "resolve", short.id, "--note", "again")
        assert code == 1 and err.strip() == (
            f"Order {short.id} is already COMPLETED; nothing to change."
        )


async def _ids(client: Client, query: str) -> list[str]:
    return [w.id async for w in client.list_workflows(query)]


async def test_a_refund_paid_out_before_its_return_started_is_the_returns(
    dev_env: WorkflowEnvironment,
) -> None:
    """SETTLEMENT_CHANNELS=shopify: an order paid by one payout; the merchant refunds a unit
    on Shopify and the next payout carries the refund before its `refunds/create` reached us —
    no return takes it, so it is kept unmatched. Then the return runs: refunded already, it
    takes that line from the store and completes settled, and the line is matched to it."""
    async with order_harness(
        dev_env.client, autoship=AutoShip(after_seconds=0.2), SETTLEMENT_CHANNELS="shopify"
    ) as h:
        async with httpx.AsyncClient(base_url=h.settings.sandbox_url, timeout=30) as http:
            await http.put("/_sandbox/returns/autopilot", json={"receive_after_seconds": 0.3})
            spec = {"count": 1, "skus": [[SKU, 2]]}
            order = order_from_webhook(
                (await http.post("/_sandbox/shopify/orders", json=spec)).json()[0]
            )
            handle = await start_order(h.client, h.settings, order)
            await reaches(handle, OrderToCashWorkflow.status, OrderStatus.AWAITING_SETTLEMENT)
            (await http.post("/_sandbox/shopify/payouts")).raise_for_status()
            await run_import(h, Channel.SHOPIFY)
            assert (await asyncio.wait_for(handle.result(), 60)).status is OrderStatus.COMPLETED
            (line,) = order.lines
            refund = (
                await http.post(
                    f"/_sandbox/shopify/orders/{order.external_id}/returns",
                    json={"lines": [{"line_item_id": int(line.line_id), "quantity": 1}]},
                )
            ).json()
            (await http.post("/_sandbox/shopify/payouts")).raise_for_status()
        (payout,) = await run_import(h, Channel.SHOPIFY)
        early = await h.client.get_workflow_handle(payout, result_type=SettlementSummary).result()
        assert len(early.unmatched) == 1 and early.matched == 0
        (why,) = early.unmatched.values()
        assert why == f"a refund no open return of {handle.id} took"

        answer = await deliver_shopify(h.settings, refund, "refunds/create")
        assert answer.status_code == 202, answer.text
        return_id = f"return:shopify:{order.external_id}:{refund['id']}"
        result = await result_once_started(h.client, return_id, ReturnView)
        assert result.status is OrderStatus.COMPLETED, result.timeline
        assert result.timeline[-1].note.startswith("refund settled: ")
        assert result.settlement is not None and result.settlement.difference.is_zero()
        late = SettlementStore.open(h.settings.database_url).summary(
            Channel.SHOPIFY, early.settlement_id
        )
        assert late is not None and late.unmatched == {} and late.matched == 1
