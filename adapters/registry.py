"""Builds the adapters of one process, each from its own settings: the only place that picks
implementations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from adapters.amazon import AmazonMarketplace, AmazonSettings, SpApiClient
from adapters.amazon_catalog import AmazonListings
from adapters.amazon_settlement import AmazonSettlements
from adapters.avatax import AvaTax, AvaTaxSettings, parse_ship_from
from adapters.config import PartnerSettings
from adapters.netsuite import NetSuiteErp, NetSuiteSettings
from adapters.netsuite_catalog import NetSuiteCatalog
from adapters.ports import (
    CatalogPort,
    DropShipPort,
    ErpPort,
    ListingPort,
    MarketplacePort,
    NotificationPort,
    SettlementSourcePort,
    StorePort,
    TaxPort,
    WmsPort,
)
from adapters.returns_desk import ReturnsDesk, ReturnsDeskSettings
from adapters.sendgrid import SendGridNotifier, SendGridSettings, parse_template_ids
from adapters.shipbob import SUPPLIER_TOPICS, ShipBobDropShip, ShipBobSettings
from adapters.shipstation import ShipStationSettings, ShipStationWms
from adapters.shopify import ShopifyMarketplace, ShopifySettings
from adapters.shopify_catalog import ShopifyListings
from adapters.shopify_payouts import ShopifyPayouts
from adapters.store_pos import StorePos, StorePosSettings
from adapters.tryton import TrytonErp, TrytonSettings
from adapters.tryton_catalog import TrytonCatalog
from adapters.tryton_rpc import TrytonRpc
from adapters.walmart import WalmartClient, WalmartMarketplace, WalmartSettings
from adapters.walmart_catalog import WalmartListings
from adapters.walmart_recon import WalmartRecon
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
    catalog: CatalogPort  # the ERP's item master
    marketplaces: dict[Channel, MarketplacePort] = field(default_factory=dict)
    settlement_sources: dict[Channel, SettlementSourcePort] = field(default_factory=dict)
    listings: dict[Channel, ListingPort] = field(default_factory=dict)
    subscriptions: list[Subscription] = field(default_factory=list)
    _closers: list[object] = field(default_factory=list)

    def marketplace(self, channel: Channel) -> MarketplacePort:
        try:
            return self.marketplaces[channel]
        except KeyError:
            raise LookupError(f"no marketplace adapter configured for {channel.value}") from None

    def settlement_source(self, channel: Channel) -> SettlementSourcePort:
        try:
            return self.settlement_sources[channel]
        except KeyError:
            raise LookupError(f"no settlement import for {channel.value} yet") from None

    def listing(self, channel: Channel) -> ListingPort:
        try:
            return self.listings[channel]
        except KeyError:
            raise LookupError(f"no catalogue publication to {channel.value} yet") from None

    async def aclose(self) -> None:
        for adapter in self._closers:
            await adapter.aclose()  # type: ignore[attr-defined]


def partner_settings(settings: Settings) -> list[PartnerSettings]:
    """The settings of every partner this configuration talks to (the chosen ERP only)."""
    env = settings.env
    erp = TrytonSettings if settings.erp == "tryton" else NetSuiteSettings
    kinds: list[type[PartnerSettings]] = [
        erp, AvaTaxSettings, ShipStationSettings, ShopifySettings, AmazonSettings,
        WalmartSettings, SendGridSettings, StorePosSettings, ShipBobSettings, ReturnsDeskSettings,
    ]  # fmt: skip
    return [kind.from_env(env) for kind in kinds]


def build_erp(settings: Settings) -> NetSuiteErp | TrytonErp:
    """`ERP=netsuite` (the sandbox's NetSuite, or a real account) or `ERP=tryton`."""
    if settings.erp == "tryton":
        tryton = TrytonSettings.from_env(settings.env)
        rpc = TrytonRpc(tryton.url, tryton.database, tryton.user, tryton.password)
        return TrytonErp(rpc, web_shop=tryton.web_shop)
    if settings.erp != "netsuite":
        raise ValueError(f"ERP={settings.erp!r}: expected netsuite or tryton")
    netsuite = NetSuiteSettings.from_env(settings.env)
    return NetSuiteErp(
        netsuite.url,
        netsuite.token,
        customer_id=netsuite.customer_id,
        subsidiary_id=netsuite.subsidiary_id,
        location_id=netsuite.location_id,
        adjustment_account_id=netsuite.adjustment_account_id,
        calls_per_second=settings.erp_calls_per_second,
    )


def build_adapters(settings: Settings) -> Adapters:
    """Every adapter of a process, each from its own settings (read from `settings.env`)."""
    env = settings.env
    erp = build_erp(settings)
    avatax = AvaTaxSettings.from_env(env)
    tax = AvaTax(
        avatax.url,
        avatax.account_id,
        avatax.license_key,
        company_code=avatax.company_code,
        ship_from=parse_ship_from(avatax.ship_from),
    )
    shipstation = ShipStationSettings.from_env(env)
    wms = ShipStationWms(
        shipstation.url,
        shipstation.api_key,
        shipstation.api_secret,
        store_id=shipstation.store_id,
        v2_base_url=shipstation.v2_url,
        v2_api_key=shipstation.v2_api_key,
    )
    sendgrid = SendGridSettings.from_env(env)
    notifier = SendGridNotifier(
        sendgrid.url,
        sendgrid.api_key,
        from_email=sendgrid.from_email,
        from_name=sendgrid.from_name,
        template_ids=parse_template_ids(sendgrid.template_ids),
    )
    pos = StorePosSettings.from_env(env)
    stores = StorePos(pos.url, pos.client_key)
    shipbob = ShipBobSettings.from_env(env)
    supplier = ShipBobDropShip(shipbob.url, shipbob.api_token, shipbob.channel_id)
    shopify_settings = ShopifySettings.from_env(env)
    shopify = ShopifyMarketplace(
        shopify_settings.url, shopify_settings.access_token, shopify_settings.api_version
    )
    amazon_settings = AmazonSettings.from_env(env)
    amazon = SpApiClient(
        amazon_settings.url, amazon_settings.access_token, amazon_settings.marketplace_id
    )
    walmart_settings = WalmartSettings.from_env(env)
    walmart = WalmartClient(
        walmart_settings.url, walmart_settings.client_id, walmart_settings.client_secret
    )
    desk_settings = ReturnsDeskSettings.from_env(env)
    desk = ReturnsDesk(desk_settings.url, desk_settings.key)
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
            Channel.AMAZON: AmazonMarketplace(amazon, amazon_settings.seller_id),
            Channel.WALMART: WalmartMarketplace(walmart, walmart_settings.ship_node),
        },
        catalog=NetSuiteCatalog(erp) if isinstance(erp, NetSuiteErp) else TrytonCatalog(erp),
        listings={
            Channel.SHOPIFY: ShopifyListings(shopify),
            Channel.AMAZON: AmazonListings(amazon, amazon_settings.seller_id),
            Channel.WALMART: WalmartListings(walmart),
        },
        settlement_sources={
            Channel.AMAZON: AmazonSettlements(amazon),
            Channel.SHOPIFY: ShopifyPayouts(shopify),
            Channel.WALMART: WalmartRecon(walmart),
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
