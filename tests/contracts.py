"""Access to the shared partner contracts beside the project (`../shared/contracts`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONTRACTS = Path(__file__).resolve().parents[2] / "shared" / "contracts"


def contract(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONTRACTS / f"{name}.json").read_text())
    return data


def shopify_order_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(contract("shopify_orders_create")["raw_body"])
    return body
