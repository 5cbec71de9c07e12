"""What every partner adapter's settings share: variables named as in `.env.example`, read by
pydantic-settings from the environment, or (as the registry does) from the variables the
process read, `.env` included (`Settings.env`); a partner URL left unset points at the
partner's path on the sandbox (`SANDBOX_URL`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Self

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PartnerSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    sandbox_url: str = Field("http://127.0.0.1:8100", validation_alias="SANDBOX_URL")
    # The partner's URL: each adapter names its variable (NETSUITE_BASE_URL, …) and where the
    # sandbox plays it.
    configured_url: str | None = None
    sandbox_path: ClassVar[str] = ""
    # The fields holding credentials: outside the local demo, never empty or the sandbox's.
    secret_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        """From the process's variables (`Settings.env`) or a test's; empty counts as unset."""
        return cls.model_validate({name: value for name, value in env.items() if value})

    @property
    def url(self) -> str:
        """The configured URL, or the partner's path on the sandbox."""
        return self.on_sandbox(self.configured_url, self.sandbox_path)

    @property
    def real(self) -> bool:
        """Whether it points at a partner's system rather than the sandbox (or a local one)."""
        default = type(self).model_fields["configured_url"].default
        return self.configured_url not in (None, default)

    def unsafe_secrets(self) -> list[str]:
        """The variables of its credentials left empty or at the sandbox's value."""
        unsafe = []
        for name in self.secret_fields:
            field = type(self).model_fields[name]
            if getattr(self, name) in ("", field.default):
                unsafe.append(str(field.validation_alias))
        return unsafe

    def on_sandbox(self, configured: str | None, path: str) -> str:
        """`configured`, or `path` on the sandbox."""
        return (configured or f"{self.sandbox_url.rstrip('/')}{path}").rstrip("/")
