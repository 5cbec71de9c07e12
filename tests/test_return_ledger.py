"""The return ledger on SQLite and a real PostgreSQL: returns of one order racing from several
connection pools never take back more units than shipped; a retried claim gets the same
answer; a released claim frees its units."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from returns.ledger import ReturnLedger

SHIPPED = {"L1": 3, "L2": 1}


def test_racing_returns_never_take_back_more_than_shipped(database_url: str) -> None:
    ledgers = [ReturnLedger.open(database_url) for _ in range(4)]  # four connection pools

    def claim(n: int) -> dict[str, int]:
        ledger = ledgers[n % len(ledgers)]
        return ledger.claim("shopify-1", f"R{n}", {"L1": 1, "L2": 1}, SHIPPED).granted

    with ThreadPoolExecutor(max_workers=8) as pool:
        grants = list(pool.map(claim, range(12)))
    assert sum(g.get("L1", 0) for g in grants) == 3
    assert sum(g.get("L2", 0) for g in grants) == 1
    assert sum(1 for g in grants if g) == 3  # the other nine got nothing


def test_a_retried_claim_answers_the_same_and_a_release_frees_the_units(
    database_url: str,
) -> None:
    ledger = ReturnLedger.open(database_url)
    first = ledger.claim("shopify-2", "R1", {"L1": 2}, SHIPPED)
    assert first.granted == {"L1": 2} and first.before == {}
    again = ledger.claim("shopify-2", "R1", {"L1": 2}, SHIPPED)
    assert again.granted == {"L1": 2}
    other = ledger.claim("shopify-2", "R2", {"L1": 2}, SHIPPED)
    assert other.granted == {"L1": 1} and other.before == {"L1": 2}
    assert other.refused == {"L1": "only 1 of 2 can still be returned"}
    ledger.release("R1")
    ledger.release("R1")  # idempotent
    third = ledger.claim("shopify-2", "R3", {"L1": 3}, SHIPPED)
    assert third.granted == {"L1": 2} and third.before == {"L1": 1}
    assert ledger.claim("shopify-3", "R4", {"L1": 1}, SHIPPED).granted == {"L1": 1}  # per order
