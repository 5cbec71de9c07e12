"""Typed partner errors. Adapters raise these; activities turn them into retry decisions."""

from __future__ import annotations

from canonical.status import ExceptionCode


class PartnerError(Exception):
    """Any failure talking to an external system."""

    def __init__(self, system: str, message: str) -> None:
        super().__init__(f"{system}: {message}")
        self.system = system
        self.message = message


class TransientError(PartnerError):
    """Connection errors, timeouts, 5xx: the same call may succeed later."""


class RateLimitedError(TransientError):
    """The partner asked us to slow down; retry after `retry_after` seconds."""

    def __init__(self, system: str, message: str, retry_after: float) -> None:
        super().__init__(system, message)
        self.retry_after = retry_after


class BusinessError(PartnerError):
    """The partner understood and refused: retrying the same call cannot help."""

    def __init__(self, system: str, code: ExceptionCode, message: str) -> None:
        super().__init__(system, message)
        self.code = code


def no_store_pickup(system: str, order_number: str) -> BusinessError:
    """A channel whose orders this orchestrator never takes as store pickups (only Shopify's
    local pickup starts click-and-collect) has no collection to confirm."""
    return BusinessError(
        system, ExceptionCode.CHANNEL_REJECTED, f"{order_number} is not a store pickup order here"
    )
