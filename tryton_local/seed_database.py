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

from proteus import Model
from proteus import config as proteus_config

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
    template = Model.get("product.template")
    products = []
    for item in catalogue["items"]:
        product_template = template(name=item["title"], code=item["sku"])
        product_template.default_uom = unit
        product_template.type = item.get("type", "goods")
        product_template.salable = True
        product_template.list_price = Decimal(item["price"])
        product_template.account_category = category
        product_template.save()
        products.append((product_template.products[0], item))

    location = Model.get("stock.location")
    (warehouse,) = location.find([("code", "=", "WH")])
    (storage,) = location.find([("code", "=", "STO")])
    inventory = Model.get("stock.inventory")(location=storage)
    for product, item in products:
        if item.get("type", "goods") == "goods":
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
