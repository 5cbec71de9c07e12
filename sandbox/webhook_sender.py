"""Outbound webhooks of a sandbox system: posted in the background with one shared client,
retried with backoff while the receiver fails, as partners do."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

import httpx

log = logging.getLogger("sandbox.webhooks")


class WebhookSender:
    def __init__(self, user_agent: str) -> None:
        self._user_agent = user_agent
        self._http: httpx.AsyncClient | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def post(self, target_url: str, body: Any, headers: dict[str, str] | None = None) -> None:
        """Post `body` as JSON (bytes are sent as they are: a signature covers them)."""
        self.spawn(self._deliver(target_url, body, headers or {}))

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _client(self) -> httpx.AsyncClient:
        """One client for all deliveries: building one costs a TLS context each time."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10, headers={"User-Agent": self._user_agent})
        return self._http

    async def _deliver(self, target_url: str, body: Any, headers: dict[str, str]) -> None:
        for attempt in range(10):
            try:
                if isinstance(body, bytes):
                    headers = {"Content-Type": "application/json", **headers}
                    response = await self._client().post(target_url, content=body, headers=headers)
                else:
                    response = await self._client().post(target_url, json=body, headers=headers)
                if response.status_code < 300:
                    return
                log.warning("webhook %s answered %s", target_url, response.status_code)
            except httpx.HTTPError as exc:
                log.warning("webhook %s failed: %r", target_url, exc)
            await asyncio.sleep(min(2**attempt * 0.5, 10))

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._http is not None:
            await self._http.aclose()
