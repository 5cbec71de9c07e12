"""How a channel lists an ERP item (its mapping file) and the checks a listing must pass before
it is sent: required attributes, the GTIN's check digit, a price above zero and not below
cost unless marked, the channel's currency, and only the channel's own price list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from canonical import Channel, Money
from canonical.catalog import CatalogItem, ScheduledPrice, gtin_problem, listing_problems
from catalog.mapping import BUNDLED, MappingError, load_mapping, load_mappings

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def item(**changes: object) -> CatalogItem:
    base = CatalogItem(
        sku="MUG-STONE-350", product_id="1191", title="Stoneware Mug",
        attributes={"brand": "Northwick", "color": "Sage", "material": "Stoneware"},
        options={"Color": "Sage"}, gtin="0850012345688",
        prices={"Base Price": Money.of("18.00", "USD"), "Marketplace": Money.of("18.90", "USD")},
        cost=Money.of("5.40", "USD"), weight_grams=410,
    )  # fmt: skip
    return base.model_copy(update=changes)


def problems(channel: Channel, listed: CatalogItem) -> list[str]:
    mapping = load_mapping(BUNDLED / f"{channel.value}.toml")
    listing = mapping.listing(channel, listed, NOW)
    assert not isinstance(listing, str), listing
    return listing_problems(listed, listing, mapping.rules)


def test_each_channel_lists_from_its_own_price_list_and_attributes() -> None:
    mappings = load_mappings(None)
    shopify = mappings[Channel.SHOPIFY].listing(Channel.SHOPIFY, item(), NOW)
    amazon = mappings[Channel.AMAZON].listing(Channel.AMAZON, item(), NOW)
    assert not isinstance(shopify, str) and not isinstance(amazon, str)
    assert shopify.price == Money.of("18.00", "USD") and amazon.price == Money.of("18.90", "USD")
    assert shopify.attributes["vendor"] == "Northwick" and shopify.product_key == "1191"
    assert amazon.title == "Northwick Stoneware Mug"
    no_marketplace = item(prices={"Base Price": Money.of("18.00", "USD")})
    assert mappings[Channel.WALMART].listing(Channel.WALMART, no_marketplace, NOW) == (
        "no price in price list 'Marketplace'"  # never another list's price
    )


def test_a_listing_changes_its_hash_only_when_its_content_changes() -> None:
    mapping = load_mapping(BUNDLED / "shopify.toml")
    first, again = (mapping.listing(Channel.SHOPIFY, item(), NOW) for _ in range(2))
    cheaper_item = item(prices={"Base Price": Money.of("17", "USD")})
    cheaper = mapping.listing(Channel.SHOPIFY, cheaper_item, NOW)
    assert not isinstance(first, str) and not isinstance(again, str)
    assert not isinstance(cheaper, str)
    assert first.content_hash == again.content_hash != cheaper.content_hash
    assert first.shape_hash == cheaper.shape_hash  # a price change only
    renamed = first.model_copy(update={"title": "Stoneware Mug, Sage"})
    assert renamed.shape_hash != first.shape_hash


@pytest.mark.parametrize(
    ("gtin", "problem"),
    [
        ("0850012345688", None),
        ("96385074", None),  # GTIN-8
        ("10850012345685", None),  # GTIN-14
        ("0850012345680", "GTIN 0850012345680 has a wrong check digit"),
        ("085001234568", "GTIN 085001234568 has a wrong check digit"),
        ("12345", "GTIN '12345' is not 8, 12, 13 or 14 digits"),
        ("08500123456X8", "GTIN '08500123456X8' is not 8, 12, 13 or 14 digits"),
    ],
)
def test_gtin_check_digits(gtin: str, problem: str | None) -> None:
    assert gtin_problem(gtin) == problem


def test_every_problem_of_a_listing_is_named() -> None:
    assert problems(Channel.AMAZON, item()) == []
    bad = item(
        attributes={"brand": "Northwick", "color": "", "material": "Stoneware"}, gtin=None,
        prices={"Marketplace": Money.of("4.00", "USD")},
    )  # fmt: skip
    assert problems(Channel.AMAZON, bad) == [
        "required attribute 'color' is missing",
        "a GTIN is required",
        "price USD 4.00 is below its cost USD 5.40 (not marked as allowed)",
    ]
    assert problems(Channel.AMAZON, bad.model_copy(update={"below_cost_ok": True}))[-1] == (
        "a GTIN is required"
    )
    free = item(prices={"Base Price": Money.of("0", "USD")})
    assert problems(Channel.SHOPIFY, free) == ["price USD 0.00 is not above zero"]
    euro = item(prices={"Base Price": Money.of("18.00", "EUR")})
    assert problems(Channel.SHOPIFY, euro) == ["priced in EUR, the channel sells in USD"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('currency = "USD"\n', "price_list: Field required"),
        ('price_list = "A"\ncurrency = "usd"\n', "currency: String should match pattern"),
        ('price_list = "A"\ncurrency = "USD"\ntitle = "{colour} {title}"\n',
         "the title names colour, not an item field"),
        ('price_list = "A"\ncurrency = "USD"\nrequired_attributes = ["brand"]\n',
         "required brand not in [attributes]"),
        ("price_list = ", "Invalid value"),
    ],
)  # fmt: skip
def test_a_mapping_that_cannot_work_is_refused_with_why(
    tmp_path: Path, text: str, why: str
) -> None:
    path = tmp_path / "shopify.toml"
    path.write_text(text)
    with pytest.raises(MappingError) as refused:
        load_mapping(path)
    assert str(refused.value).startswith(f"catalogue mapping {path}") and why in str(refused.value)


def test_a_scheduled_price_is_the_price_while_it_runs_and_only_for_its_list() -> None:
    start, end = NOW + timedelta(days=1), NOW + timedelta(days=3)
    sale = ScheduledPrice(
        price_list="Marketplace", price=Money.of("15.00", "USD"), start=start, end=end
    )
    on_sale = item(scheduled=[sale])
    regular, discounted = Money.of("18.90", "USD"), Money.of("15.00", "USD")
    assert on_sale.price_at("Marketplace", NOW) == regular
    assert on_sale.price_at("Marketplace", start) == discounted
    assert on_sale.price_at("Marketplace", end - timedelta(seconds=1)) == discounted
    assert on_sale.price_at("Marketplace", end) == regular
    assert on_sale.price_at("Base Price", start) == Money.of("18.00", "USD")
    assert on_sale.price_changes("Marketplace", NOW) == [sale]
    assert on_sale.price_changes("Marketplace", end) == []
    assert on_sale.price_changes("Base Price", NOW) == []
