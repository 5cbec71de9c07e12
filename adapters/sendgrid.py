"""Customer notifications over Twilio SendGrid v3 `POST /v3/mail/send` with dynamic templates.
SendGrid has no idempotency key: a call retried after a lost answer may send twice (e-mail is
at-least-once); our notification id travels in `custom_args` so duplicates can be recognised
in SendGrid's event webhook."""

from __future__ import annotations

from typing import ClassVar

import httpx
from pydantic import Field

from adapters.config import PartnerSettings
from adapters.errors import BusinessError, TransientError
from adapters.http import PartnerHttp, error_list
from canonical import ExceptionCode
from canonical.notification import Notification, NotificationTemplate


class SendGridSettings(PartnerSettings):
    """Twilio SendGrid v3 mail send: SENDGRID_*, NOTIFY_FROM_*."""

    secret_fields: ClassVar[tuple[str, ...]] = ("api_key",)
    sandbox_path: ClassVar[str] = "/sendgrid"
    configured_url: str | None = Field(None, validation_alias="SENDGRID_API_URL")
    api_key: str = Field("SG.sandbox", validation_alias="SENDGRID_API_KEY")
    template_ids: str = Field("", validation_alias="SENDGRID_TEMPLATE_IDS")
    from_email: str = Field("orders@northwick-candle.example", validation_alias="NOTIFY_FROM_EMAIL")
    from_name: str = Field("Northwick Candle Co.", validation_alias="NOTIFY_FROM_NAME")


SYSTEM = "sendgrid"


def default_template_ids() -> dict[NotificationTemplate, str]:
    """The sandbox's template ids; a real account sets SENDGRID_TEMPLATE_IDS."""
    return {template: f"d-{template.value.replace('_', '')}" for template in NotificationTemplate}


def parse_template_ids(setting: str) -> dict[NotificationTemplate, str]:
    """`ready_for_pickup=d-1a2b…,pickup_expired=d-3c4d…` over the defaults."""
    ids = default_template_ids()
    for pair in filter(None, (p.strip() for p in setting.split(","))):
        name, _, template_id = pair.partition("=")
        try:
            ids[NotificationTemplate(name.strip())] = template_id.strip()
        except ValueError:
            names = ", ".join(t.value for t in NotificationTemplate)
            raise ValueError(
                f"SENDGRID_TEMPLATE_IDS: unknown template {name!r}; one of {names}"
            ) from None
    return ids


class SendGridNotifier:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        from_email: str,
        from_name: str,
        template_ids: dict[NotificationTemplate, str],
    ) -> None:
        self._http = PartnerHttp(SYSTEM, base_url, headers={"Authorization": f"Bearer {api_key}"})
        self._from = {"email": from_email, "name": from_name}
        self._template_ids = template_ids

    async def _sent(self, notification_id: str) -> str | None:
        """The message id of what was already sent under `notification_id` (Email Activity,
        searched by the custom argument every message carries), None when nothing was."""
        response = await self._http.request(
            "GET",
            "/v3/messages",
            params={"query": f"unique_args['notification_id']=\"{notification_id}\"", "limit": 1},
        )
        self._raise_for_error(response)
        messages = response.json().get("messages") or []
        # Activity's msg_id is the X-Message-Id followed by the relay's suffix.
        return str(messages[0]["msg_id"]).split(".", 1)[0] if messages else None

    async def send(self, notification: Notification) -> str:
        """Returns SendGrid's message id (`X-Message-Id`). A message already sent under the
        notification's id (the answer to an earlier attempt was lost) is not sent again; the
        search cannot see a message SendGrid has not indexed yet (seconds), so a retry within
        that window may still send twice."""
        sent = await self._sent(notification.notification_id)
        if sent is not None:
            return sent
        recipient = {"email": notification.to_email}
        if notification.to_name:
            recipient["name"] = notification.to_name
        response = await self._http.request(
            "POST",
            "/v3/mail/send",
            json={
                "from": self._from,
                "personalizations": [
                    {
                        "to": [recipient],
                        "dynamic_template_data": notification.data,
                        "custom_args": {"notification_id": notification.notification_id},
                    }
                ],
                "template_id": self._template_ids[notification.template],
            },
        )
        self._raise_for_error(response)
        return response.headers.get("X-Message-Id", "")

    @staticmethod
    def _raise_for_error(response: httpx.Response) -> None:
        if response.is_success:
            return
        message = "; ".join(
            f"{e['field']}: {e.get('message', '')}" if e.get("field") else str(e.get("message", ""))
            for e in error_list(response)
        )
        if response.status_code in (401, 403):
            raise TransientError(SYSTEM, f"HTTP {response.status_code}: {message}")  # ops fix keys
        raise BusinessError(SYSTEM, ExceptionCode.NOTIFICATION_REJECTED, message)

    async def aclose(self) -> None:
        await self._http.aclose()
