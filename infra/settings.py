"""Configuration from the environment (and `.env`): every setting is listed in `.env.example`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from dotenv import load_dotenv

from infra.build import PROJECT_ROOT, build_id
from infra.customer_keys import CustomerKeys, customer_keys_at
from infra.keyring import Keyring, load_keyring

DATA_DIR = PROJECT_ROOT / ".data"

ORDER_TASK_QUEUE = "orders"

# Standard Webhooks secret the sandbox supplier signs with: "whsec_" + base64 of the key.
SANDBOX_DROPSHIP_SECRET = "whsec_c2FuZGJveC1kcm9wc2hpcC1zaWduaW5nLWtleQ=="

# Our own secrets and the local demo's values of them (public: never for production).
DEMO_SECRETS = {
    "SHOPIFY_WEBHOOK_SECRET": "dev-shopify-webhook-secret",
    "WMS_WEBHOOK_TOKEN": "change-me-wms-token",
    "POS_API_KEY": "change-me-pos-key",
    "INVENTORY_API_KEY": "change-me-inventory-key",
    "RETURNS_API_KEY": "change-me-returns-key",
    "AMAZON_WEBHOOK_TOKEN": "change-me-amazon-token",
    "DROPSHIP_WEBHOOK_SECRET": SANDBOX_DROPSHIP_SECRET,
}


@dataclass(frozen=True)
class Settings:
    temporal_address: str | None
    temporal_namespace: str
    temporal_ui_port: int
    task_queue: str
    worker_deployment_name: str  # Worker Versioning: the deployment every worker belongs to
    worker_build_id: str  # ... and this build's version of it
    database_url: str
    # Where each customer's data key lives (crypto-shredding, infra/customer_keys.py), and how
    # long a process keeps a key it read: an erasure reaches every process within that time
    customer_keys_url: str
    customer_key_cache_seconds: float
    sandbox_url: str
    webhooks_port: int
    webhooks_public_url: str
    wms_webhook_token: str
    # Inbound webhooks
    shopify_webhook_secrets: list[str]
    shopify_pickup_locations: dict[str, str]  # Shopify location name -> store node
    pos_api_key: str
    inventory_api_key: str
    inbox_redrive_seconds: float
    inbox_retention_days: float  # settled deliveries' bodies are emptied after this long
    # Drop-ship suppliers: the Standard Webhooks secret they sign with
    dropship_webhook_secret: str
    # Returns: the policy, where parcels go, the returns desks' key to our webhook
    return_window_days: int
    return_receipt_days: int
    return_non_returnable_skus: list[str]
    returns_node: str
    returns_api_key: str
    # Inventory service
    inventory_database_url: str
    inventory_network: Path | None  # None: the bundled demo network for the ERP
    inventory_push_interval_seconds: float
    inventory_calls_per_second: dict[str, float]
    inventory_reconcile_minutes: float
    inventory_reconcile_settle_minutes: float
    backorder_retry_minutes: float
    # Amazon: the SQS bridge's token, the returns poll
    amazon_webhook_token: str
    amazon_returns_poll_minutes: float
    amazon_returns_lookback_days: float
    # Walmart: the polls
    walmart_poll_seconds: float
    # Settlements: how often each channel's payouts are imported, and how far back
    settlement_import_minutes: float
    settlement_lookback_days: float
    settlement_accounts: Path | None  # None: the bundled account mapping of the ERP
    # Channels whose orders complete only once their settlement paid them (none by default)
    settlement_channels: tuple[str, ...]
    settlement_overdue_days: float
    settlement_tolerance_minor_units: int
    # Channel calls per second, shared by all workers (each channel's documented limit)
    channel_calls_per_second: dict[str, float]
    # Catalogue: the channels it is published to, how often, how each lists the items
    catalog_channels: tuple[str, ...]
    catalog_publish_minutes: float
    catalog_mappings: Path | None  # None: the bundled catalog/mappings/
    # ERP: which one (netsuite = the sandbox's NetSuite, tryton = a real Tryton), and its quota
    # (each ERP's own settings are its adapter's: NetSuiteSettings, TrytonSettings)
    erp: str
    erp_max_concurrent_calls: int
    erp_calls_per_second: float
    # Order workflow
    shipment_sla_hours: float
    # Click-and-collect: the store's time to pick, the customer's to collect
    pick_sla_hours: float
    pickup_window_days: float
    # Where it runs: local (the demo stack's defaults allowed) or production
    app_env: str
    # Temporal Cloud: an API key, or the paths of an mTLS client certificate and its key
    temporal_api_key: str
    temporal_tls_cert: Path | None
    temporal_tls_key: Path | None
    # The codec server: its port, the Web UI origins it answers, the bearer token it wants
    codec_port: int
    # PAYLOAD_ENCRYPTION=off: payloads stored plain, for measuring the codec's cost only
    # (`bench/o2c_throughput.py`); refused outside the local demo
    payload_encryption: bool
    codec_cors_origins: list[str]
    codec_auth_token: str
    # The worker's probe (/healthz, /readyz): its port (None: none) and address
    worker_probe_port: int | None
    worker_metrics_port: int | None  # Prometheus: the SDK's metrics and the sagas' counts
    probe_host: str
    log_dir: Path  # where the local stack (`make run`/`make demo`) writes its services' logs
    # The local stack's own files (its Temporal database, the inbox's SQLite database, the
    # generated payload keys, logs): one per stack, so two stacks never mix
    data_dir: Path
    # Every variable as read, for the adapters' own settings (adapters/config.py).
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def keyring(self) -> Keyring:
        """The payload encryption keys (`infra/keyring.py`); read on first use."""
        return load_keyring(self.env, self.data_dir / "payload-keys")

    @cached_property
    def customer_keys(self) -> CustomerKeys:
        """Each customer's data key (`infra/customer_keys.py`); one store per process and
        database."""
        return customer_keys_at(
            self.customer_keys_url, self.keyring, self.customer_key_cache_seconds
        )

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    def unsafe_secrets(self) -> list[str]:
        """Our secrets' variables left empty or at the local demo's value."""
        return [name for name, demo in DEMO_SECRETS.items() if self.env.get(name, "") in ("", demo)]

    @property
    def codec_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.codec_port}"

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or "localhost:7233"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        if env is None:
            load_dotenv(PROJECT_ROOT / ".env")
            env = os.environ

        def get(name: str, default: str) -> str:
            return env.get(name) or default

        sandbox = get("SANDBOX_URL", "http://127.0.0.1:8100").rstrip("/")
        erp = get("ERP", "netsuite").lower()
        data_dir = Path(get("DATA_DIR", str(DATA_DIR))).absolute()
        database_url = get("DATABASE_URL", f"sqlite:///{data_dir / 'orchestrator.db'}")
        webhooks_port = int(get("WEBHOOKS_PORT", "8000"))
        ui_port = int(get("TEMPORAL_UI_PORT", "8233"))
        return cls(
            temporal_address=env.get("TEMPORAL_ADDRESS") or None,
            temporal_namespace=get("TEMPORAL_NAMESPACE", "default"),
            temporal_ui_port=ui_port,
            task_queue=get("ORDER_TASK_QUEUE", ORDER_TASK_QUEUE),
            worker_deployment_name=get("WORKER_DEPLOYMENT_NAME", "retail-orchestrator"),
            worker_build_id=env.get("WORKER_BUILD_ID") or build_id(),
            database_url=database_url,
            customer_keys_url=get("CUSTOMER_KEYS_DATABASE_URL", database_url),
            customer_key_cache_seconds=float(get("CUSTOMER_KEY_CACHE_SECONDS", "30")),
            sandbox_url=sandbox,
            webhooks_port=webhooks_port,
            webhooks_public_url=get("WEBHOOKS_PUBLIC_URL", f"http://127.0.0.1:{webhooks_port}"),
            wms_webhook_token=get("WMS_WEBHOOK_TOKEN", DEMO_SECRETS["WMS_WEBHOOK_TOKEN"]),
            shopify_webhook_secrets=[
                secret
                for secret in (
                    get("SHOPIFY_WEBHOOK_SECRET", DEMO_SECRETS["SHOPIFY_WEBHOOK_SECRET"]),
                    env.get("SHOPIFY_WEBHOOK_SECRET_PREVIOUS", ""),
                )
                if secret
            ],
            shopify_pickup_locations=dict(
                (name.strip(), node.strip())
                for name, _, node in (
                    pair.partition("=")
                    for pair in env.get("SHOPIFY_PICKUP_LOCATIONS", "").split(";")
                    if "=" in pair
                )
            ),
            inbox_redrive_seconds=float(get("INBOX_REDRIVE_SECONDS", "5")),
            inbox_retention_days=float(get("INBOX_RETENTION_DAYS", "30")),
            pos_api_key=get("POS_API_KEY", DEMO_SECRETS["POS_API_KEY"]),
            inventory_api_key=get("INVENTORY_API_KEY", DEMO_SECRETS["INVENTORY_API_KEY"]),
            dropship_webhook_secret=get(
                "DROPSHIP_WEBHOOK_SECRET", DEMO_SECRETS["DROPSHIP_WEBHOOK_SECRET"]
            ),
            return_window_days=int(get("RETURN_WINDOW_DAYS", "30")),
            return_receipt_days=int(get("RETURN_RECEIPT_DAYS", "14")),
            return_non_returnable_skus=[
                sku.strip()
                for sku in get("RETURN_NON_RETURNABLE_SKUS", "MATCH-LONG-50").split(",")
                if sku.strip()
            ],
            returns_node=get("RETURNS_NODE", "WH-EAST"),
            returns_api_key=get("RETURNS_API_KEY", DEMO_SECRETS["RETURNS_API_KEY"]),
            inventory_database_url=get("INVENTORY_DATABASE_URL", database_url),
            inventory_network=Path(env["INVENTORY_NETWORK"])
            if env.get("INVENTORY_NETWORK")
            else None,
            inventory_push_interval_seconds=float(get("INVENTORY_PUSH_INTERVAL_SECONDS", "0.6")),
            inventory_calls_per_second={
                # Shopify: one inventorySetQuantities sets up to 250 SKUs (about 10 points).
                "shopify": float(get("SHOPIFY_INVENTORY_CALLS_PER_SECOND", "2")),
                # Amazon: patchListingsItem, one SKU per call, 5 requests/s.
                "amazon": float(get("AMAZON_INVENTORY_CALLS_PER_SECOND", "5")),
                # Walmart: PUT /v3/inventory, one SKU per call.
                "walmart": float(get("WALMART_INVENTORY_CALLS_PER_SECOND", "5")),
            },
            inventory_reconcile_minutes=float(get("INVENTORY_RECONCILE_MINUTES", "60")),
            inventory_reconcile_settle_minutes=float(
                get("INVENTORY_RECONCILE_SETTLE_MINUTES", "10")
            ),
            backorder_retry_minutes=float(get("BACKORDER_RETRY_MINUTES", "60")),
            amazon_webhook_token=get("AMAZON_WEBHOOK_TOKEN", DEMO_SECRETS["AMAZON_WEBHOOK_TOKEN"]),
            amazon_returns_poll_minutes=float(get("AMAZON_RETURNS_POLL_MINUTES", "30")),
            amazon_returns_lookback_days=float(get("AMAZON_RETURNS_LOOKBACK_DAYS", "3")),
            walmart_poll_seconds=float(get("WALMART_POLL_SECONDS", "60")),
            settlement_import_minutes=float(get("SETTLEMENT_IMPORT_MINUTES", "60")),
            settlement_lookback_days=float(get("SETTLEMENT_LOOKBACK_DAYS", "30")),
            settlement_accounts=Path(env["SETTLEMENT_ACCOUNTS"])
            if env.get("SETTLEMENT_ACCOUNTS")
            else None,
            settlement_channels=_names(get("SETTLEMENT_CHANNELS", "")),
            settlement_overdue_days=float(get("SETTLEMENT_OVERDUE_DAYS", "14")),
            settlement_tolerance_minor_units=int(get("SETTLEMENT_TOLERANCE_MINOR_UNITS", "1")),
            channel_calls_per_second={
                # Shopify: 100 points/s (standard plan), about 20 points per call.
                "shopify": float(get("SHOPIFY_CALLS_PER_SECOND", "5")),
                # Amazon: getOrderItems, read before every confirmation, is 0.5 requests/s.
                "amazon": float(get("AMAZON_CALLS_PER_SECOND", "0.5")),
                "walmart": float(get("WALMART_CALLS_PER_SECOND", "5")),
            },
            catalog_channels=_names(get("CATALOG_CHANNELS", "amazon,shopify,walmart")),
            catalog_publish_minutes=float(get("CATALOG_PUBLISH_MINUTES", "60")),
            catalog_mappings=Path(env["CATALOG_MAPPINGS"]) if env.get("CATALOG_MAPPINGS") else None,
            erp=erp,
            # Per worker process; calls per second are enforced for all workers together.
            erp_max_concurrent_calls=int(get("ERP_MAX_CONCURRENT_CALLS", "4")),
            erp_calls_per_second=float(get("ERP_CALLS_PER_SECOND", "10")),
            shipment_sla_hours=float(get("SHIPMENT_SLA_HOURS", "48")),
            pick_sla_hours=float(get("PICK_SLA_HOURS", "2")),
            pickup_window_days=float(get("PICKUP_WINDOW_DAYS", "5")),
            app_env=get("APP_ENV", "local").lower(),
            temporal_api_key=env.get("TEMPORAL_API_KEY", ""),
            temporal_tls_cert=Path(env["TEMPORAL_TLS_CERT"])
            if env.get("TEMPORAL_TLS_CERT")
            else None,
            temporal_tls_key=Path(env["TEMPORAL_TLS_KEY"]) if env.get("TEMPORAL_TLS_KEY") else None,
            codec_port=int(get("CODEC_PORT", "8234")),
            payload_encryption=get("PAYLOAD_ENCRYPTION", "on").lower() != "off",
            codec_cors_origins=[
                origin.strip()
                for origin in get(
                    "CODEC_CORS_ORIGINS", f"http://localhost:{ui_port},http://127.0.0.1:{ui_port}"
                ).split(",")
                if origin.strip()
            ],
            codec_auth_token=env.get("CODEC_AUTH_TOKEN", ""),
            worker_probe_port=int(env["WORKER_PROBE_PORT"])
            if env.get("WORKER_PROBE_PORT")
            else None,
            probe_host=get("PROBE_HOST", "127.0.0.1"),
            worker_metrics_port=(
                int(env["WORKER_METRICS_PORT"]) if env.get("WORKER_METRICS_PORT") else None
            ),
            log_dir=Path(get("LOG_DIR", str(data_dir / "logs"))),
            data_dir=data_dir,
            env=dict(env),
        )


def _names(text: str) -> tuple[str, ...]:
    """`a, B,,c` as ('a', 'b', 'c')."""
    return tuple(name.strip().lower() for name in text.split(",") if name.strip())
