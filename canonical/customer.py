"""Who a customer is across orders and channels: the address and phone normalized (an e-mail
as `email-validator` normalizes it, lower-cased; a phone as E.164 with `phonenumbers`), a
marketplace's relay address (Amazon's, Walmart's) never taken for the customer's own, and
their marketing consent with when and where it was given."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel

# Marketplaces hide the buyer's address behind one that relays to it: never merged with the
# customer's real address, and never a key shared with another channel's customer.
RELAY_DOMAINS = ("marketplace.amazon.com", "relay.walmart.com")


class ConsentState(StrEnum):
    SUBSCRIBED = "subscribed"
    NOT_SUBSCRIBED = "not_subscribed"
    UNSUBSCRIBED = "unsubscribed"
    PENDING = "pending"  # double opt-in not confirmed yet


class MarketingConsent(BaseModel):
    state: ConsentState
    opt_in_level: str | None = None  # single_opt_in, confirmed_opt_in, unknown
    updated_at: datetime | None = None
    source: str = ""  # where it was given: the channel, and how it was collected


def normalized_email(address: str | None) -> str | None:
    """The address as one customer's, or None when it is none."""
    if not address or not address.strip():
        return None
    try:
        checked = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return checked.normalized.lower()


def normalized_phone(number: str | None, region: str = "US") -> str | None:
    """The number as E.164 (`+15085550147`), or None when it is not a valid number."""
    if not number or not number.strip():
        return None
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_relay(email: str) -> bool:
    return email.rsplit("@", 1)[-1] in RELAY_DOMAINS


def identity_key(email: str | None, phone: str | None, region: str = "US") -> str | None:
    """What makes two orders one customer's: the normalized e-mail, else the phone; a relay
    address is a key of its own. None when the order names neither."""
    address, number = normalized_email(email), normalized_phone(phone, region)
    if address:
        return f"{'relay' if is_relay(address) else 'email'}:{address}"
    return f"phone:{number}" if number else None


def reference(key: str) -> str:
    """The customer's id with partners: a digest of the key, so no id carries the e-mail or
    phone (an id outlives an erasure)."""
    return "cust-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def customer_ref(email: str | None, phone: str | None, region: str = "US") -> str | None:
    """The reference of the customer these name (`reference` of their `identity_key`); None
    when they name nobody."""
    key = identity_key(email, phone, region)
    return reference(key) if key else None
