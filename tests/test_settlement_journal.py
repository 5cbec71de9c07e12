"""A settlement as one balanced ERP journal, and the account mapping it is posted with
(checked when the worker starts)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from canonical import Channel, Money
from canonical.journal import UnpostableSettlement, settlement_journal
from canonical.settlement import AmountKind, Settlement, SettlementLine
from settlements.accounts import AccountMapError, account_map_path, load_account_map


def settlement(total: str, *amounts: tuple[AmountKind, str], currency: str = "USD") -> Settlement:
    return Settlement(
        channel=Channel.SHOPIFY, settlement_id="8845", deposit_date=date(2026, 3, 17),
        total=Money.of(total, currency),
        lines=[
            SettlementLine(line_id=f"l{n}", kind=kind, amount=Money.of(amount, currency))
            for n, (kind, amount) in enumerate(amounts)
        ],
    )  # fmt: skip


ACCOUNTS = load_account_map(account_map_path(None, "netsuite")).accounts(Channel.SHOPIFY)


def test_each_kind_credited_and_the_deposit_debited_to_the_bank() -> None:
    journal = settlement_journal(
        settlement(
            "77.18", (AmountKind.PRINCIPAL, "100.00"), (AmountKind.FEE, "-3.20"),
            (AmountKind.REFUND, "-20.00"), (AmountKind.ADJUSTMENT, "0.38"),
        ),
        ACCOUNTS,
    )  # fmt: skip
    assert journal.journal_id == "settlement-shopify-8845" and journal.balanced()
    assert journal.date == date(2026, 3, 17) and journal.currency == "USD"
    booked = {(line.memo, line.account, line.debit, line.credit) for line in journal.lines}
    assert booked == {
        ("principal", "120", Decimal(0), Decimal("100.00")),
        ("refund", "120", Decimal("20.00"), Decimal(0)),
        ("fee", "613", Decimal("3.20"), Decimal(0)),  # Shopify's own fee account
        ("adjustment", "490", Decimal(0), Decimal("0.38")),
        ("net deposit", "1", Decimal("77.18"), Decimal(0)),
    }


def test_a_withdrawal_credits_the_bank() -> None:
    journal = settlement_journal(settlement("-15.00", (AmountKind.ADJUSTMENT, "-15.00")), ACCOUNTS)
    assert journal.balanced()
    assert [(line.memo, line.debit, line.credit) for line in journal.lines] == [
        ("adjustment", Decimal("15.00"), Decimal(0)),
        ("net deposit", Decimal(0), Decimal("15.00")),
    ]


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        (settlement("10.00", (AmountKind.PRINCIPAL, "9.99")), "the lines sum to USD 9.99"),
        (
            settlement("10.00", (AmountKind.PRINCIPAL, "10.00")).model_copy(
                update={"deposit_date": None}
            ),
            "names no deposit date",
        ),
    ],
)
def test_what_cannot_balance_is_refused_with_why(broken: Settlement, why: str) -> None:
    with pytest.raises(UnpostableSettlement, match=why):
        settlement_journal(broken, ACCOUNTS)


def test_a_line_in_another_currency_is_refused() -> None:
    mixed = settlement("10.00", (AmountKind.PRINCIPAL, "10.00"))
    mixed.lines.append(
        SettlementLine(line_id="cad", kind=AmountKind.FEE, amount=Money.of("-1", "CAD"))
    )
    with pytest.raises(UnpostableSettlement, match="line cad is in CAD, the deposit in USD"):
        settlement_journal(mixed, ACCOUNTS)


@pytest.mark.parametrize("erp", ["netsuite", "tryton"])
def test_the_bundled_mappings_name_every_account(erp: str) -> None:
    mapping = load_account_map(account_map_path(None, erp))
    for channel in Channel:
        accounts = mapping.accounts(channel)
        assert accounts.bank and set(accounts.kinds) == set(AmountKind)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('[default]\nbank = "1"\n', "shopify: no account for adjustment, commission, fee, "),
        ('[default]\nbank = ""\n', "no account for adjustment, bank, commission"),
        ("[default\n", "Expected ']'"),
        ('[channels.ebay]\nfee = "1"\n', "Input should be 'shopify', 'amazon'"),
    ],
)
def test_a_mapping_that_cannot_be_used_says_why(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(text)
    with pytest.raises(AccountMapError, match=why):
        load_account_map(path)


def test_an_unknown_kind_is_named(tmp_path: Path) -> None:
    bundled = account_map_path(None, "netsuite").read_text()
    path = tmp_path / "accounts.toml"
    path.write_text(bundled.replace("[channels.shopify]", '[channels.shopify]\nfees = "1"'))
    with pytest.raises(AccountMapError, match="shopify: unknown fees"):
        load_account_map(path)
