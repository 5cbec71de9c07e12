"""Store port over a POS's pickup API (`/pos/v1`): pick tasks upserted per store and order,
cancelled, handed over once per handover id; store events are pushed to our webhook."""

from __future__ import annotations

from typing import ClassVar

import httpx
from pydantic import Field

from adapters.config import PartnerSettings
from adapters.errors import BusinessError, TransientError
from adapters.http import PartnerHttp
from canonical import ExceptionCode
from canonical.pickup import Handover, PickTask


class StorePosSettings(PartnerSettings):
    """The stores' POS pickup API: POS_API_URL, POS_CLIENT_KEY."""

    sandbox_path: ClassVar[str] = "/pos/v1"
    configured_url: str | None = Field(None, validation_alias="POS_API_URL")
    client_key: str = Field("sandbox-pos-client-key", validation_alias="POS_CLIENT_KEY")


SYSTEM = "pos"


class StorePos:
    def __init__(self, base_url: str, api_key: str) -> None:
        self._http = PartnerHttp(SYSTEM, base_url, headers={"Authorization": f"Bearer {api_key}"})

    @staticmethod
    def _raise_for_error(response: httpx.Response, missing_ok: bool = False) -> None:
        if response.is_success or (missing_ok and response.status_code == 404):
            return
        try:
            body = response.json()
        except ValueError:
            body = {"error": str(response.status_code), "message": response.text[:200]}
        message = f"{body.get('error')}: {body.get('message')}"
        if response.status_code in (401, 403):
            raise TransientError(SYSTEM, message)  # credentials: fixed by ops, not by the order
        raise BusinessError(SYSTEM, ExceptionCode.STORE_REJECTED, message)

    async def create_pick_task(self, task: PickTask) -> str:
        response = await self._http.request(
            "PUT",
            f"/stores/{task.store}/pickups/{task.order_key}",
            json={
                "order_number": task.order_number,
                "customer": task.customer.model_dump(mode="json"),
                "lines": [line.model_dump() for line in task.lines],
                "pick_by": task.pick_by.isoformat(),
                "ship_to": task.ship_to.model_dump(mode="json") if task.ship_to else None,
            },
        )
        self._raise_for_error(response)
        return str(response.json()["id"])

    async def cancel_pick_task(self, store: str, order_key: str) -> None:
        response = await self._http.request("DELETE", f"/stores/{store}/pickups/{order_key}")
        self._raise_for_error(response, missing_ok=True)

    async def hand_over(self, handover: Handover) -> str:
        response = await self._http.request(
            "POST",
            f"/stores/{handover.store}/pickups/{handover.order_key}/handovers",
            json={
                "handover_id": handover.handover_id,
                "lines": [line.model_dump() for line in handover.lines],
            },
        )
        self._raise_for_error(response)
        return str(response.json()["receipt_id"])

    async def subscribe(self, target_url: str, token: str) -> None:
        """Have the POS push store events to `target_url` with our bearer token."""
        response = await self._http.request(
            "POST",
            "/webhooks",
            json={"url": target_url, "headers": {"Authorization": f"Bearer {token}"}},
        )
        self._raise_for_error(response)

    async def aclose(self) -> None:
        await self._http.aclose()
