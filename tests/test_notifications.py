"""Customer notifications over the SendGrid v3 mail API (the sandbox plays SendGrid and the
customer's inbox): the message's shape, template ids, and error classification."""

from __future__ import annotations

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notification import NotificationActivities
from adapters.errors import TransientError
from adapters.registry import build_adapters
from adapters.sendgrid import SendGridNotifier, SendGridSettings, parse_template_ids
from canonical import ExceptionCode
from canonical.notification import Notification, NotificationTemplate
from tests.conftest import SandboxHandle

READY = Notification(
    notification_id="shopify-1042:ready_for_pickup",
    template=NotificationTemplate.READY_FOR_PICKUP,
    to_email="ana.souza@example.com",
    to_name="Ana Souza",
    data={"order_number": "#1042", "store": "Boston Newbury St"},
)


async def test_a_message_reaches_the_inbox_with_its_template_and_data(
    sandbox: SandboxHandle,
) -> None:
    settings = sandbox.settings()
    adapters = build_adapters(settings)
    message_id = await adapters.notifier.send(READY)
    (sent,) = httpx.get(f"{sandbox.url}/_sandbox/sendgrid/messages").json()
    assert sent["message_id"] == message_id and message_id
    assert sent["to"] == [{"email": "ana.souza@example.com", "name": "Ana Souza"}]
    sender = SendGridSettings.from_env(settings.env)
    assert sent["from"] == {"email": sender.from_email, "name": sender.from_name}
    assert sent["template_id"] == "d-readyforpickup"
    assert sent["dynamic_template_data"] == {"order_number": "#1042", "store": "Boston Newbury St"}
    assert sent["custom_args"] == {"notification_id": "shopify-1042:ready_for_pickup"}
    await adapters.aclose()


def test_template_ids_come_from_the_setting() -> None:
    ids = parse_template_ids("ready_for_pickup=d-0c9f1e, pickup_expired=d-77aa01")
    assert ids[NotificationTemplate.READY_FOR_PICKUP] == "d-0c9f1e"
    assert ids[NotificationTemplate.PICKUP_EXPIRED] == "d-77aa01"
    assert ids[NotificationTemplate.REFUND_ISSUED] == "d-refundissued"  # the default
    with pytest.raises(ValueError, match="unknown template 'shipped'"):
        parse_template_ids("shipped=d-1")


async def test_errors_are_classified(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    activities = NotificationActivities(adapters.notifier)
    bad_address = READY.model_copy(update={"to_email": "not-an-address"})
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(activities.notify_customer, bad_address)
    assert refused.value.type == ExceptionCode.NOTIFICATION_REJECTED.value
    assert refused.value.non_retryable and "personalizations.0.to" in refused.value.message
    sandbox.faults("sendgrid", throttle_next=1, retry_after_s=2)
    with pytest.raises(ApplicationError) as throttled:
        await ActivityEnvironment().run(activities.notify_customer, READY)
    assert throttled.value.type == "RateLimited" and not throttled.value.non_retryable
    await ActivityEnvironment().run(activities.notify_customer, READY)
    wrong_key = SendGridNotifier(
        SendGridSettings.from_env(sandbox.settings().env).url,
        "revoked-key",
        from_email="a@b.example",
        from_name="",
        template_ids=parse_template_ids(""),
    )
    with pytest.raises(TransientError, match="401"):
        await wrong_key.send(READY)
    assert len(httpx.get(f"{sandbox.url}/_sandbox/sendgrid/messages").json()) == 1
    await wrong_key.aclose()
    await adapters.aclose()
