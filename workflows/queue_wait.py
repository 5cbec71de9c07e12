"""Telling waiting from failing when an activity runs out of its schedule-to-close budget.

Temporal counts the budget from when a call is scheduled, so a call queued behind a rate
limit (the ERP's 2 calls/s under a flash sale's backlog) or throttled by its partner uses it
up without anything being wrong. Such a call is scheduled again rather than held for support;
a budget spent on errors still holds the order."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, RetryState, TimeoutType
from temporalio.exceptions import TimeoutError as TemporalTimeoutError

with workflow.unsafe.imports_passed_through():
    from activities.errors import RATE_LIMITED

QUEUE_TIMEOUTS = (TimeoutType.SCHEDULE_TO_CLOSE, TimeoutType.SCHEDULE_TO_START)


def only_waited(err: ActivityError) -> bool:
    """The budget ran out while the call waited for its turn in the queue (no attempt failed)
    or on its partner's quota (the last answer was 'slow down'), not on errors."""
    cause = err.cause
    # A call never started times out on either: schedule-to-start defaults to the same time.
    if isinstance(cause, TemporalTimeoutError) and cause.type in QUEUE_TIMEOUTS:
        cause = cause.cause
        if cause is None:
            return True
    elif err.retry_state is not RetryState.TIMEOUT:
        return False
    return isinstance(cause, ApplicationError) and cause.type == RATE_LIMITED
