"""Outside the local demo nothing starts on a public default secret or without keys, nothing
starts on a trace exporter it cannot honour, and the webhooks service serves no API
documentation."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from bootstrap.secrets import UnsafeSettings, refuse_unsafe_settings
from infra.build import PROJECT_ROOT
from infra.keyring import new_key_line
from infra.settings import DEMO_SECRETS, Settings
from webhooks.app import create_app

PARTNER_SECRETS = [
    "NETSUITE_TOKEN", "AVATAX_LICENSE_KEY", "SHIPSTATION_API_KEY", "SHIPSTATION_API_SECRET",
    "SHIPSTATION_V2_API_KEY", "SHOPIFY_ACCESS_TOKEN", "AMAZON_ACCESS_TOKEN",
    "WALMART_CLIENT_SECRET", "SENDGRID_API_KEY", "POS_CLIENT_KEY", "DROPSHIP_API_TOKEN",
    "RETURNS_DESK_KEY",
]  # fmt: skip


def production(**env: str) -> dict[str, str]:
    """Every secret set to a value of its own, keys given, APP_ENV=production; then `env`."""
    secrets = {name: f"{name.lower()}-from-the-vault" for name in [*DEMO_SECRETS, *PARTNER_SECRETS]}
    return {**secrets, "PAYLOAD_KEYS": new_key_line("prod-1"), "APP_ENV": "production", **env}


def test_the_local_demo_starts_on_its_defaults() -> None:
    refuse_unsafe_settings(Settings.from_env({}))


def test_production_names_every_default_or_empty_secret() -> None:
    refuse_unsafe_settings(Settings.from_env(production()))
    env = production(WMS_WEBHOOK_TOKEN="change-me-wms-token", NETSUITE_TOKEN="", POS_API_KEY="")
    with pytest.raises(UnsafeSettings) as refused:
        refuse_unsafe_settings(Settings.from_env(env))
    assert str(refused.value).startswith("Refusing to start (APP_ENV=production): set ")
    for name in ("WMS_WEBHOOK_TOKEN", "NETSUITE_TOKEN", "POS_API_KEY"):
        assert name in str(refused.value)
    assert "INVENTORY_API_KEY" not in str(refused.value)


def test_a_real_partner_is_production_too() -> None:
    real = {"NETSUITE_BASE_URL": "https://1234567.suitetalk.api.netsuite.com/services/rest"}
    with pytest.raises(UnsafeSettings, match=r"\(real NetSuite\): set .*SHOPIFY_WEBHOOK_SECRET"):
        refuse_unsafe_settings(Settings.from_env(real))


def test_production_never_stores_payloads_plain() -> None:
    with pytest.raises(UnsafeSettings, match="PAYLOAD_ENCRYPTION=off would store customer data"):
        refuse_unsafe_settings(Settings.from_env(production(PAYLOAD_ENCRYPTION="off")))
    refuse_unsafe_settings(Settings.from_env({"PAYLOAD_ENCRYPTION": "off"}))  # a local benchmark


def test_production_without_keys_is_refused() -> None:
    env = production()
    del env["PAYLOAD_KEYS"]
    with pytest.raises(UnsafeSettings, match="needs PAYLOAD_KEYS or PAYLOAD_KEYS_FILE"):
        refuse_unsafe_settings(Settings.from_env(env))


PRODUCTION = "Refusing to start (APP_ENV=production): set SHOPIFY_WEBHOOK_SECRET"
GRPC = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}


@pytest.mark.parametrize(
    ("env", "sentence"),
    [
        ({"APP_ENV": "production"}, PRODUCTION),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER=zipkin is not supported"),
        (GRPC, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported: use http/protobuf"),
        (
            {"SETTLEMENT_ACCOUNTS": str(PROJECT_ROOT / "pyproject.toml")},  # TOML, not a mapping
            "settlement accounts",
        ),
        ({"SETTLEMENT_ACCOUNTS": "/nonexistent/accounts.toml"}, "No such file or directory"),
    ],
)
def test_the_worker_refuses_in_one_sentence(env: dict[str, str], sentence: str) -> None:
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "worker.py")],
        env={"PATH": "/usr/bin:/bin", "TEMPORAL_ADDRESS": "127.0.0.1:9", **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 1
    assert sentence in result.stderr
    assert "Traceback" not in result.stderr


async def test_no_api_documentation_in_production() -> None:
    for env, served in ((production(), False), ({}, True)):
        app = create_app(Settings.from_env(env))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://webhooks") as http:
            for path in ("/docs", "/openapi.json"):
                assert ((await http.get(path)).status_code == 200) is served, (env, path)
