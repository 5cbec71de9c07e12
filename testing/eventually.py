"""Waiting for something to become true, in tests and history recording: one poll loop."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, overload

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from canonical import OrderStatus

T = TypeVar("T")


@overload
async def eventually(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], object] = ...,
    *,
    timeout: float = ...,
    every: float = ...,
    what: str = ...,
) -> T: ...


@overload
async def eventually(
    probe: Callable[[], T],
    until: Callable[[T], object] = ...,
    *,
    timeout: float = ...,
    every: float = ...,
    what: str = ...,
) -> T: ...


async def eventually(
    probe: Callable[[], Any],
    until: Callable[[Any], object] = bool,
    *,
    timeout: float = 30,
    every: float = 0.05,
    what: str = "",
) -> Any:
    """Call `probe` (sync or async) until `until(value)` holds; return that value. Past
    `timeout` seconds: AssertionError naming `what` and the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{what or 'condition'} not reached in {timeout} s; last: {value!r}"
            )
        await asyncio.sleep(every)


class _HasStatus(Protocol):
    status: OrderStatus


V = TypeVar("V", bound=_HasStatus)


async def reaches(
    handle: WorkflowHandle[Any, Any],
    query: Callable[[Any], V],
    *statuses: OrderStatus,
    timeout: float = 30,
) -> V:
    """The workflow's status view (`query`) once its status is one of `statuses`; a workflow
    started in the background (after a webhook's answer) is waited for too."""

    async def view_once_started() -> V | None:
        try:
            return await handle.query(query)
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
            return None

    view: V | None = await eventually(
        view_once_started,
        lambda view: view is not None and view.status in statuses,
        timeout=timeout,
        what=f"{handle.id} in {', '.join(s.value for s in statuses)}",
    )
    assert view is not None
    return view
