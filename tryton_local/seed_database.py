"""Master data for a fresh Tryton database: company, accounts (with the channel settlement
accounts), fiscal year, the demo catalogue with stock in the warehouse, and the web shop whose
`web_id` keys our orders.

Runs under Tryton's own interpreter (proteus in-process), not the project's:
    python seed_database.py DATABASE CONFIG_FILE CATALOGUE_JSON
"""

import datetime as dt
import json
import sys
from decimal import Decimal
from typing import Any

from proteus import Model
from proteus import config as proteus_config
from stdnum import ean

WEB_SHOP = "Retail Orchestrator"
COUNTRIES = {"US": "United States", "CA": "Canada", "GB": "United Kingdom", "DE": "Germany"}


def main() -> None:
    database, config_file, catalogue_path = sys.argv[1:4]
    with open(catalogue_path) as f:
        catalogue = json.load(f)
    config = proteus_config.set_trytond(database, user="admin", config_file=config_file)

    from trytond.modules.account.tests.tools import (
        create_chart,
        create_fiscalyear,
        get_accounts,
    )
    from trytond.modules.account_invoice.tests.tools import (
        create_payment_term,
        set_fiscalyear_invoice_sequences,
    )
    from trytond.modules.company.tests.tools import create_company, get_company

    party = Model.get("party.party")
    user = Model.get("res.user")

    company_party = party(name="Acme Home Goods")
    company_party.save()
    create_company(party=company_party, currency="USD")
    company = get_company()
    config._context = user.get_preferences(True, {})

    create_chart(company)
    accounts = get_accounts(company)
    # One fiscal year over this year and the next: the cached dump stays usable across New Year.
    year = dt.date.today().year
    fiscalyear = set_fiscalyear_invoice_sequences(
        create_fiscalyear(company, (dt.date(year, 1, 1), dt.date(year + 1, 12, 31)))
    )
    fiscalyear.save()
    fiscalyear.click("create_period")
    create_payment_term().save()

    # The accounts channel settlements are posted to (settlements/accounts/tryton.toml), each
    # beside a chart account whose parent and type it takes, no party needed.
    account = Model.get("account.account")
    for code, name, beside in (
        ("1.1.9", "Channel clearing", "1.1.4"),
        ("1.4.9", "Channel reserves held", "1.4.1"),
        ("2.2.9", "Marketplace facilitator tax withheld", "2.2.3"),
        ("5.2.9", "Channel fees and commissions", "5.2.2"),
        ("6.1.9", "Channel adjustments", "6.1.1"),
    ):
        (like,) = account.find([("code", "=", beside)])
        account(name=name, code=code, parent=like.parent, type=like.type).save()

    country = Model.get("country.country")
    for code, name in COUNTRIES.items():
        country(code=code, name=name).save()

    category = Model.get("product.category")(name="Goods", accounting=True)
    category.account_expense = accounts["expense"]
    category.account_revenue = accounts["revenue"]
    category.save()

    (unit,) = Model.get("product.uom").find([("name", "=", "Unit")])
    # Brand, material and colour as product attributes, one set for the goods.
    attribute = Model.get("product.attribute")
    attribute_set = Model.get("product.attribute.set")(name="Home goods")
    for name in ("brand", "material", "color"):
        attribute_set.attributes.append(attribute(name=name, string=name.title(), type_="char"))
    attribute_set.save()

    template = Model.get("product.template")
    identifier = Model.get("product.identifier")
    templates: dict[str, Any] = {}  # a product's variants share its template
    products = []
    for item in catalogue["items"]:
        goods = item.get("type", "goods") == "goods"
        shared = templates.get(item.get("template") or "")
        if shared is None:
            shared = template(name=item.get("template") or item["title"], code=item["sku"])
            shared.default_uom = unit
            shared.type = item.get("type", "goods")
            shared.salable = True
            shared.list_price = Decimal(item["price"])
            shared.account_category = category
            if goods:
                shared.attribute_set = attribute_set
            shared.save()
            product = shared.products[0]
            if item.get("template"):
                templates[item["template"]] = shared
        else:  # another variant: the template's code, told apart by its suffix
            product = Model.get("product.product")(template=shared)
            product.suffix_code = item["sku"].removeprefix(shared.code)
        if goods:
            product.attributes = {k: item[k] for k in ("brand", "material", "color") if item[k]}
            product.cost_price = Decimal(item["cost"])
        product.save()
        if item.get("gtin"):
            # Typed as an EAN, Tryton refuses a wrong check digit: the diffuser's mistyped GTIN
            # is kept untyped, as a clerk's typo is, for the publication to refuse.
            code = item["gtin"]
            kind = "ean" if ean.is_valid(code) else None
            identifier(product=product, type=kind, code=code).save()
        if item.get("stock"):
            products.append((product, item))

    # The channels' price lists: the list price, and the marketplaces' 5 % above it — the last
    # line of each (sequence 100), so a dated line (a sale) put before it wins while it runs.
    price_list = Model.get("product.price_list")
    for name, formula in (
        ("Base Price", "unit_price"),
        ("Marketplace", f"unit_price * Decimal('{catalogue['marketplace_markup']}')"),
    ):
        prices = price_list(name=name, price="list_price", unit="product_sale")
        prices.lines.new(formula=formula, sequence=100)
        prices.save()

    location = Model.get("stock.location")
    (warehouse,) = location.find([("code", "=", "WH")])
    (storage,) = location.find([("code", "=", "STO")])
    inventory = Model.get("stock.inventory")(location=storage)
    for product, _item in products:
        line = inventory.lines.new(product=product)
        line.quantity = float(catalogue["stock"])
        line.expected_quantity = 0.0
    inventory.click("confirm")

    shop = Model.get("web.shop")(name=WEB_SHOP, company=company, currency=company.currency)
    shop.warehouses.append(location(warehouse.id))
    shop.save()
    print(f"seeded {len(products)} products, web shop {shop.id}, warehouse {warehouse.id}")


if __name__ == "__main__":
    main()
