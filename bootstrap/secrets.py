"""Outside the local demo (`APP_ENV=production`, or any partner URL pointing at a real system)
a service refuses to start on a default or empty secret, or without encryption keys, and names
what to set."""

from __future__ import annotations

import logging

from adapters.registry import partner_settings
from canonical.order import order_key_of_workflow
from infra.keyring import KeyringError
from infra.logs import configure_process_logging
from infra.settings import Settings
from infra.tracing import TracingSettingsError, configure_tracing


class UnsafeSettings(ValueError):
    """The sentence to print before exiting."""


def refuse_unsafe_settings(settings: Settings) -> None:
    partners = partner_settings(settings)
    real = [type(p).__name__.removesuffix("Settings") for p in partners if p.real]
    if not settings.production and not real:
        return
    why = "APP_ENV=production" if settings.production else f"real {', '.join(real)}"
    if not settings.payload_encryption:
        raise UnsafeSettings(
            f"Refusing to start ({why}): PAYLOAD_ENCRYPTION=off would store customer data "
            "in Temporal unencrypted; remove it."
        )
    unsafe = settings.unsafe_secrets() + [v for p in partners for v in p.unsafe_secrets()]
    if unsafe:
        raise UnsafeSettings(
            f"Refusing to start ({why}): set {', '.join(unsafe)} — each is empty or the "
            "local demo's public value."
        )
    try:
        settings.keyring  # noqa: B018 - loaded now, so a missing key stops the start
    except KeyringError as exc:
        raise UnsafeSettings(f"Refusing to start ({why}): {exc}.") from None


def may_start(service: str, settings: Settings, metrics_address: str | None = None) -> bool:
    """A service process's logging and tracing set up (`configure_process_logging`,
    `configure_tracing`), and whether it may start: an unsafe or unsupported setting is
    logged in one line and refused."""
    configure_process_logging(service, settings.env, metrics_address)
    try:
        refuse_unsafe_settings(settings)
        configure_tracing(service, settings.env, order_key_of_workflow)
    except (UnsafeSettings, TracingSettingsError) as exc:
        logging.getLogger(service).error("%s", exc)
        return False
    return True
