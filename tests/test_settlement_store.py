"""Imported settlements on SQLite and a real PostgreSQL: kept once however often an import
repeats or overlaps (also racing), read back exactly (amounts are never floats), and their
lines handed out per order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from canonical import Channel, Money
from canonical.settlement import AmountKind, Settlement, SettlementLine, SettlementStatus
from settlements.store import SettlementStore

ORDER = "114-6620792-0051848"


def settlement(settlement_id: str = "11726380521") -> Settlement:
    def line(n: int, kind: AmountKind, amount: str, order: str | None = ORDER) -> SettlementLine:
        return SettlementLine(
            line_id=f"{settlement_id}:{n}", kind=kind, amount=Money.of(amount, "KWD"),
            order_id=order, posted_at=datetime(2026, 3, 5, 12, tzinfo=UTC),
        )  # fmt: skip

    return Settlement(
        channel=Channel.AMAZON,
        settlement_id=settlement_id,
        deposit_date=date(2026, 3, 17),
        period_start=datetime(2026, 3, 1, tzinfo=UTC),
        total=Money.of("9.000", "KWD"),
        lines=[
            line(2, AmountKind.PRINCIPAL, "10.125"),
            line(3, AmountKind.COMMISSION, "-1.125"),
            line(4, AmountKind.FEE, "-0.001", order=None),
            line(5, AmountKind.ADJUSTMENT, "0.001", order=None),
        ],
    )


def test_kept_once_and_read_back_exactly(database_url: str) -> None:
    stores = [SettlementStore.open(database_url) for _ in range(3)]
    with ThreadPoolExecutor(max_workers=6) as pool:  # overlapping imports of one settlement
        kept = list(pool.map(lambda n: stores[n % 3].record(settlement()), range(6)))
    assert kept.count(True) == 1
    read = stores[0].get(Channel.AMAZON, "11726380521")
    assert read == settlement()  # to the fils, with its times in UTC
    assert stores[0].get(Channel.AMAZON, "nope") is None


def test_lines_per_order_and_the_unmatched_reason(database_url: str) -> None:
    store = SettlementStore.open(database_url)
    store.record(settlement("S-2"))
    per_order = store.lines_by_order(Channel.AMAZON, "S-2")
    assert list(per_order) == store.order_ids(Channel.AMAZON, "S-2") == [ORDER]
    assert [line.kind for line in per_order[ORDER]] == [AmountKind.PRINCIPAL, AmountKind.COMMISSION]
    before = store.summary(Channel.AMAZON, "S-2")
    assert before is not None and before.unmatched == {} and before.journal is None
    assert before.by_kind[AmountKind.PRINCIPAL] == Money.of("10.125", "KWD")
    assert before.lines == 4 and before.workflow_id == "settlement:amazon:S-2"
    assert before.status is SettlementStatus.PENDING and before.account == 2
    store.refused(Channel.AMAZON, "S-2", "account 6.1.9 is closed")
    assert store.recent(status=SettlementStatus.REFUSED)[0].refused == "account 6.1.9 is closed"
    assert store.recent(status=SettlementStatus.PENDING) == []
    store.matched(Channel.AMAZON, "S-2", {"S-2:2": "order:amazon:X"})
    store.unmatched(Channel.AMAZON, "S-2", "no order workflow order:amazon:…", line_ids=["S-2:3"])
    # A line a return took while the settlement was being matched stays the return's.
    store.unmatched(Channel.AMAZON, "S-2", "a refund no open return took", line_ids=["S-2:2"])
    store.posted(Channel.AMAZON, "S-2", "JE-1")
    after = store.summary(Channel.AMAZON, "S-2")
    assert after is not None and after.journal == "JE-1" and after.refused is None
    assert after.unmatched == {"S-2:3": "no order workflow order:amazon:…"}
    assert after.matched == 1 and after.status is SettlementStatus.UNMATCHED
    assert [s.settlement_id for s in store.recent(status=SettlementStatus.UNMATCHED)] == ["S-2"]
    assert store.recent(status=SettlementStatus.POSTED) == []
    assert after.total_of(AmountKind.FEE, AmountKind.COMMISSION) == Money.of("-1.126", "KWD")
    store.record(settlement("S-3"))
    assert [(s, line.line_id) for s, line in store.lines_of_order(Channel.AMAZON, ORDER)] == [
        ("S-2", "S-2:2"), ("S-2", "S-2:3"), ("S-3", "S-3:2"), ("S-3", "S-3:3"),
    ]  # fmt: skip
