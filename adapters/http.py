"""One httpx client per partner, with timeouts and the error classification every adapter shares."""

from __future__ import annotations

import time
from typing import Any

import httpx

from adapters.errors import RateLimitedError, TransientError
from adapters.pacing import Pacer
from infra import worker_metrics

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_RETRY_AFTER = 1.0


def retry_after_seconds(
    response: httpx.Response, *headers: str, default: float = DEFAULT_RETRY_AFTER
) -> float:
    """Seconds to wait from `Retry-After` (or a vendor header), never negative."""
    for name in ("Retry-After", *headers):
        value = response.headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            continue
    return default


def error_list(response: httpx.Response) -> list[dict[str, Any]]:
    """The `{"errors": [...]}` envelope Amazon, Walmart and SendGrid answer with (never empty;
    a body that is not JSON becomes one error with its text)."""
    try:
        errors: list[dict[str, Any]] = response.json().get("errors") or [{}]
    except (ValueError, AttributeError):
        errors = [{"message": response.text[:200], "description": response.text[:200]}]
    return errors


def _outcome(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return "client_error" if status >= 400 else "ok"


class PartnerHttp:
    """Sends requests and raises `TransientError`/`RateLimitedError`; other 4xx come back
    to the adapter, which knows the vendor's error envelope. With `calls_per_second` the
    requests are paced to the partner's quota."""

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        retry_after_headers: tuple[str, ...] = (),
        default_retry_after: float = DEFAULT_RETRY_AFTER,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        calls_per_second: float | None = None,
    ) -> None:
        self.system = system
        self._pacer = Pacer(calls_per_second) if calls_per_second else None
        self._retry_after_headers = retry_after_headers
        self._default_retry_after = default_retry_after
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, auth=auth, timeout=timeout
        )

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._pacer is not None:
            await self._pacer.wait()
        started = time.perf_counter()
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            worker_metrics.partner_call(self.system, "unreachable", time.perf_counter() - started)
            raise TransientError(self.system, f"{method} {path}: {exc!r}") from exc
        worker_metrics.partner_call(
            self.system, _outcome(response.status_code), time.perf_counter() - started
        )
        if response.status_code == 429:
            raise RateLimitedError(
                self.system,
                f"{method} {path}: 429 Too Many Requests",
                retry_after_seconds(
                    response, *self._retry_after_headers, default=self._default_retry_after
                ),
            )
        if response.status_code >= 500:
            raise TransientError(
                self.system, f"{method} {path}: HTTP {response.status_code} {response.text[:200]}"
            )
        return response

    async def aclose(self) -> None:
        await self._client.aclose()
