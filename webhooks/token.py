"""Shared-secret check for partners whose notifications are not signed (ShipStation V1,
Amazon's SQS bridge): the secret travels in the URL configured at the partner."""

import hmac


def token_valid(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
