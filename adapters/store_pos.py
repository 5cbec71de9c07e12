"""Store port over a POS's pickup API (`/pos/v1`): pick tasks upserted per store and order,
cancelled, handed over once per handover id; store events are pushed to our webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import Field

from adapters.config import PartnerSettings
from adapters.errors import BusinessError, TransientError
from adapters.http import PartnerHttp
from canonical import ExceptionCode, Shipment
from canonical.pickup import Handover, PickLine, PickTask, store_parcel


class StorePosSettings(PartnerSettings):
    """The stores' POS pickup API: POS_API_URL, POS_CLIENT_KEY."""

    secret_fields: ClassVar[tuple[str, ...]] = ("client_key",)
    sandbox_path: ClassVar[str] = "/pos/v1"
    configured_url: str | None = Field(None, validation_alias="POS_API_URL")
    client_key: str = Field("sandbox-pos-client-key", validation_alias="POS_CLIENT_KEY")


SYSTEM = "pos"
# The POS's 409 codes for a task whose goods left: it cannot be withdrawn any more.
GOODS_LEFT = {
    "shipped": ExceptionCode.ALREADY_SHIPPED,
    "collected": ExceptionCode.ALREADY_COLLECTED,
}


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        return {"error": str(response.status_code), "message": response.text[:200]}
    return body


def _error_code(response: httpx.Response) -> str:
    return str(_error_body(response).get("error", ""))


class StorePos:
    def __init__(self, base_url: str, api_key: str) -> None:
        self._http = PartnerHttp(SYSTEM, base_url, headers={"Authorization": f"Bearer {api_key}"})

    @staticmethod
    def _raise_for_error(response: httpx.Response, missing_ok: bool = False) -> None:
        if response.is_success or (missing_ok and response.status_code == 404):
            return
        body = _error_body(response)
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
        """A task whose parcel left is `ALREADY_SHIPPED` (the group ships after all), one the
        customer collected `ALREADY_COLLECTED` (the order completes after all); refused
        otherwise, it is the store's refusal."""
        response = await self._http.request("DELETE", f"/stores/{store}/pickups/{order_key}")
        code = _error_code(response) if response.status_code == 409 else ""
        if code in GOODS_LEFT:
            raise BusinessError(SYSTEM, GOODS_LEFT[code], f"{order_key} was already {code}")
        self._raise_for_error(response, missing_ok=True)

    async def _task(self, store: str, order_key: str) -> dict[str, Any] | None:
        """The task as the store's staff left it; None when the POS has none."""
        response = await self._http.request("GET", f"/stores/{store}/pickups/{order_key}")
        if response.status_code == 404:
            return None
        self._raise_for_error(response)
        task: dict[str, Any] = response.json()
        return task

    async def collected(self, store: str, order_key: str) -> list[PickLine]:
        task = await self._task(store, order_key)
        if task is None or task.get("status") != "collected":
            return []
        return [PickLine.model_validate(line) for line in task.get("collected") or task["lines"]]

    async def shipments(self, store: str, order_key: str) -> list[Shipment]:
        """What the store shipped for the task, read back from it (none until then)."""
        task = await self._task(store, order_key)
        if task is None or task.get("status") != "shipped":
            return []
        shipped_at = task.get("shipped_at")
        return [
            store_parcel(
                store,
                order_key,
                [PickLine.model_validate(line) for line in task["lines"]],
                task.get("carrier"),
                task["tracking_number"],
                datetime.fromisoformat(shipped_at).date() if shipped_at else None,
            )
        ]

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
