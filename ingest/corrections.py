"""Support's corrections to an order delivery the channel sent incomplete (`inbox fix`): each
correctable source writes the correction into its own payload, so the delivery is then
admitted through the same mapping as any other."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from adapters.payload import PayloadError
from adapters.shopify import corrected_order
from adapters.walmart import corrected_po
from canonical.correction import OrderCorrection
from inbox.keys import WALMART_PO
from inbox.store import InboxEntry

Corrector = Callable[[dict[str, Any], OrderCorrection], dict[str, Any]]

CORRECTORS: dict[tuple[str, str], Corrector] = {
    ("shopify", "orders/create"): corrected_order,
    WALMART_PO: corrected_po,
}


def corrected_body(entry: InboxEntry, correction: OrderCorrection) -> bytes:
    """The entry's body with the correction applied; `PayloadError` when this kind of
    delivery cannot be corrected, or the correction does not fit it."""
    corrector = CORRECTORS.get((entry.source, entry.topic))
    if corrector is None:
        kinds = ", ".join(f"{source} {topic}" for source, topic in CORRECTORS)
        raise PayloadError(
            f"a {entry.source} {entry.topic} delivery cannot be corrected ({kinds} can)"
        )
    try:
        body = json.loads(entry.body)
    except ValueError as exc:
        raise PayloadError(f"its body is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise PayloadError("its body is not a JSON object")
    return json.dumps(corrector(body, correction)).encode()
