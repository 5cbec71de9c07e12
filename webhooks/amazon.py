"""`POST /webhooks/amazon?token=…`: Amazon SP-API ORDER_CHANGE notifications from the SQS bridge."""

from __future__ import annotations

from fastapi import APIRouter

from ingest.amazon import ORDER_CHANGE, SOURCE
from ingest.dispatcher import Dispatcher
from webhooks.token import token_router


def router(dispatcher: Dispatcher, token: str) -> APIRouter:
    return token_router(
        dispatcher,
        source=SOURCE,
        token=token,
        key=lambda body: (ORDER_CHANGE, str(body["NotificationMetadata"]["NotificationId"])),
        summary="SP-API ORDER_CHANGE notification (the SQS message body)",
    )
