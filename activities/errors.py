"""Error classification shared by every activity: the one place retry decisions are made."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from adapters.errors import BusinessError, RateLimitedError, TransientError

TRANSIENT = "Transient"
RATE_LIMITED = "RateLimited"


@contextmanager
def partner_call() -> Iterator[None]:
    """Transient -> retried with backoff; rate limited -> retried after the partner's delay;
    business error -> non-retryable, typed with its `ExceptionCode` so the saga can decide.
    An expected retry is one warning line (the error marked benign, so the SDK adds no
    traceback of its own)."""
    try:
        yield
    except RateLimitedError as exc:
        activity.logger.warning("%s: retried in %g s", exc, exc.retry_after)
        raise ApplicationError(
            str(exc),
            type=RATE_LIMITED,
            next_retry_delay=timedelta(seconds=exc.retry_after),
            category=ApplicationErrorCategory.BENIGN,
        ) from exc
    except TransientError as exc:
        activity.logger.warning("%s: retried", exc)
        raise ApplicationError(
            str(exc), type=TRANSIENT, category=ApplicationErrorCategory.BENIGN
        ) from exc
    except BusinessError as exc:
        raise ApplicationError(
            exc.message, exc.system, type=exc.code.value, non_retryable=True
        ) from exc
