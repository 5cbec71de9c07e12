"""Each adapter's own settings: the variable names of .env.example, from the environment or a
given mapping; partner URLs left unset point at the sandbox."""

from __future__ import annotations

import pytest

from adapters.netsuite import NetSuiteSettings
from adapters.shipstation import ShipStationSettings


def test_unset_urls_point_at_the_sandbox_and_empty_values_count_as_unset() -> None:
    netsuite = NetSuiteSettings.from_env(
        {"SANDBOX_URL": "http://127.0.0.1:9/", "NETSUITE_TOKEN": ""}
    )
    assert netsuite.url == "http://127.0.0.1:9/netsuite/services/rest"
    assert netsuite.token == "sandbox-token"
    real = NetSuiteSettings.from_env(
        {"NETSUITE_BASE_URL": "https://1234.suitetalk.api.netsuite.com/services/rest/"}
    )
    assert real.url == "https://1234.suitetalk.api.netsuite.com/services/rest"


def test_read_from_the_environment_by_the_documented_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPSTATION_API_KEY", "live-key")
    monkeypatch.setenv("SHIPSTATION_V2_URL", "https://api.shipstation.com")
    shipstation = ShipStationSettings()
    assert (shipstation.api_key, shipstation.v2_url) == ("live-key", "https://api.shipstation.com")
