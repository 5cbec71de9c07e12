"""Readiness probes: each check names what it found wrong, or None; the probe answers 200 when
none did, else 503 with every reason (what a load balancer or Kubernetes acts on)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

Check = Callable[[], Awaitable[str | None]]


async def readiness(checks: Mapping[str, Check]) -> tuple[int, dict[str, str]]:
    found = {name: (await check()) or "ok" for name, check in checks.items()}
    ready = all(result == "ok" for result in found.values())
    return (200 if ready else 503), {"status": "ready" if ready else "not ready", **found}
