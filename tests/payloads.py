"""Partner payloads the tests start from: our own examples in `tests/fixtures/`, written from
the vendors' published documentation (field names, nesting, types; values invented)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    """A fixture's bytes exactly as stored (what a signature is computed over)."""
    return (FIXTURES / f"{name}.json").read_bytes()


def payload(name: str) -> Any:
    """A fresh copy of a fixture: tests change theirs freely."""
    return json.loads(fixture_bytes(name))


def shopify_order_body() -> dict[str, Any]:
    """A Shopify `orders/create` delivery's body: two candles and a mug shipped to RI."""
    body: dict[str, Any] = payload("shopify_order")
    return body
