"""The returns desks (warehouse and stores) push their events to us: we only subscribe.
No public contract exists for a returns desk; the shape is ours (README,
sandbox/returns_desk.py)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from adapters.config import PartnerSettings
from adapters.errors import BusinessError
from adapters.http import PartnerHttp
from canonical import ExceptionCode


class ReturnsDeskSettings(PartnerSettings):
    """The returns desks: RETURNS_DESK_URL, RETURNS_DESK_KEY."""

    secret_fields: ClassVar[tuple[str, ...]] = ("key",)
    sandbox_path: ClassVar[str] = "/returns/v1"
    configured_url: str | None = Field(None, validation_alias="RETURNS_DESK_URL")
    key: str = Field("sandbox-returns-desk-key", validation_alias="RETURNS_DESK_KEY")


SYSTEM = "returns"


class ReturnsDesk:
    def __init__(self, base_url: str, api_key: str) -> None:
        self._http = PartnerHttp(SYSTEM, base_url, headers={"Authorization": f"Bearer {api_key}"})

    async def subscribe(self, target_url: str, token: str) -> None:
        """Have the desks post their events to `target_url` with our bearer token."""
        response = await self._http.request(
            "POST",
            "/webhooks",
            json={"url": target_url, "headers": {"Authorization": f"Bearer {token}"}},
        )
        if not response.is_success:
            raise BusinessError(SYSTEM, ExceptionCode.WMS_REJECTED, response.text[:200])

    async def aclose(self) -> None:
        await self._http.aclose()
