"""Webhook subscribers of a sandbox partner that pushes its events (the stores' POS, the
returns desks): one subscription per URL, with the headers to send (the bearer token)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandbox.webhook_sender import WebhookSender


class Subscribers:
    def __init__(self, sender: WebhookSender) -> None:
        self.sender = sender
        self.by_id: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.by_id)

    def add(self, url: str, headers: dict[str, str]) -> str:
        """Subscribing again with the same URL keeps the first subscription."""
        for sub_id, existing in self.by_id.items():
            if existing["url"] == url:
                return sub_id
        sub_id = uuid.uuid4().hex[:8]
        self.by_id[sub_id] = {"url": url, "headers": headers}
        return sub_id

    def notify(self, body: dict[str, Any]) -> None:
        for subscription in self.by_id.values():
            self.sender.post(subscription["url"], body, subscription["headers"])

    def route(self, api: APIRouter, path: str) -> None:
        """`POST path` with `{"url", "headers"}` subscribes; answers 201 with its id."""

        @api.post(path, status_code=201)
        async def subscribe(request: Request) -> JSONResponse:
            body = await request.json()
            sub_id = self.add(body["url"], body.get("headers") or {})
            return JSONResponse({"id": sub_id}, status_code=201)
