"""Builds the adapters for one process from settings: the only place that picks implementations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from adapters.amazon import AmazonMarketplace, SpApiClient
from adapters.avatax import AvaTax, parse_ship_from
from adapters.netsuite import NetSuiteErp
from adapters.ports import (
    DropShipPort,
    ErpPort,
    MarketplacePort,
    NotificationPort,
    StorePort,
    TaxPort,
    WmsPort,
)
from adapters.returns_desk import ReturnsDesk
from adapters.sendgrid import SendGridNotifier, parse_template_ids
from adapters.shipbob import SUPPLIER_TOPICS, ShipBobDropShip
from adapters.shipstation import ShipStationWms
from adapters.shopify import ShopifyMarketplace
from adapters.store_pos import StorePos
from adapters.tryton import TrytonErp
from adapters.tryton_rpc import TrytonRpc
from adapters.walmart import WalmartClient, WalmartMarketplace
from canonical import Channel
from infra.settings import Settings


@dataclass(frozen=True)
class Subscription:
    """Registers our webhook receiver with a partner that pushes events (idempotent)."""

    partner: str
    subscribe: Callable[[], Awaitable[None]]


@dataclass
class Adapters:
    erp: ErpPort
    tax: TaxPort
    wms: WmsPort
    notifier: NotificationPort
    stores: StorePort
    supplier: DropShipPort
    amazon: SpApiClient
    walmart: WalmartClient
    marketplaces: dict[Channel, MarketplacePort] = field(default_factory=dict)
    subscriptions: list[Subscription] = field(default_factory=list)
    _closers: list[object] = field(default_factory=list)

    def marketplace(self, channel: Channel) -> MarketplacePort:
        try:
            return self.marketplaces[channel]
        except KeyError:
            raise LookupError(f"no marketplace adapter configured for {channel.value}") from None

    async def aclose(self) -> None:
        for adapter in self._closers:
            await adapter.aclose()  # type: ignore[attr-defined]


def build_erp(settings: Settings) -> ErpPort:
    """`ERP=netsuite` (the sandbox's NetSuite, or a real account) or `ERP=tryton`."""
    if settings.erp == "tryton":
        rpc = TrytonRpc(
            settings.tryton_url,
            settings.tryton_database,
            settings.tryton_user,
            settings.tryton_password,
        )
        return TrytonErp(rpc, web_shop=settings.tryton_web_shop)
    if settings.erp != "netsuite":
        raise ValueError(f"ERP={settings.erp!r}: expected netsuite or tryton")
    return NetSuiteErp(
        settings.netsuite_base_url,
        settings.netsuite_token,
        customer_id=settings.netsuite_customer_id,
        subsidiary_id=settings.netsuite_subsidiary_id,
        location_id=settings.netsuite_location_id,
        calls_per_second=settings.erp_calls_per_second,
    )


def build_adapters(settings: Settings) -> Adapters:
    erp = build_erp(settings)
    tax = AvaTax(
        settings.avatax_base_url,
        settings.avatax_account_id,
        settings.avatax_license_key,
        company_code=settings.avatax_company_code,
        ship_from=parse_ship_from(settings.avatax_ship_from),
    )
    wms = ShipStationWms(
        settings.shipstation_base_url,
        settings.shipstation_api_key,
        settings.shipstation_api_secret,
        store_id=settings.shipstation_store_id,
        v2_base_url=settings.shipstation_v2_url,
        v2_api_key=settings.shipstation_v2_api_key,
    )
    notifier = SendGridNotifier(
        settings.sendgrid_api_url,
        settings.sendgrid_api_key,
        from_email=settings.notify_from_email,
        from_name=settings.notify_from_name,
        template_ids=parse_template_ids(settings.sendgrid_template_ids),
    )
    stores = StorePos(settings.pos_api_url, settings.pos_client_key)
    supplier = ShipBobDropShip(
        settings.dropship_api_url, settings.dropship_api_token, settings.dropship_channel_id
    )
    shopify = ShopifyMarketplace(
        settings.shopify_admin_url, settings.shopify_access_token, settings.shopify_api_version
    )
    amazon = SpApiClient(
        settings.amazon_sp_api_url, settings.amazon_access_token, settings.amazon_marketplace_id
    )
    walmart = WalmartClient(
        settings.walmart_api_url, settings.walmart_client_id, settings.walmart_client_secret
    )
    desk = ReturnsDesk(settings.returns_desk_url, settings.returns_desk_key)
    public = settings.webhooks_public_url
    return Adapters(
        erp=erp,
        tax=tax,
        wms=wms,
        notifier=notifier,
        stores=stores,
        supplier=supplier,
        amazon=amazon,
        walmart=walmart,
        marketplaces={
            Channel.SHOPIFY: shopify,
            Channel.AMAZON: AmazonMarketplace(amazon, settings.amazon_seller_id),
            Channel.WALMART: WalmartMarketplace(walmart, settings.walmart_ship_node),
        },
        subscriptions=[
            Subscription(
                "WMS",
                partial(wms.subscribe, f"{public}/webhooks/wms?token={settings.wms_webhook_token}"),
            ),
            Subscription(
                "POS", partial(stores.subscribe, f"{public}/webhooks/store", settings.pos_api_key)
            ),
            Subscription(
                "returns desk",
                partial(desk.subscribe, f"{public}/webhooks/returns", settings.returns_api_key),
            ),
            Subscription(
                "supplier",
                partial(supplier.subscribe, f"{public}/webhooks/dropship", SUPPLIER_TOPICS),
            ),
        ],
        _closers=[erp, tax, wms, notifier, stores, supplier, shopify, amazon, walmart, desk],
    )
