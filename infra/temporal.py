"""Connecting to Temporal with the project's data converter; registering search attributes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from infra.codec import encrypted_converter
from infra.settings import Settings
from infra.tracing import temporal_interceptors


def security(settings: Settings) -> dict[str, Any]:
    """How to authenticate to the server: an API key (over TLS), an mTLS client certificate,
    or nothing (a local or private server)."""
    if settings.temporal_tls_cert or settings.temporal_tls_key:
        if not (settings.temporal_tls_cert and settings.temporal_tls_key):
            raise ValueError("mTLS needs both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY")
        tls = TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
        return {"tls": tls}
    if settings.temporal_api_key:
        return {"api_key": settings.temporal_api_key, "tls": True}
    return {}


async def connect(settings: Settings, target: str | None = None) -> Client:
    """A client whose payloads are sealed with the settings' keys (so are its workers')."""
    return await Client.connect(
        target or settings.temporal_target,
        namespace=settings.temporal_namespace,
        data_converter=encrypted_converter(settings.keyring, settings.customer_keys)
        if settings.payload_encryption
        else pydantic_data_converter,
        interceptors=temporal_interceptors(),  # traces, when the OTEL_* settings turn them on
        **security(settings),
    )


async def temporal_problem(client: Client, timeout: float = 2.0) -> str | None:
    """Why Temporal cannot take calls now (for readiness probes); None when it can."""
    try:
        await client.service_client.check_health(timeout=timedelta(seconds=timeout))
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        return f"unreachable: {exc}"
    return None


def unreachable(exc: RuntimeError) -> bool:
    """Whether `Client.connect` failed because the server could not be reached."""
    return "connect" in str(exc).lower()


async def connect_when_up(
    settings: Settings, log: logging.Logger, first_wait: float = 1.0, longest_wait: float = 30.0
) -> Client:
    """Connect, waiting for a Temporal that is down (a worker started before its server, or
    while it restarts): one log line per attempt, the wait doubling up to `longest_wait`."""
    wait = first_wait
    while True:
        try:
            return await connect(settings)
        except RuntimeError as exc:
            if not unreachable(exc):
                raise
            log.warning(
                "Temporal at %s is not reachable; trying again in %.0f s",
                settings.temporal_target,
                wait,
            )
        await asyncio.sleep(wait)
        wait = min(wait * 2, longest_wait)


async def ensure_search_attributes(client: Client, keys: Iterable[SearchAttributeKey[Any]]) -> None:
    """Register keyword search attributes on a server that lacks them (idempotent)."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for key in keys
        if key.name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )


def ui_url(settings: Settings, workflow_id: str | None = None) -> str:
    base = f"http://localhost:{settings.temporal_ui_port}/namespaces/{settings.temporal_namespace}"
    return f"{base}/workflows/{workflow_id}" if workflow_id else f"{base}/workflows"


UNAVAILABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}


class TemporalUnavailable(Exception):
    """Temporal could not be reached: the delivery is kept and re-driven later."""


@dataclass
class TemporalCalls:
    """How many Temporal calls made within a piece of work went through."""

    succeeded: int = 0


_OBSERVED: ContextVar[TemporalCalls | None] = ContextVar("temporal_calls", default=None)


@contextmanager
def observed_calls() -> Iterator[TemporalCalls]:
    """Count the `temporal_call`s made inside (in this task and the tasks it starts): only
    a call that went through proves Temporal is back."""
    calls = TemporalCalls()
    token = _OBSERVED.set(calls)
    try:
        yield calls
    finally:
        _OBSERVED.reset(token)


@contextmanager
def temporal_call() -> Iterator[None]:
    """A call to Temporal: unreachable becomes `TemporalUnavailable`; one that went through
    is counted by the enclosing `observed_calls`."""
    try:
        yield
        observed = _OBSERVED.get()
        if observed is not None:
            observed.succeeded += 1
    except RPCError as exc:
        if exc.status in UNAVAILABLE:
            raise TemporalUnavailable(exc.message) from exc
        raise
    except RuntimeError as exc:  # Client.connect failed
        if unreachable(exc):
            raise TemporalUnavailable(str(exc)) from exc
        raise
