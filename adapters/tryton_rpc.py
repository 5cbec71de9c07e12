"""Tryton's JSON-RPC (`POST /<db>/rpc/`) as a session: log in once, reuse the session, log in
again when it expires, and turn Tryton's answers into the project's typed errors."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import date, datetime
from decimal import Decimal
from itertools import count
from typing import Any

import httpx

from adapters.errors import BusinessError, TransientError
from adapters.http import PartnerHttp
from canonical import ExceptionCode

SYSTEM = "tryton"


def _encode(value: Any) -> Any:
    """Tryton tags what JSON lacks: Decimal, date and datetime travel as `__class__` objects."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, datetime):
        return {
            "__class__": "datetime", "year": value.year, "month": value.month, "day": value.day,
            "hour": value.hour, "minute": value.minute, "second": value.second,
            "microsecond": value.microsecond,
        }  # fmt: skip
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    raise TypeError(f"cannot send {type(value).__name__} to Tryton")


def _decode(obj: dict[str, Any]) -> Any:
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "date":
        return date(obj["year"], obj["month"], obj["day"])
    if kind == "datetime":
        return datetime(
            obj["year"], obj["month"], obj["day"], obj["hour"], obj["minute"], obj["second"],
            obj.get("microsecond", 0),
        )  # fmt: skip
    return obj


def rpc_error(error: Any) -> Exception:
    """Tryton's `error` member: `["UserError", [message, description, domain]]` for what the
    user (we) did wrong; a concurrent write or anything else server-side may pass on retry."""
    if isinstance(error, list) and len(error) == 2 and error[0] in ("UserError", "UserWarning"):
        details = error[1] if isinstance(error[1], list) else [error[1]]
        if error[0] == "UserWarning":  # (name, message, description)
            details = details[1:]
        message = " ".join(str(part) for part in details[:2] if part)
        return BusinessError(SYSTEM, ExceptionCode.ERP_REJECTED, message)
    if isinstance(error, list) and error and error[0] == "ConcurrencyException":
        return TransientError(SYSTEM, f"concurrent change: {error[1]}")
    first = error[0] if isinstance(error, list) and error else error
    return TransientError(SYSTEM, f"server error: {str(first)[:300]}")


class TrytonRpc:
    def __init__(self, url: str, database: str, user: str, password: str) -> None:
        self._http = PartnerHttp(SYSTEM, url, timeout=httpx.Timeout(60.0, connect=5.0))
        self._path = f"/{database}/rpc/"
        self._user, self._password = user, password
        self._session: str | None = None
        self._login_lock = asyncio.Lock()
        self._ids = count(1)
        self.context: dict[str, Any] = {}

    async def _post(self, method: str, params: list[Any]) -> tuple[int, Any]:
        body = json.dumps(
            {"id": next(self._ids), "method": method, "params": params}, default=_encode
        )
        headers = {"Content-Type": "application/json"}
        if self._session:
            headers["Authorization"] = f"Session {self._session}"
        response = await self._http.request("POST", self._path, content=body, headers=headers)
        if response.status_code != 200:
            return response.status_code, response.text[:200]
        return 200, json.loads(response.content, object_hook=_decode)

    async def _login(self, stale: str | None) -> None:
        async with self._login_lock:
            if self._session != stale:  # another call logged in meanwhile
                return
            self._session = None
            status, answer = await self._post(
                "common.db.login", [self._user, {"password": self._password}, "en"]
            )
            if status != 200 or answer.get("error"):
                # Credentials are fixed by ops, not by the order: keep retrying, visibly.
                raise TransientError(SYSTEM, f"login as {self._user} refused: {answer}")
            uid, token, _ = answer["result"]
            self._session = base64.b64encode(f"{self._user}:{uid}:{token}".encode()).decode()
            if not self.context:
                self.context = await self.call("model.res.user.get_preferences", True, {})

    async def call(self, method: str, *params: Any) -> Any:
        """One JSON-RPC call; logs in first, and once more when the session has expired."""
        for attempt in (1, 2):
            session = self._session
            if session is None:
                await self._login(None)
                session = self._session
            status, answer = await self._post(method, list(params))
            if status in (401, 403) and attempt == 1:
                await self._login(session)
                continue
            if status != 200:
                raise TransientError(SYSTEM, f"{method}: HTTP {status} {answer}")
            if answer.get("error"):
                raise rpc_error(answer["error"])
            return answer.get("result")
        raise AssertionError("unreachable")

    async def model(self, model: str, method: str, *args: Any, **context: Any) -> Any:
        """`model.<model>.<method>` with the user's context (company) plus `context`."""
        if not self.context:
            await self._login(self._session)
        return await self.call(f"model.{model}.{method}", *args, {**self.context, **context})

    async def search_read(
        self, model: str, domain: list[Any], fields: list[str], **context: Any
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self.model(
            model, "search_read", domain, 0, None, None, fields, **context
        )
        return rows

    async def aclose(self) -> None:
        await self._http.aclose()
