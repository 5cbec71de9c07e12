"""One FastAPI app playing every partner system, plus `/_sandbox/*` control routes."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException

from infra.settings import SANDBOX_DROPSHIP_SECRET
from sandbox import (
    amazon,
    amazon_feeds,
    amazon_listings,
    amazon_reports,
    amazon_returns,
    amazon_settlements,
    avatax,
    netsuite,
    netsuite_items,
    payout_autopilot,
    pos_store,
    returns_desk,
    sendgrid,
    shipbob,
    shipstation,
    shopify,
    shopify_payouts,
    shopify_products,
    walmart,
    walmart_feeds,
    walmart_recon,
)
from sandbox.auth import partner_auth
from sandbox.faults import SYSTEMS, FaultInjector, FaultProfile
from sandbox.push_log import Push, PushLog
from sandbox.vendor_errors import VendorError, vendor_error_handler


def create_app(
    public_url: str,
    faults: dict[str, dict[str, Any]] | None = None,
    autoship: shipstation.AutoShip | None = None,
) -> FastAPI:
    injector = FaultInjector(faults)
    ns, tax, wms = (
        netsuite.NetSuiteState(),
        avatax.AvaTaxState(),
        shipstation.ShipStationState(autoship),
    )
    shop, amzn, mail = shopify.ShopifyState(), amazon.AmazonState(), sendgrid.SendGridState()
    wm, stores = walmart.WalmartState(), pos_store.PosStoreState()
    supplier = shipbob.ShipBobState(SANDBOX_DROPSHIP_SECRET)
    desk = returns_desk.ReturnsDeskState(wms.restock, shipstation.WAREHOUSES[0])
    reports = amazon_reports.AmazonReports()
    amazon_refunds = amazon_returns.AmazonReturnsState(amzn, desk, reports)
    amazon_payouts = amazon_settlements.AmazonSettlementsState(amzn, reports)
    amazon_catalog = amazon_listings.AmazonListings(amzn)
    amazon_listing_feeds = amazon_feeds.AmazonFeeds(amzn, amazon_catalog)
    shopify_payouts_state = shopify_payouts.ShopifyPayoutsState(shop)
    products = shopify_products.ShopifyProducts(shop)
    walmart_recon_state = walmart_recon.WalmartReconState(wm)
    walmart_catalog = walmart_feeds.WalmartFeeds(wm)
    payouts = payout_autopilot.PayoutAutopilot(
        {
            "amazon": (
                amazon_payouts.pending,
                lambda: amazon_payouts.close(amazon_settlements.CloseSettlement()),
            ),
            "shopify": (shopify_payouts_state.pending, shopify_payouts_state.pay_out),
            "walmart": (walmart_recon_state.pending, walmart_recon_state.close),
        }
    )
    wms.base_url = reports.base_url = amazon_listing_feeds.base_url = public_url.rstrip("/")
    item_master = netsuite_items.NetSuiteItems()
    ns.suiteql_handlers.append(item_master.answer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await payouts.aclose()
        await wms.aclose()
        await stores.webhooks.aclose()
        await supplier.webhooks.aclose()
        await desk.webhooks.aclose()

    app = FastAPI(title="Partner sandbox", lifespan=lifespan)
    # Starlette runs the last added middleware first: faults, then credentials, then routes.
    app.middleware("http")(partner_auth)
    app.middleware("http")(injector.middleware)
    app.add_exception_handler(VendorError, vendor_error_handler)
    app.include_router(netsuite.router(ns))
    app.include_router(netsuite.control_router(ns))
    app.include_router(netsuite_items.control_router(item_master))
    app.include_router(avatax.router(tax))
    app.include_router(shipstation.router(wms))
    app.include_router(shipstation.control_router(wms))
    app.include_router(shopify.router(shop))
    app.include_router(shopify.control_router(shop))
    app.include_router(amazon_listings.router(amazon_catalog))
    app.include_router(amazon_listings.control_router(amazon_catalog))
    app.include_router(amazon_feeds.router(amazon_listing_feeds))
    app.include_router(amazon_feeds.upload_router(amazon_listing_feeds))
    app.include_router(amazon.router(amzn))
    app.include_router(amazon.control_router(amzn))
    app.include_router(amazon_reports.router(reports))
    app.include_router(amazon_reports.document_router(reports))
    app.include_router(amazon_returns.control_router(amazon_refunds))
    app.include_router(amazon_settlements.control_router(amazon_payouts))
    app.include_router(shopify_payouts.control_router(shopify_payouts_state))
    app.include_router(shopify_products.control_router(products))
    app.include_router(walmart_recon.router(walmart_recon_state))
    app.include_router(walmart_recon.control_router(walmart_recon_state))
    app.include_router(payout_autopilot.control_router(payouts))
    app.include_router(walmart_feeds.router(walmart_catalog))
    app.include_router(walmart_feeds.control_router(walmart_catalog))
    app.include_router(walmart.router(wm))
    app.include_router(walmart.control_router(wm, desk))
    app.include_router(sendgrid.router(mail))
    app.include_router(pos_store.router(stores))
    app.include_router(pos_store.control_router(stores))
    app.include_router(sendgrid.control_router(mail))
    app.include_router(shipbob.router(supplier))
    app.include_router(shipbob.control_router(supplier))
    app.include_router(returns_desk.router(desk))
    app.include_router(returns_desk.control_router(desk))
    app.state.partners = {
        "netsuite": ns,
        "netsuite_items": item_master,
        "avatax": tax,
        "shipstation": wms,
        "shopify": shop,
        "amazon": amzn,
        "walmart": wm,
        "sendgrid": mail,
        "pos": stores,
        "shipbob": supplier,
        "returns": desk,
    }
    app.state.settlements = {
        "amazon": amazon_payouts,
        "shopify": shopify_payouts_state,
        "walmart": walmart_recon_state,
    }
    app.state.faults = injector
    app.state.catalogs = {
        "shopify": products,
        "amazon": amazon_listing_feeds,
        "walmart": walmart_catalog,
    }

    @app.get("/_sandbox/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/_sandbox/faults")
    async def get_faults() -> dict[str, FaultProfile]:
        return injector.profiles

    @app.put("/_sandbox/faults/{system}")
    async def set_faults(system: str, profile: FaultProfile) -> FaultProfile:
        if system not in SYSTEMS:
            raise HTTPException(404, f"unknown system {system}; one of {', '.join(SYSTEMS)}")
        injector.set(system, profile)
        return profile

    @app.delete("/_sandbox/faults")
    async def reset_faults() -> dict[str, str]:
        injector.reset()
        return {"status": "reset"}

    @app.get("/_sandbox/stats")
    async def stats() -> dict[str, Any]:
        return {
            "requests": injector.requests,
            "faults_injected": injector.injected,
            "answers_lost": injector.lost,
            "erp_sales_orders": len(ns.orders),
            "erp_invoices": len(ns.invoices),
            "tax_documents": len(tax.documents),
            "wms_orders": len(wms.orders),
            "wms_shipments": len(wms.shipments),
        }

    @app.get("/_sandbox/netsuite/cashSales")
    async def erp_cash_sales() -> list[dict[str, Any]]:
        return list(ns.cash_sales.values())

    @app.get("/_sandbox/netsuite/creditMemos")
    async def erp_credit_memos() -> list[dict[str, Any]]:
        return list(ns.credit_memos.values())

    @app.get("/_sandbox/netsuite/invoices")
    async def erp_invoices() -> list[dict[str, Any]]:
        return list(ns.invoices.values())

    @app.get("/_sandbox/netsuite/salesOrders")
    async def erp_orders() -> list[dict[str, Any]]:
        return list(ns.orders.values())

    @app.get("/_sandbox/avatax/documents")
    async def tax_documents() -> list[dict[str, Any]]:
        return list(tax.documents.values())

    @app.get("/_sandbox/avatax/documents/{code}")
    async def tax_document(code: str) -> dict[str, Any]:
        if code not in tax.documents:
            raise HTTPException(404, "unknown document")
        return tax.documents[code]

    @app.get("/_sandbox/pushes/{channel}")
    async def pushes(channel: str, since: float = 0) -> list[Push]:
        """Availability the channel accepted (epoch `at`), oldest first."""
        if channel not in ("shopify", "amazon", "walmart"):
            raise HTTPException(404, "shopify, amazon or walmart")
        log: PushLog = app.state.partners[channel].push_log
        return [push for push in log.entries if push.at >= since]

    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory sandbox.app:app_from_env`: SANDBOX_URL, SANDBOX_FAULTS,
    SANDBOX_AUTOSHIP_SECONDS, SANDBOX_AUTOSHIP_SPLIT."""
    after = os.environ.get("SANDBOX_AUTOSHIP_SECONDS")
    return create_app(
        os.environ.get("SANDBOX_URL", "http://127.0.0.1:8100"),
        json.loads(os.environ.get("SANDBOX_FAULTS") or "{}"),
        shipstation.AutoShip(
            after_seconds=float(after) if after else None,
            split=os.environ.get("SANDBOX_AUTOSHIP_SPLIT", "") in ("1", "true"),
        ),
    )
