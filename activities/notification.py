"""Customer notification activity."""

from temporalio import activity

from activities.errors import partner_call
from adapters.ports import NotificationPort
from canonical.notification import Notification


class NotificationActivities:
    def __init__(self, notifier: NotificationPort) -> None:
        self._notifier = notifier

    @activity.defn
    async def notify_customer(self, notification: Notification) -> str:
        with partner_call():
            return await self._notifier.send(notification)
