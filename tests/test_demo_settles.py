"""The demo's promise, as a person runs it: `starter.py demo --scenario mixed --exit` ends once
every order is paid by its channel's settlement and every return's refund is settled (Shopify
payouts, a Walmart reconciliation report), each settlement posted once as its own ERP journal."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from canonical import Channel
from settlements.store import SettlementStore
from tests.demo_process import demo_process

SETTLEMENT = re.compile(r"^  settlement:(\w+):(\S+): net .*, ERP journal (\S+)$", re.MULTILINE)


async def test_the_mixed_demo_ends_with_every_order_paid(tmp_path: Path) -> None:
    # 16: four of each scenario, one of the returns a Walmart order's
    args = ["--scenario", "mixed", "--orders", "16", "--exit"]
    async with demo_process(tmp_path, args) as demo:
        code = await asyncio.to_thread(demo.process.wait, 300)
        out = demo.log_path.read_text(errors="replace")
    assert code == 0, demo.tail(60)
    assert "Ended: 16 paid, 4 refunds settled" in out, demo.tail(30)
    settlements = SETTLEMENT.findall(out)
    assert {channel for channel, _, _ in settlements} == {"shopify", "walmart"}
    journals = [journal for _, _, journal in settlements]
    assert "(not" not in journals and len(set(journals)) == len(journals)
    store = SettlementStore.open(f"sqlite:///{tmp_path / 'orchestrator.db'}")
    for channel, settlement_id, journal in settlements:
        summary = store.summary(Channel(channel), settlement_id)
        assert summary is not None and summary.journal == journal
        assert summary.unmatched == {}, summary.unmatched
