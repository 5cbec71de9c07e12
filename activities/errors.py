"""Error classification shared by every activity: the one place retry decisions are made."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from temporalio.exceptions import ApplicationError

from adapters.errors import BusinessError, RateLimitedError, TransientError

TRANSIENT = "Transient"
RATE_LIMITED = "RateLimited"


@contextmanager
def partner_call() -> Iterator[None]:
    """Transient -> retried with backoff; rate limited -> retried after the partner's delay;
    business error -> non-retryable, typed with its `ExceptionCode` so the saga can decide."""
    try:
        yield
    except RateLimitedError as exc:
        raise ApplicationError(
            str(exc),
            type=RATE_LIMITED,
            next_retry_delay=timedelta(seconds=exc.retry_after),
        ) from exc
    except TransientError as exc:
        raise ApplicationError(str(exc), type=TRANSIENT) from exc
    except BusinessError as exc:
        raise ApplicationError(
            exc.message, exc.system, type=exc.code.value, non_retryable=True
        ) from exc
