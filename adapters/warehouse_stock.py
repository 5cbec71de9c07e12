"""Stock port over the warehouse's reservation API (a stop-gap until the inventory service
owns available-to-promise): reserve per order key, release on cancel, commit on shipment."""

from __future__ import annotations

import httpx

from adapters.errors import BusinessError
from adapters.http import PartnerHttp
from canonical import ExceptionCode, ReservationRequest

SYSTEM = "warehouse"


class WarehouseStock:
    def __init__(self, base_url: str, api_key: str) -> None:
        self._http = PartnerHttp(SYSTEM, base_url, headers={"Authorization": f"Bearer {api_key}"})

    @staticmethod
    def _raise_for_error(response: httpx.Response) -> None:
        if response.is_success or response.status_code == 404:
            return
        try:
            body = response.json()
        except ValueError:
            body = {"error": "unknown", "message": response.text[:200]}
        code = (
            ExceptionCode.OUT_OF_STOCK
            if body.get("error") == "insufficient_stock"
            else ExceptionCode.WMS_REJECTED
        )
        raise BusinessError(SYSTEM, code, body.get("message") or str(body))

    async def reserve(self, request: ReservationRequest) -> None:
        response = await self._http.request(
            "PUT",
            f"/v1/reservations/{request.reservation_key}",
            json={"lines": [line.model_dump() for line in request.lines]},
        )
        self._raise_for_error(response)

    async def release(self, reservation_key: str) -> None:
        response = await self._http.request("DELETE", f"/v1/reservations/{reservation_key}")
        self._raise_for_error(response)

    async def commit(self, reservation_key: str) -> None:
        response = await self._http.request("POST", f"/v1/reservations/{reservation_key}/commit")
        self._raise_for_error(response)

    async def aclose(self) -> None:
        await self._http.aclose()
