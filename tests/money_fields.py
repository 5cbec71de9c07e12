"""Finding money a partner request sends without saying its currency."""

from __future__ import annotations

from typing import Any

MONEY_WORDS = ("amount", "price", "rate", "cost", "total", "paid")
NOT_MONEY = ("quantity", "ratelimit", "percent", "count", "rated", "rates")


def _is_money(key: str, value: Any) -> bool:
    name = key.lower()
    if any(word in name for word in NOT_MONEY) or isinstance(value, bool):
        return False
    number = isinstance(value, int | float) or (
        isinstance(value, str) and value.replace(".", "", 1).lstrip("-").isdigit()
    )
    return number and any(word in name for word in MONEY_WORDS)


def _names_currency(node: dict[str, Any]) -> bool:
    return any("currency" in key.lower() for key in node)


def money_without_currency(body: Any, path: str = "$", scoped: bool = False) -> list[str]:
    """The paths of amounts in `body` with no currency beside them or in an object above
    (a count of units, such as Walmart's `statusQuantity.amount`, is not money)."""
    found: list[str] = []
    if isinstance(body, dict):
        scoped = scoped or _names_currency(body)
        for key, value in body.items():
            if "quantity" in key.lower():
                continue
            if _is_money(key, value) and not scoped:
                found.append(f"{path}.{key}")
            found += money_without_currency(value, f"{path}.{key}", scoped)
    elif isinstance(body, list):
        for index, value in enumerate(body):
            found += money_without_currency(value, f"{path}[{index}]", scoped)
    return found
