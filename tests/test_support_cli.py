"""`starter.py` as a contract: every command with good and bad arguments, its exit code (0 done,
1 refused or failed, 2 usage) and its first line — the result on stdout, or one sentence on
stderr, never a Python message or a traceback; read commands answer `--json`; ids whole."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

import starter
from adapters.shopify import order_from_webhook
from canonical import Order, OrderStatus
from cli.support import orders_query
from inbox.store import Inbox, InboxStatus
from infra.build import PROJECT_ROOT
from sandbox.shipstation import AutoShip
from services.orders import start_order
from testing.dev_server import KEYS
from testing.harness import Harness, order_harness
from tests.support_cli import cli_env
from workflows.order_inputs import OrderToCashInput, RetryBudget

MUG, MATCHES = "MUG-STONE-350", "MATCH-LONG-50"  # matches cannot be returned (the default policy)
PYTHON_MESSAGES = ("Traceback", "not enough values", "invalid literal", "is not a valid", "Error(")


def said(capsys: pytest.CaptureFixture[str], code: int) -> tuple[str, str]:
    """The first line of the answer (stdout when done, stderr otherwise) and all of stdout."""
    out, err = capsys.readouterr()
    assert not any(message in out + err for message in PYTHON_MESSAGES), out + err
    if code != 0:
        assert out == "", out  # a refusal prints nothing else
    first = (out if code == 0 else err).splitlines()
    return (first[0] if first else ""), out


@pytest.mark.parametrize(
    ("argv", "first"),
    [
        (["status", "not-an-id"], "'not-an-id' names no channel: 'not' is not one of shopify"),
        (["status", "order:"], "'order:' is not an order: give its key (shopify-1042)"),
        (["status"], "the following arguments are required: id"),
        (["return", "shopify-1", "--line", "1"], "'1' is not LINE=QTY (line ids: `status ID`)"),
        (["return", "shopify-1", "--line", "L1=0"], "'L1=0': the quantity must be a whole number"),
        (["resume", "shopify-1", "--sku", "FOO"], "'FOO' is not OLD=NEW (two SKUs)"),
        (["picked-up", "shopify-1", "--line", "x=y"], "'x=y': the quantity must be a whole number"),
        (["list", "--status", "FOO"], "'FOO' is not one of RECEIVED, IN_PROGRESS"),
        (["list", "--channel", "x' OR 1=1"], "'x' OR 1=1' is not one of shopify, amazon"),
        (["list", "--limit", "0"], "'0' is not a whole number ≥ 1"),
        (["cancel", "shopify-1"], "the following arguments are required: --reason"),
        (["cancel-group", "shopify-1", "7", "--reason", "x"], "'7' is not a group: g1, g2"),
        (["return-received", "shopify-1", "--node", "WH-EAST"], "'shopify-1' is not a return"),
        (["inspect", "return:shopify:1:R1", "--line", "L1=1:broken"], "'broken' is not a cond"),
        (["inspect", "return:shopify:1:R1", "--line", "L1"], "'L1' is not LINE=QTY:CONDITION"),
        (["inbox", "replay", "abc"], "'abc' is not a whole number ≥ 1"),
        (["inbox", "list", "--status", "nope"], "'nope' is not one of received, accepted"),
        (["inbox", "purge", "--older-than-days", "x"], "'x' is not a number of days ≥ 0"),
        (["demo", "--orders", "-3"], "'-3' is not a whole number ≥ 1"),
        (["settlement", "import", "amazon"], "one of the arguments --now --file is required"),
        (["settlement", "import", "ebay", "--now"], "'ebay' is not one of shopify, amazon"),
        (["settlement", "show", "amazon"], "'amazon' is not a settlement: settlement:CHANNEL:ID"),
        (["settlement", "resolve", "shopify-1"], "the following arguments are required: --note"),
        (["frobnicate"], "argument command: invalid choice: 'frobnicate'"),
    ],
)
def test_a_usage_error_is_one_sentence_and_exit_2(
    argv: list[str], first: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert starter.main(argv) == 2
    line, _ = said(capsys, 2)
    assert line.startswith("starter.py") and first in line, line
    assert line.endswith("(see --help)")


def test_filters_are_enum_values_in_the_visibility_query() -> None:
    assert orders_query(OrderStatus.DELAYED, None).endswith("AND OrderStatus = 'DELAYED'")
    with pytest.raises(ValueError):
        orders_query("x' OR 1=1", None)  # type: ignore[arg-type]


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with order_harness(dev_env.client, autoship=AutoShip(after_seconds=0.2)) as harness:
        yield harness


async def completed_order(h: Harness) -> Order:
    body = httpx.post(
        f"{h.settings.sandbox_url}/_sandbox/shopify/orders",
        json={"count": 1, "skus": [[MUG, 2], [MATCHES, 1]]},
    ).json()[0]
    order = order_from_webhook(body)
    handle = await start_order(
        h.client, h.settings, order, OrderToCashInput(order=order, retry=RetryBudget())
    )
    assert (await asyncio.wait_for(handle.result(), 60)).status is OrderStatus.COMPLETED
    return order


async def test_every_command_answers_with_its_exit_code_and_a_sentence(
    stack: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env(monkeypatch, stack.settings)
    order = await completed_order(stack)
    mug, matches = order.lines
    wf = order.workflow_id

    async def run(*argv: str, code: int, first: str) -> str:
        got = await asyncio.to_thread(starter.main, list(argv))
        line, out = said(capsys, got)
        assert got == code, (argv, got, line)
        assert first in line, (argv, line)
        return out

    # Reading: the order with its lines; the same as JSON; the list with the id whole.
    out = await run("status", order.key, code=0, first=order.order_number)
    assert mug.line_id in out and MUG in out and matches.line_id in out
    shown = json.loads(await run("status", wf, "--json", code=0, first="{"))
    assert shown["status"] == "COMPLETED" and shown["workflow_id"] == wf
    assert [line["line_id"] for line in shown["lines"]["order"]["lines"]] == [
        mug.line_id,
        matches.line_id,
    ]
    listed = await run("list", "--status", "completed", "--channel", "SHOPIFY", code=0, first="")
    assert any(wf in line for line in listed.splitlines())  # whole, on one line
    rows = json.loads(await run("list", "--status", "COMPLETED", "--json", code=0, first="["))
    assert wf in [row["workflow_id"] for row in rows]
    await run("status", "shopify-no-such-order", code=1, first="No order workflow")

    # Steering a closed order: what it ended as, exit 1.
    closed = f"Order {wf} is already COMPLETED; nothing to change."
    await run("cancel", wf, "--reason", "customer called", code=1, first=closed)
    await run("resume", wf, "--sku", f"{MUG}=MUG-STONE-351", code=1, first=closed)
    await run("ready", wf, code=1, first="is not collected in a store")
    await run("cancel-group", wf, "g9", "--reason", "x", code=1, first=closed)
    await run("reject-group", wf, "g9", "--reason", "x", code=1, first=f"No order workflow {wf}~g9")
    await run("change-store", wf, "STORE-NOWHERE", code=2, first="--store STORE-NOWHERE: no such")

    # Returns: what the policy made of it, whichever way it went.
    await run("return", wf, "--line", "no-such-line=1", code=1, first="has no line no-such-line")
    refused = f"line {matches.line_id}: "
    await run("return", wf, "--line", f"{matches.line_id}=1", code=1, first=refused)
    out = await run("return", wf, "--line", f"{mug.line_id}=1", code=0, first="authorised for")
    return_id = out.split()[1]
    assert return_id.startswith(f"return:shopify:{order.external_id}:CS-")
    await run(
        "return-received", return_id, "--node", "WH-NOWHERE", code=2, first="--node WH-NOWHERE"
    )
    await run("return-received", return_id, "--node", "WH-WEST", code=0, first="received at")

    # The inbox: a delivery done already is not replayed, a missing one is said so.
    inbox = Inbox.of(stack.settings)
    entry, _ = inbox.add("shopify", "orders/create", f"cli-{wf}", {}, b"{}")
    assert entry.id is not None
    inbox.record(entry.id, InboxStatus.ACCEPTED, workflow_id=wf)
    await run("inbox", "replay", str(entry.id), code=1, first=f"was accepted (→ {wf})")
    await run("inbox", "replay", "987654321", code=1, first="No inbox entry 987654321.")
    entries = json.loads(await run("inbox", "list", "--json", code=0, first="["))
    assert {"id": entry.id, "status": "accepted", "workflow_id": wf}.items() <= entries[0].items()

    # Inventory, as JSON too.
    stock = json.loads(await run("inventory", "show", MUG, "--json", code=0, first="{"))
    assert stock["sku"] == MUG and stock["positions"]
    network = json.loads(await run("inventory", "network", "--json", code=0, first="{"))
    assert "WH-WEST" in [node["code"] for node in network["nodes"]]
    await run("inventory", "reconcile", "--json", code=0, first="")


def test_a_read_command_ends_cleanly_every_time(stack_env: dict[str, str]) -> None:
    """The Temporal client's threads once aborted the interpreter at exit (exit 134)."""
    for _ in range(3):
        result = subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "starter.py"), "list", "--json"],
            env=stack_env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=PROJECT_ROOT,
        )
        assert result.returncode == 0, result.stderr
        assert isinstance(json.loads(result.stdout), list)
        assert "Fatal Python error" not in result.stderr


@pytest.fixture
def stack_env(dev_env: WorkflowEnvironment, tmp_path: Any) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "CUSTOMER_KEYS_DATABASE_URL": KEYS.customer_keys_url,  # the test clients' keys
    }
