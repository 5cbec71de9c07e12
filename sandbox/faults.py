"""Fault injection per sandbox system: latency, random or counted 5xx / 429 / business errors,
a token-bucket rate limit, full outage, and lost answers (the request takes effect, then the
connection is cut before the caller hears back: what idempotency exists for). Set through
`PUT /_sandbox/faults/{system}` or the `SANDBOX_FAULTS` env (JSON:
{"netsuite": {"fail_next": 2}, ...})."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

SYSTEMS = (
    "netsuite", "avatax", "shipstation", "shopify", "amazon", "walmart", "sendgrid", "pos",
    "shipbob",
)  # fmt: skip


class FaultProfile(BaseModel):
    latency_ms: int = Field(0, ge=0)
    error_rate: float = Field(0.0, ge=0, le=1, description="share of requests answered 5xx")
    throttle_rate: float = Field(0.0, ge=0, le=1, description="share answered 429")
    retry_after_s: float = Field(1.0, ge=0)
    rate_limit_per_s: float | None = Field(None, gt=0, description="token bucket, burst = rate")
    outage: bool = False
    fail_next: int = Field(0, ge=0, description="the next N matching requests get a 5xx")
    throttle_next: int = Field(0, ge=0, description="the next N matching requests get a 429")
    reject_next: int = Field(0, ge=0, description="the next N matching requests get a 400")
    lose_response_next: int = Field(
        0, ge=0, description="the next N matching requests take effect, then the answer is cut"
    )
    lose_response_rate: float = Field(
        0.0, ge=0, le=1, description="share of requests that take effect and lose their answer"
    )
    match: str | None = Field(None, description="regex on 'METHOD /path' the counters apply to")


def _body(system: str, status: int, message: str) -> dict[str, Any]:
    """The error envelope each vendor really uses."""
    if system == "netsuite":
        code = {400: "INVALID_CONTENT", 429: "CONCURRENCY_LIMIT_EXCEEDED"}.get(
            status, "UNEXPECTED_ERROR"
        )
        return {
            "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
            "title": message,
            "status": status,
            "o:errorDetails": [{"detail": f"Sandbox: {message}", "o:errorCode": code}],
        }
    if system == "avatax":
        code = {400: "InvalidInputData", 429: "TooManyRequests"}.get(status, "ServerError")
        return {"error": {"code": code, "message": f"Sandbox: {message}", "target": "HttpRequest"}}
    if system == "shopify" and status == 429:
        return {
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {
                "cost": {
                    "requestedQueryCost": 10,
                    "actualQueryCost": None,
                    "throttleStatus": {
                        "maximumAvailable": 2000.0,
                        "currentlyAvailable": 0,
                        "restoreRate": 100.0,
                    },
                }
            },
        }
    if system == "shopify":
        return {"errors": [{"message": f"Sandbox: {message}"}]}
    if system == "walmart":
        return {"errors": [{"code": f"SANDBOX_{status}", "description": f"Sandbox: {message}",
                            "severity": "ERROR", "category": "SYSTEM", "causes": []}]}  # fmt: skip
    if system == "amazon":
        code = {429: "QuotaExceeded", 400: "InvalidInput"}.get(status, "InternalFailure")
        return {"errors": [{"code": code, "message": f"Sandbox: {message}", "details": ""}]}
    if system == "shipstation":
        return {"Message": f"Sandbox: {message}", "ExceptionMessage": message}
    return {"error": "sandbox_fault", "message": message}


MESSAGES = {
    500: "injected server error",
    503: "injected outage or error",
    429: "injected rate limit",
    400: "injected business error",
}


class CutConnection(Response):
    """Announces a body and ends the connection before sending it: the caller's HTTP client
    fails with an incomplete answer (httpx `RemoteProtocolError`), whatever the route did."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1024"), (b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        # Returning with the body unfinished makes the server close the connection.


class _Bucket:
    def __init__(self, rate: float) -> None:
        self.rate, self.tokens, self.at = rate, rate, time.monotonic()

    def take(self) -> float:
        """0 when a token was taken, else seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class FaultInjector:
    def __init__(self, initial: dict[str, dict[str, Any]] | None = None) -> None:
        self.profiles: dict[str, FaultProfile] = {s: FaultProfile() for s in SYSTEMS}
        self.buckets: dict[str, _Bucket] = {}
        self.requests: dict[str, int] = dict.fromkeys(SYSTEMS, 0)
        self.injected: dict[str, int] = dict.fromkeys(SYSTEMS, 0)
        self.lost: dict[str, int] = dict.fromkeys(SYSTEMS, 0)
        self.random = random.Random(7)
        for system, profile in (initial or {}).items():
            self.set(system, FaultProfile.model_validate(profile))

    def set(self, system: str, profile: FaultProfile) -> None:
        self.profiles[system] = profile
        self.buckets.pop(system, None)
        if profile.rate_limit_per_s:
            self.buckets[system] = _Bucket(profile.rate_limit_per_s)

    def reset(self) -> None:
        for system in SYSTEMS:
            self.set(system, FaultProfile())

    def _decide(self, system: str, request_line: str) -> tuple[int, float] | None:
        """(status, retry_after) of the fault to inject, or None."""
        p = self.profiles[system]
        if p.outage:
            return 503, p.retry_after_s
        bucket = self.buckets.get(system)
        if bucket:
            wait = bucket.take()
            if wait:
                return 429, max(p.retry_after_s, round(wait, 3))
        if not p.match or re.search(p.match, request_line):
            for field, status in (("fail_next", 500), ("throttle_next", 429), ("reject_next", 400)):
                if getattr(p, field):
                    setattr(p, field, getattr(p, field) - 1)
                    return status, p.retry_after_s
        if p.error_rate and self.random.random() < p.error_rate:
            return 503, p.retry_after_s
        if p.throttle_rate and self.random.random() < p.throttle_rate:
            return 429, p.retry_after_s
        return None

    def _lose(self, system: str, request_line: str) -> bool:
        """Whether the answer to this request (already carried out) is cut."""
        p = self.profiles[system]
        if p.lose_response_next and (not p.match or re.search(p.match, request_line)):
            p.lose_response_next -= 1
            return True
        return bool(p.lose_response_rate) and self.random.random() < p.lose_response_rate

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        system = request.url.path.strip("/").split("/", 1)[0]
        if system not in self.profiles:
            return await call_next(request)
        self.requests[system] += 1
        profile = self.profiles[system]
        if profile.latency_ms:
            await asyncio.sleep(profile.latency_ms / 1000)
        request_line = f"{request.method} {request.url.path}"
        fault = self._decide(system, request_line)
        if fault is None:
            response = await call_next(request)
            if not self._lose(system, request_line):
                return response
            async for _ in response.body_iterator:  # type: ignore[attr-defined]
                pass  # the route ran to its end: the effect is there, only the answer is lost
            self.lost[system] += 1
            return CutConnection()
        self.injected[system] += 1
        status, retry_after = fault
        headers = {"Retry-After": f"{retry_after:g}"} if status in (429, 503) else {}
        if system == "shipstation" and status == 429:
            headers |= {"X-Rate-Limit-Limit": "40", "X-Rate-Limit-Remaining": "0",
                        "X-Rate-Limit-Reset": f"{retry_after:g}"}  # fmt: skip
        if system == "shipbob" and status == 429:
            headers |= {"x-retry-after": f"{retry_after:g}", "x-remaining-calls": "0"}
        if system == "shopify" and status == 429:
            status = 200  # Shopify GraphQL reports THROTTLED in a 200 body
        message = MESSAGES[fault[0]]
        return JSONResponse(_body(system, fault[0], message), status_code=status, headers=headers)
